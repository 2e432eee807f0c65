"""The live event feed: every event message, as it is published, to each connected dashboard (server-sent events).

One thread reads the event bus (its own bounded inbox, ``live-feed``), numbers each message, keeps the last
``replay`` of them and puts the encoded message into every connected client's queue. A client's queue is bounded
and drops its oldest message when the client reads too slowly (counted per client and in ``stats()``): a stalled
browser tab must cost neither memory nor the other clients anything.

Message ids are ``<feed>-<number>``, the feed part new at every start. A client that reconnects with
``Last-Event-ID`` (browsers send it by themselves) first gets every message after that one still in the replay
buffer, then the live ones, with nothing lost or repeated in between; an id of an earlier run (the server
restarted) or older than the buffer gets the whole buffer. While nothing happens, a comment line goes out every
``heartbeat_s`` so proxies keep the connection and a dead client is noticed at the next write.

>>> from datetime import UTC, datetime
>>> from storewatch.alerts.delivery import wait_for
>>> from storewatch.core.events import Event
>>> bus = EventBus()
>>> feed = LiveFeed(bus)
>>> feed.start()
>>> bus.publish(Event.start("camera.offline", "s1/door", datetime(2026, 1, 1, tzinfo=UTC), "no frames"))
>>> wait_for(lambda: feed.stats()["published"] == 1, timeout_s=5)
True
>>> client = feed.connect(last_event_id=None)
>>> chunks = feed.stream(client)
>>> next(chunks)[:9], next(chunks).split(b"\\n")[0] == f"id: {feed.feed_id}-1".encode()
(b'retry: 30', True)
>>> feed.stop()
"""

from __future__ import annotations

import queue
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from storewatch.core.events import Event
from storewatch.runtime.bus import EventBus
from storewatch.runtime.queues import DropOldestQueue

RETRY_MS = 3000
"""How long a browser waits before it reconnects (sent to each client on connecting)."""
GONE_CHECK_S = 1.0
"""How often a quiet stream checks whether its client has left."""
_CLOSE = b""
"""Put into a client's queue to end its stream (the feed stops)."""


class LiveFeedFullError(Exception):
    """``max_clients`` are connected already."""


@dataclass(frozen=True, slots=True)
class _Message:
    number: int
    event: Event
    data: bytes


@dataclass(eq=False)
class LiveClient:
    """One connected client: its queue of encoded messages, and what it wants (store, camera: None = all)."""

    queue: DropOldestQueue[bytes]
    store: str | None = None
    camera: str | None = None
    connected_mono: float = field(default_factory=time.monotonic)

    def wants(self, event: Event) -> bool:
        return (self.store is None or event.store == self.store) and (
            self.camera is None or str(event.camera) == self.camera
        )

    @property
    def dropped(self) -> int:
        return self.queue.dropped


class LiveFeed:
    """``start()``, ``stop()``; ``connect`` / ``stream`` / ``disconnect`` for each client (one HTTP request)."""

    def __init__(
        self,
        bus: EventBus,
        *,
        replay: int = 500,
        client_queue: int = 1000,
        heartbeat_s: float = 15.0,
        max_clients: int = 32,
        name: str = "live-feed",
    ) -> None:
        self.bus, self.name = bus, name
        self.heartbeat_s = heartbeat_s
        self.client_queue, self.max_clients = client_queue, max_clients
        self.feed_id = uuid.uuid4().hex[:8]
        self._recent: deque[_Message] = deque(maxlen=replay)
        self._clients: list[LiveClient] = []
        self._lock = threading.Lock()
        self._number = 0
        self._gone_dropped = 0
        self._inbox: DropOldestQueue[Event] | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is not None:
            return
        self._stop.clear()
        self._inbox = self.bus.subscribe(self.name, maxsize=10_000)
        self._thread = threading.Thread(target=self._run, name="live-feed", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop reading the bus and end every client's stream."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None
        self.bus.unsubscribe(self.name)
        with self._lock:
            for client in self._clients:
                client.queue.put(_CLOSE)

    def stats(self) -> dict[str, int]:
        with self._lock:
            return {
                "clients": len(self._clients),
                "published": self._number,
                "dropped": self._gone_dropped + sum(c.dropped for c in self._clients),
                "inbox_dropped": 0 if self._inbox is None else self._inbox.dropped,
            }

    # --- clients ---------------------------------------------------------------------------------------------------
    def connect(self, last_event_id: str | None, *, store: str | None = None, camera: str | None = None) -> LiveClient:
        """A new client: what it missed since ``last_event_id`` queued first, then everything new it wants."""
        client = LiveClient(DropOldestQueue(self.client_queue), store=store, camera=camera)
        after = self._after(last_event_id)
        with self._lock:  # replay and registration under one lock: no message missed or sent twice in between
            if self._stop.is_set() or len(self._clients) >= self.max_clients:
                raise LiveFeedFullError(f"{len(self._clients)} clients are connected (at most {self.max_clients})")
            for message in self._recent:
                if message.number > after and client.wants(message.event):
                    client.queue.put(message.data)
            self._clients.append(client)
        return client

    def disconnect(self, client: LiveClient) -> None:
        with self._lock:
            if client in self._clients:
                self._clients.remove(client)
                self._gone_dropped += client.dropped

    def stream(self, client: LiveClient, gone: Callable[[], bool] | None = None) -> Iterator[bytes]:
        """The bytes to write to the client, as they come; ends when the feed stops or, checked about every
        second, ``gone()`` says the client has left (else a departed client is noticed at the next write).
        Heartbeat comments fill silences longer than ``heartbeat_s``."""
        yield f"retry: {RETRY_MS}\n: connected to {self.feed_id}\n\n".encode()
        last_sent = time.monotonic()
        while True:
            try:
                data = client.queue.get(timeout=min(self.heartbeat_s, GONE_CHECK_S))
            except queue.Empty:
                if gone is not None and gone():
                    return
                if time.monotonic() - last_sent >= self.heartbeat_s:
                    last_sent = time.monotonic()
                    yield b": heartbeat\n\n"
                continue
            if data == _CLOSE:
                return
            last_sent = time.monotonic()
            yield data

    def _after(self, last_event_id: str | None) -> int:
        """The number after which to replay: that of ``last_event_id`` when it is of this feed, else 0 (all)."""
        feed, _, number = (last_event_id or "").strip().partition("-")
        return int(number) if feed == self.feed_id and number.isdigit() else 0

    # --- the bus thread ----------------------------------------------------------------------------------------
    def _run(self) -> None:
        assert self._inbox is not None
        while not self._stop.is_set():
            try:
                event = self._inbox.get(timeout=0.2)
            except queue.Empty:
                continue
            self._fan_out(event)

    def _fan_out(self, event: Event) -> None:
        with self._lock:
            self._number += 1
            data = f"id: {self.feed_id}-{self._number}\ndata: {event.model_dump_json()}\n\n".encode()
            self._recent.append(_Message(self._number, event, data))
            for client in self._clients:
                if client.wants(event):
                    client.queue.put(data)
