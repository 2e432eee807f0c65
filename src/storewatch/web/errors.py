"""Errors the services raise for the routes to map: not allowed (403), not found (404), conflict (409), invalid
input (422).

Each names what is wrong in words a person can act on, and, for invalid input, the field, so a form shows the
message next to it.
"""

from __future__ import annotations

from storewatch.errors import StorewatchError


class ServiceError(StorewatchError):
    status = 400

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class ForbiddenError(ServiceError):
    """The user's role does not allow it (logged in, in scope, but not theirs to change)."""

    status = 403


class NotFoundError(ServiceError):
    status = 404


class ConflictError(ServiceError):
    status = 409


class InvalidError(ServiceError):
    status = 422
