"""storewatch.video."""
