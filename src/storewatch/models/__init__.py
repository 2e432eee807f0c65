"""storewatch.models."""
