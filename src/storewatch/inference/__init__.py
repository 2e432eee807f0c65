"""storewatch.inference."""
