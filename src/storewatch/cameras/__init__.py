"""Camera discovery and configuration helpers (ONVIF)."""
