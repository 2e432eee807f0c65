"""The in-process event bus: publishers never block, each subscriber has its own bounded queue.

A slow subscriber (a webhook behind a bad network, a disk writer) must not delay detection or the other
subscribers: each gets a ``DropOldestQueue`` and its drops are counted and visible, instead of memory or latency
growing. Messages are typed (``Event``); later issues add storage, alerts and incidents as subscribers.

>>> from datetime import UTC, datetime
>>> from storewatch.core.events import Event
>>> bus = EventBus()
>>> inbox = bus.subscribe("log", maxsize=10)
>>> bus.publish(Event.start("camera.offline", "s/c", datetime(2026, 1, 1, tzinfo=UTC), "no frames"))
>>> inbox.get(timeout=1).type, bus.stats()["log"]
('camera.offline', {'queued': 0, 'dropped': 0})
"""

from __future__ import annotations

import threading

from storewatch.core.events import Event
from storewatch.runtime.queues import DropOldestQueue


class EventBus:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._subscribers: dict[str, DropOldestQueue[Event]] = {}
        self.published = 0

    def subscribe(self, name: str, maxsize: int = 1000) -> DropOldestQueue[Event]:
        """A new queue receiving every event published from now on; ``name`` is unique (for the stats)."""
        with self._lock:
            if name in self._subscribers:
                raise ValueError(f"a subscriber named {name!r} exists already")
            q: DropOldestQueue[Event] = DropOldestQueue(maxsize)
            self._subscribers[name] = q
            return q

    def unsubscribe(self, name: str) -> None:
        with self._lock:
            self._subscribers.pop(name, None)

    def publish(self, event: Event) -> None:
        with self._lock:
            queues = list(self._subscribers.values())
            self.published += 1
        for q in queues:
            q.put(event)

    def stats(self) -> dict[str, dict[str, int]]:
        with self._lock:
            return {name: {"queued": len(q), "dropped": q.dropped} for name, q in self._subscribers.items()}
