"""storewatch.config."""
