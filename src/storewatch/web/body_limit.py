"""A cap on request bodies: a body larger than the limit is answered 413 before the app reads it all.

A declared ``Content-Length`` over the limit is refused at once, without reading the body; a chunked (or lying)
body is counted as it is read, and the read that goes over raises ``BodyTooLargeError`` (an HTTP 413), which the
app's error handlers turn into a JSON or page answer like any other. Every refusal is logged (path, size, client).

>>> BodyLimit(None, max_bytes=0)  # type: ignore[arg-type]
Traceback (most recent call last):
ValueError: max_bytes must be positive, not 0
"""

from __future__ import annotations

import json
import logging

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger(__name__)


class BodyTooLargeError(HTTPException):
    def __init__(self, max_bytes: int) -> None:
        super().__init__(413, f"request body over the limit of {max_bytes} bytes")


class BodyLimit:
    """ASGI middleware: HTTP request bodies of at most ``max_bytes``."""

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        if max_bytes <= 0:
            raise ValueError(f"max_bytes must be positive, not {max_bytes}")
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and declared > self.max_bytes:
            self._log(scope, f"declares {declared} bytes")
            await _refuse(send, self.max_bytes)
            return
        seen = 0
        started = False

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    self._log(scope, f"sent over {seen} bytes")
                    raise BodyTooLargeError(self.max_bytes)
            return message

        async def watched(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, watched)
        except BodyTooLargeError:
            if started:
                raise
            await _refuse(send, self.max_bytes)

    def _log(self, scope: Scope, what: str) -> None:
        client = scope.get("client")
        log.warning(
            "request body refused (limit %d bytes): %s %s %s from %s",
            self.max_bytes,
            scope.get("method"),
            scope.get("path"),
            what,
            client[0] if client else "?",
        )


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


async def _refuse(send: Send, max_bytes: int) -> None:
    body = json.dumps({"detail": f"request body over the limit of {max_bytes} bytes"}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
               (b"connection", b"close")]  # fmt: skip
    await send({"type": "http.response.start", "status": 413, "headers": headers})
    await send({"type": "http.response.body", "body": body})
