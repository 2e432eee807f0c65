"""The live feed of the dashboard: new and changed events and alerts, pushed to browsers as server-sent events.

One small interface, two ways in. ``LiveHub`` (on the server's event loop) numbers each message, keeps the last
``replay`` of them and fans them out to every connected client that may see the message's store; each client has
a bounded queue that drops its oldest message when the browser reads too slowly (counted), so a stalled tab costs
neither memory nor the other clients anything. A ``ChangeSource`` feeds the hub:

* ``DatabasePoller`` (``storewatch serve``, a process apart from ``storewatch run``): every ``interval_s`` it reads
  the events whose ``updated_utc`` and the alerts whose raised/escalated/acknowledged time is at or after its
  cursor, minus an overlap (a transaction that committed late with an earlier time is still seen), and publishes
  those whose content changed since it last published them;
* ``BusSource`` (the app inside the process of a ``SiteRunner``): every event message from the in-process
  ``EventBus`` as it is published (alerts still come from the database: run a poller for them alongside).

Message ids are ``<feed>-<number>``; a browser reconnecting with ``Last-Event-ID`` first gets what it missed that
is still in the replay buffer (an id of an earlier run: the whole buffer), then the live messages. A comment line
goes out every ``heartbeat_s`` while nothing happens.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import threading
import uuid
from collections import OrderedDict, deque
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Protocol

import anyio

from storewatch.core.events import Event
from storewatch.runtime.bus import EventBus
from storewatch.web.scope import StoreScope

log = logging.getLogger(__name__)

RETRY_MS = 3000


@dataclass(frozen=True, slots=True)
class FeedMessage:
    kind: str
    """``event`` or ``alert`` (the SSE event name)."""
    store: str
    data: str
    """JSON of the public schema."""


@dataclass(frozen=True, slots=True)
class _Numbered:
    number: int
    message: FeedMessage
    wire: bytes


@dataclass(eq=False)
class _Client:
    scope: StoreScope
    size: int
    pending: deque[bytes] = field(default_factory=deque)
    ready: asyncio.Event = field(default_factory=asyncio.Event)
    dropped: int = 0

    def put(self, wire: bytes) -> None:
        if len(self.pending) >= self.size:
            self.pending.popleft()
            self.dropped += 1
        self.pending.append(wire)
        self.ready.set()


class LiveFeedBusyError(Exception):
    """``max_clients`` are connected already."""


class LiveHub:
    """Fan-out of ``FeedMessage`` to SSE clients; ``publish`` and ``stream`` run on the event loop."""

    def __init__(
        self, *, replay: int = 500, client_queue: int = 500, heartbeat_s: float = 15.0, max_clients: int = 64
    ) -> None:
        self.feed_id = uuid.uuid4().hex[:8]
        self.heartbeat_s, self.client_queue, self.max_clients = heartbeat_s, client_queue, max_clients
        self._recent: deque[_Numbered] = deque(maxlen=replay)
        self._clients: list[_Client] = []
        self._number = 0
        self._dropped_gone = 0
        self._closed = False

    def publish(self, message: FeedMessage) -> None:
        self._number += 1
        wire = f"id: {self.feed_id}-{self._number}\nevent: {message.kind}\ndata: {message.data}\n\n".encode()
        self._recent.append(_Numbered(self._number, message, wire))
        for client in self._clients:
            if client.scope.allows(message.store):
                client.put(wire)

    @property
    def position(self) -> str:
        """The id of the newest message (``<feed>-<number>``): a page rendered after reading it shows everything
        up to it, so its script can skip what a new stream replays up to there."""
        return f"{self.feed_id}-{self._number}"

    def stats(self) -> dict[str, int]:
        return {
            "clients": len(self._clients),
            "published": self._number,
            "dropped": self._dropped_gone + sum(c.dropped for c in self._clients),
        }

    def close(self) -> None:
        """End every stream (the server is stopping)."""
        self._closed = True
        for client in self._clients:
            client.ready.set()

    def open(self, last_event_id: str | None, scope: StoreScope) -> _Client:
        """Register a client, with what it missed since ``last_event_id`` queued first."""
        if len(self._clients) >= self.max_clients:
            raise LiveFeedBusyError(f"{len(self._clients)} live clients are connected (at most {self.max_clients})")
        client = _Client(scope, self.client_queue)
        after = self._after(last_event_id)
        for numbered in self._recent:
            if numbered.number > after and scope.allows(numbered.message.store):
                client.put(numbered.wire)
        self._clients.append(client)
        return client

    async def stream(self, client: _Client, gone: Callable[[], Awaitable[bool]]) -> AsyncIterator[bytes]:
        """The bytes for one client until it leaves (``gone()``, checked about every second) or the hub closes."""
        loop = asyncio.get_running_loop()
        try:
            yield f"retry: {RETRY_MS}\n: connected to {self.feed_id}\n\n".encode()
            last_sent = loop.time()
            while not self._closed:
                if client.pending:
                    while client.pending:
                        yield client.pending.popleft()
                    last_sent = loop.time()
                    continue
                client.ready.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(client.ready.wait(), timeout=min(self.heartbeat_s, 1.0))
                if self._closed or await gone():
                    return
                if not client.pending and loop.time() - last_sent >= self.heartbeat_s:
                    yield b": heartbeat\n\n"
                    last_sent = loop.time()
        finally:
            self._remove(client)

    def _remove(self, client: _Client) -> None:
        if client in self._clients:
            self._clients.remove(client)
            self._dropped_gone += client.dropped

    def _after(self, last_event_id: str | None) -> int:
        feed, _, number = (last_event_id or "").strip().partition("-")
        return int(number) if feed == self.feed_id and number.isdigit() else 0


class ChangeSource(Protocol):
    """Something that feeds the hub until cancelled."""

    async def run(self, hub: LiveHub) -> None: ...


# --- from the database ---------------------------------------------------------------------------------------------
class ChangeReader(Protocol):
    """What the poller reads: the changed rows since a moment, as (key, signature, message) triples."""

    def changes(self, since: datetime) -> Sequence[tuple[str, str, FeedMessage]]: ...


class DatabasePoller:
    def __init__(
        self, reader: ChangeReader, *, interval_s: float = 1.0, overlap_s: float = 5.0, remember: int = 20_000
    ) -> None:
        self.reader = reader
        self.interval_s, self.overlap = interval_s, timedelta(seconds=overlap_s)
        self._sent: OrderedDict[str, str] = OrderedDict()
        self._remember = remember
        self.polls = self.failures = 0

    async def run(self, hub: LiveHub) -> None:
        cursor = datetime.now(UTC)
        while True:
            started = datetime.now(UTC)
            try:
                found = await anyio.to_thread.run_sync(self.reader.changes, cursor - self.overlap)
            except Exception:  # a database hiccup must not end the feed: log, try again next time
                self.failures += 1
                log.exception("live feed: reading changes failed")
                found = []
            else:
                cursor = started
            for key, signature, message in found:
                if self._sent.get(key) == signature:
                    continue
                self._remember_sent(key, signature)
                hub.publish(message)
            self.polls += 1
            await asyncio.sleep(self.interval_s)

    def _remember_sent(self, key: str, signature: str) -> None:
        self._sent[key] = signature
        self._sent.move_to_end(key)
        while len(self._sent) > self._remember:
            self._sent.popitem(last=False)


# --- from the in-process bus ---------------------------------------------------------------------------------------
class BusSource:
    """Every event message on ``bus`` as it is published (``to_message`` makes the feed message)."""

    def __init__(
        self, bus: EventBus, to_message: Callable[[Event], FeedMessage | None], name: str = "web-live"
    ) -> None:
        self.bus, self.to_message, self.name = bus, to_message, name

    async def run(self, hub: LiveHub) -> None:
        loop = asyncio.get_running_loop()
        inbox = self.bus.subscribe(self.name, maxsize=10_000)
        stop = threading.Event()

        def pump() -> None:
            while not stop.is_set():
                try:
                    item = inbox.get(timeout=0.2)
                except queue.Empty:
                    continue
                message = self.to_message(item)
                if message is not None:
                    loop.call_soon_threadsafe(hub.publish, message)

        thread = threading.Thread(target=pump, name=self.name, daemon=True)
        thread.start()
        try:
            await asyncio.Event().wait()  # until cancelled
        finally:
            stop.set()
            self.bus.unsubscribe(self.name)
            await anyio.to_thread.run_sync(thread.join, 2.0)
