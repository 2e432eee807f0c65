"""Offline analysis of recorded video: detection and tracking over a file."""
