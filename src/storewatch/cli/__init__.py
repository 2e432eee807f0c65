"""storewatch.cli."""
