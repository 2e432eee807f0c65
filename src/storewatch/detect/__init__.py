"""storewatch.detect."""
