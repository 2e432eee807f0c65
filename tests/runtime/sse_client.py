"""A small server-sent events client for tests: one HTTP connection, messages parsed as a browser would."""

from __future__ import annotations

import http.client
import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit


@dataclass
class SseMessage:
    id: str | None = None
    data: str = ""
    retry: int | None = None
    comments: list[str] = field(default_factory=list)

    def json(self) -> Any:
        return json.loads(self.data)


class SseClient:
    """Connects to ``url`` (sending ``Last-Event-ID`` if given) and reads the first block (the feed's hello), so a
    message published after the constructor returns reaches this client."""

    def __init__(self, url: str, last_event_id: str | None = None, timeout_s: float = 5.0) -> None:
        parts = urlsplit(url)
        self.conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=timeout_s)
        headers = {"Accept": "text/event-stream"}
        if last_event_id is not None:
            headers["Last-Event-ID"] = last_event_id
        self.conn.request("GET", parts.path + (f"?{parts.query}" if parts.query else ""), headers=headers)
        self.response = self.conn.getresponse()
        self.status = self.response.status
        self.hello = self.next() if self.status == 200 else None

    def next(self) -> SseMessage:
        """The next block (an event or a comment-only heartbeat); ``TimeoutError`` when none comes in time,
        ``EOFError`` when the server ended the stream."""
        message = SseMessage()
        seen = False
        while True:
            raw = self.response.readline()
            if not raw:
                raise EOFError("the server ended the stream")
            line = raw.decode().rstrip("\n")
            if line == "":
                if seen:
                    return message
                continue
            seen = True
            name, _, value = line.partition(":")
            value = value.removeprefix(" ")
            if name == "":
                message.comments.append(value)
            elif name == "id":
                message.id = value
            elif name == "data":
                message.data = f"{message.data}\n{value}" if message.data else value
            elif name == "retry":
                message.retry = int(value)

    def next_event(self) -> SseMessage:
        """The next message with data (heartbeats skipped)."""
        while True:
            message = self.next()
            if message.data:
                return message

    def close(self) -> None:
        self.response.close()  # the response holds the socket open otherwise
        self.conn.close()
