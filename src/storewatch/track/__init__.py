"""storewatch.track."""
