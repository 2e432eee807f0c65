"""storewatch.bench."""
