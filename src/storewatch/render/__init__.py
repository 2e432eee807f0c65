"""Rendering analysis results onto frames."""
