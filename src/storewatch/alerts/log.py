"""The delivery log: every delivery of an alert to a channel and each of its attempts.

``DeliveryLog`` is the Protocol the ``Deliverer`` works against, so that a database-backed log can replace
``InMemoryDeliveryLog`` (and, being persistent, carry pending deliveries over a restart). The in-memory one keeps a
bounded history: the newest ``keep_delivered`` delivered and ``keep_dead`` dead deliveries; pending ones are kept
until they finish (each finishes within its retry policy's span).

>>> from datetime import UTC, datetime
>>> from storewatch.alerts.message import AlertMessage
>>> from storewatch.core.events import Event
>>> t = datetime(2026, 1, 1, tzinfo=UTC)
>>> alert = AlertMessage.from_event(Event(id="e1", type="demo", camera="s1/c1", explanation="x", start_utc=t))
>>> log = InMemoryDeliveryLog()
>>> log.add(Delivery("d1", "ops", alert, created_at=t, due_at=t))
>>> [d.id for d in log.pending_due("ops", t)]
['d1']
>>> log.record_attempt("d1", Attempt(1, t, ok=False, error="HTTP 404"), DeliveryStatus.DEAD, None).status
<DeliveryStatus.DEAD: 'dead'>
>>> [d.id for d in log.dead()], log.mark_resend("d1", t).attempts, log.dead()
(['d1'], 0, [])
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from storewatch.alerts.message import AlertMessage


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    DEAD = "dead"


@dataclass(frozen=True, slots=True)
class Attempt:
    """One try of a delivery; ``number`` counts from 1 within the current round (a re-send starts a new one)."""

    number: int
    at: datetime
    ok: bool
    error: str | None = None


@dataclass(frozen=True, slots=True)
class Delivery:
    """One alert message to one channel, across all its attempts."""

    id: str
    channel: str
    message: AlertMessage
    created_at: datetime
    status: DeliveryStatus = DeliveryStatus.PENDING
    attempts: int = 0
    due_at: datetime | None = None
    last_error: str | None = None


class DeliveryLog(Protocol):
    """Where deliveries and their attempts are kept; must be safe to call from several threads."""

    def add(self, delivery: Delivery) -> None: ...

    def record_attempt(
        self, delivery_id: str, attempt: Attempt, status: DeliveryStatus, due_at: datetime | None
    ) -> Delivery: ...

    def pending_due(self, channel: str, now: datetime, limit: int = 100) -> list[Delivery]:
        """Pending deliveries of ``channel`` due at ``now``, the earliest due (then the oldest) first."""
        ...

    def next_due(self, channel: str) -> datetime | None: ...

    def dead(self, channel: str | None = None) -> list[Delivery]: ...

    def mark_resend(self, delivery_id: str, now: datetime) -> Delivery:
        """A dead delivery back to pending, due ``now``, with a fresh round of attempts (history kept)."""
        ...

    def get(self, delivery_id: str) -> Delivery | None: ...

    def attempts(self, delivery_id: str) -> list[Attempt]: ...


class InMemoryDeliveryLog:
    """A ``DeliveryLog`` in memory, keeping the newest ``keep_delivered`` delivered and ``keep_dead`` dead ones."""

    def __init__(self, keep_delivered: int = 1000, keep_dead: int = 10_000) -> None:
        self._lock = threading.Lock()
        self._items: dict[str, Delivery] = {}
        self._attempts: dict[str, list[Attempt]] = {}
        self._finished = {DeliveryStatus.DELIVERED: OrderedDict[str, None](), DeliveryStatus.DEAD: OrderedDict()}
        self._keep = {DeliveryStatus.DELIVERED: keep_delivered, DeliveryStatus.DEAD: keep_dead}
        self.evicted = 0
        """Finished deliveries forgotten to stay within the limits."""

    def add(self, delivery: Delivery) -> None:
        with self._lock:
            self._items[delivery.id] = delivery
            self._attempts.setdefault(delivery.id, [])

    def record_attempt(
        self, delivery_id: str, attempt: Attempt, status: DeliveryStatus, due_at: datetime | None
    ) -> Delivery:
        with self._lock:
            d = replace(
                self._items[delivery_id],
                status=status,
                attempts=attempt.number,
                due_at=due_at,
                last_error=attempt.error,
            )
            self._items[delivery_id] = d
            self._attempts[delivery_id].append(attempt)
            if status is not DeliveryStatus.PENDING:
                self._finish(delivery_id, status)
            return d

    def _finish(self, delivery_id: str, status: DeliveryStatus) -> None:
        done = self._finished[status]
        done[delivery_id] = None
        while len(done) > self._keep[status]:
            old, _ = done.popitem(last=False)
            del self._items[old], self._attempts[old]
            self.evicted += 1

    def pending_due(self, channel: str, now: datetime, limit: int = 100) -> list[Delivery]:
        with self._lock:
            due = [d for d in self._pending(channel) if d.due_at is not None and d.due_at <= now]
        return sorted(due, key=lambda d: (d.due_at or now, d.created_at))[:limit]

    def _pending(self, channel: str) -> list[Delivery]:
        return [d for d in self._items.values() if d.channel == channel and d.status is DeliveryStatus.PENDING]

    def next_due(self, channel: str) -> datetime | None:
        with self._lock:
            return min((d.due_at for d in self._pending(channel) if d.due_at is not None), default=None)

    def dead(self, channel: str | None = None) -> list[Delivery]:
        with self._lock:
            found = [self._items[i] for i in self._finished[DeliveryStatus.DEAD]]
        return [d for d in found if channel is None or d.channel == channel]

    def mark_resend(self, delivery_id: str, now: datetime) -> Delivery:
        with self._lock:
            d = self._items.get(delivery_id)
            if d is None:
                raise KeyError(f"no delivery {delivery_id!r} (unknown, or forgotten from the bounded history)")
            if d.status is not DeliveryStatus.DEAD:
                raise ValueError(f"delivery {delivery_id} is {d.status.value}; only dead deliveries are re-sent")
            del self._finished[DeliveryStatus.DEAD][delivery_id]
            d = replace(d, status=DeliveryStatus.PENDING, attempts=0, due_at=now)
            self._items[delivery_id] = d
            return d

    def get(self, delivery_id: str) -> Delivery | None:
        with self._lock:
            return self._items.get(delivery_id)

    def attempts(self, delivery_id: str) -> list[Attempt]:
        with self._lock:
            return list(self._attempts.get(delivery_id, []))
