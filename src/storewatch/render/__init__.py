"""storewatch.render."""
