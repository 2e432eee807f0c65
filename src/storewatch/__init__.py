"""storewatch: camera-agnostic AI video analytics for retail loss prevention."""

__version__ = "0.1.0"
