"""Errors a person can act on.

Every error the product raises for bad input or a missing prerequisite derives from ``StorewatchError``: its
message names the thing that is wrong (file, key, value) and ``fix`` names the command or step that fixes it.
The command line prints these without a traceback and exits with status 2.
"""

from __future__ import annotations


class StorewatchError(Exception):
    """Base class for errors shown to people as a message, not a traceback."""

    def __init__(self, message: str, *, fix: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.fix = fix

    def __str__(self) -> str:
        return self.message if not self.fix else f"{self.message}\n  fix: {self.fix}"


class ModelError(StorewatchError):
    """A model is missing, corrupt or cannot be obtained."""


class ConfigError(StorewatchError):
    """A configuration file is missing, unreadable or invalid."""


class VideoError(StorewatchError):
    """A video source is missing, unreadable or empty."""
