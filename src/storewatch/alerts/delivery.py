"""Delivering alerts: one worker thread per channel, retries with backoff, a dead-letter list, every attempt logged.

``Deliverer.submit(message)`` is cheap and never blocks (the rule engine calls it): it puts one ``Delivery`` per
channel whose ``min_severity`` the alert meets into that channel's bounded inbox. The channel's worker moves it
into the ``DeliveryLog`` and sends it; a failure is retried after an exponentially growing, jittered wait
(``RetryPolicy``), and after ``max_attempts`` failures, or at once on a permanent failure (a webhook's 4xx, an
SMTP 5xx), the delivery is *dead*: ``dead()`` lists it and ``resend(id)`` gives it a fresh set of attempts.

One worker per channel, so a slow or dead e-mail server never delays the webhook. Overflow policy of an inbox:
drop the oldest, count it (``counts()``), log it; it fills only when alerts arrive faster than the worker can move
them into the log. The log is the source of truth: ``stop()`` writes whatever is still in the inboxes into it and
makes one last attempt at what is due, and what is left stays *pending* there, so a ``Deliverer`` made later on
the same (persistent) log carries on with it.

``DeliveryLog`` (``alerts/log.py``) is a Protocol so that a database-backed log can replace ``InMemoryDeliveryLog``.

>>> from datetime import UTC, datetime
>>> from storewatch.alerts.config import RetryPolicy
>>> from storewatch.core.events import Event
>>> class Collect(list[str]):
...     def send(self, message: AlertMessage, delivery_id: str) -> None: self.append(message.event_id)
...     def close(self) -> None: pass
>>> alert = AlertMessage.from_event(Event(id="e1", type="demo.alert", camera="s1/c1", explanation="demo",
...                                       start_utc=datetime(2026, 1, 1, tzinfo=UTC)))
>>> sent, log = Collect(), InMemoryDeliveryLog()
>>> with Deliverer([Route("demo", sent, RetryPolicy())], log) as deliverer:
...     [delivery_id] = deliverer.submit(alert)
...     wait_for(lambda: getattr(log.get(delivery_id), "status", None) == "delivered", timeout_s=5.0)
True
>>> sent, log.attempts(delivery_id)[0].ok
(['e1'], True)
"""

from __future__ import annotations

import logging
import random
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import Protocol

from storewatch.alerts.config import RetryPolicy
from storewatch.alerts.log import Attempt, Delivery, DeliveryLog, DeliveryStatus, InMemoryDeliveryLog
from storewatch.alerts.message import AlertMessage
from storewatch.core.events import Severity

logger = logging.getLogger(__name__)

_SEVERITY_RANK = {s: i for i, s in enumerate(Severity)}
POLL_S = 5.0
"""Longest a worker sleeps without looking at the log (another process may have marked a re-send there)."""


class DeliveryError(Exception):
    """A channel could not deliver. ``permanent``: retrying cannot help (dead at once); ``retry_after_s``: the
    receiver asked to wait at least this long."""

    def __init__(self, message: str, *, permanent: bool = False, retry_after_s: float | None = None) -> None:
        super().__init__(message)
        self.permanent = permanent
        self.retry_after_s = retry_after_s


class Sender(Protocol):
    """A channel: ``send`` returns when delivered and raises (``DeliveryError`` or any error) otherwise."""

    def send(self, message: AlertMessage, delivery_id: str) -> None: ...

    def close(self) -> None: ...


@dataclass(frozen=True, slots=True)
class Route:
    """A named channel: its sender, retry policy and the least severity it takes."""

    name: str
    sender: Sender
    retry: RetryPolicy
    min_severity: Severity = Severity.INFO


@dataclass(slots=True)
class DeliveryCounts:
    submitted: int = 0
    dropped: int = 0
    delivered: int = 0
    failed_attempts: int = 0
    dead: int = 0


def utc_now() -> datetime:
    return datetime.now(UTC)


class _Lane:
    """One channel's inbox and worker thread."""

    def __init__(
        self, route: Route, log: DeliveryLog, inbox_size: int, now: Callable[[], datetime], rng: random.Random
    ) -> None:
        self.route, self.log, self.now, self.rng = route, log, now, rng
        self.inbox: deque[Delivery] = deque()
        self.inbox_size = inbox_size
        self.cond = threading.Condition()
        self.wake = False
        self.stopping = False
        self.flush_until = 0.0
        self.counts = DeliveryCounts()
        self.thread = threading.Thread(target=self._run, name=f"alerts-{route.name}", daemon=True)

    def put(self, delivery: Delivery) -> None:
        with self.cond:
            if len(self.inbox) >= self.inbox_size:
                old = self.inbox.popleft()
                self.counts.dropped += 1
                logger.error("alerts %s: inbox full, dropped event %s", self.route.name, old.message.event_id)
            self.inbox.append(delivery)
            self.counts.submitted += 1
            self.cond.notify()

    def poke(self, stop_within_s: float | None = None) -> None:
        with self.cond:
            self.wake = True
            if stop_within_s is not None:
                self.stopping, self.flush_until = True, time.monotonic() + stop_within_s
            self.cond.notify()

    def _run(self) -> None:
        while True:
            try:
                if not self._wait_for_work():
                    break
                self._attempt_due(deadline=None)
            except Exception:  # the top of the worker loop: log, pause, carry on
                logger.exception("alerts %s: delivery loop failed", self.route.name)
                with self.cond:
                    self.cond.wait_for(lambda: self.stopping, timeout=1.0)
        try:
            self._drain()
            self._attempt_due(deadline=self.flush_until)
        except Exception:
            logger.exception("alerts %s: flushing at stop failed; pending deliveries stay in the log", self.route.name)

    def _wait_for_work(self) -> bool:
        """Sleep until something is submitted or due; False when stopping."""
        due = self.log.next_due(self.route.name)
        timeout = POLL_S if due is None else min(POLL_S, max(0.0, (due - self.now()).total_seconds()))
        with self.cond:
            if not (self.inbox or self.wake or self.stopping):
                self.cond.wait(timeout)
            self.wake = False
            stopping = self.stopping
        self._drain()
        return not stopping

    def _drain(self) -> None:
        with self.cond:
            batch = list(self.inbox)
            self.inbox.clear()
        for d in batch:
            self.log.add(replace(d, due_at=d.due_at or self.now()))

    def _attempt_due(self, deadline: float | None) -> None:
        while True:
            due = self.log.pending_due(self.route.name, self.now(), limit=20)
            for d in due:
                if (deadline is not None and time.monotonic() >= deadline) or (deadline is None and self.stopping):
                    return
                self._attempt(d)
                self._drain()
            if len(due) < 20:
                return

    def _attempt(self, d: Delivery) -> None:
        number, retry, at = d.attempts + 1, self.route.retry, self.now()
        retry_after: float | None = None
        try:
            self.route.sender.send(d.message, d.id)
        except DeliveryError as exc:
            error, permanent, retry_after = str(exc), exc.permanent, exc.retry_after_s
        except Exception as exc:  # any other error of a channel (a bug, an unforeseen OSError) is worth a retry
            error, permanent = f"{type(exc).__name__}: {exc}", False
        else:
            self.log.record_attempt(d.id, Attempt(number, at, ok=True), DeliveryStatus.DELIVERED, None)
            self.counts.delivered += 1
            return
        self.counts.failed_attempts += 1
        if permanent or number >= retry.max_attempts:
            self.log.record_attempt(d.id, Attempt(number, at, False, error), DeliveryStatus.DEAD, None)
            self.counts.dead += 1
            why = "permanent failure" if permanent else f"{number} attempts failed"
            logger.error("alerts %s: event %s dead (%s): %s", self.route.name, d.message.event_id, why, error)
            return
        delay = retry.nominal_delay_s(number) * (1 + self.rng.uniform(-retry.jitter, retry.jitter))
        if retry_after is not None:
            delay = max(delay, min(retry_after, retry.max_delay_s))
        due = at + timedelta(seconds=delay)
        self.log.record_attempt(d.id, Attempt(number, at, False, error), DeliveryStatus.PENDING, due)
        name, event_id = self.route.name, d.message.event_id
        logger.warning(
            "alerts %s: event %s attempt %d failed, retry in %.1fs: %s", name, event_id, number, delay, error
        )


class Deliverer:
    """Sends alerts to every route whose ``min_severity`` they meet, retrying and recording as the module says."""

    def __init__(
        self,
        routes: Sequence[Route],
        log: DeliveryLog | None = None,
        *,
        inbox_size: int = 1000,
        now: Callable[[], datetime] = utc_now,
        rng: random.Random | None = None,
    ) -> None:
        names = [r.name for r in routes]
        if len(set(names)) != len(names):
            raise ValueError(f"route names must be unique, got {names}")
        if inbox_size < 1:
            raise ValueError(f"inbox_size must be >= 1, got {inbox_size}")
        self.log: DeliveryLog = log if log is not None else InMemoryDeliveryLog()
        self._now = now
        rng = rng or random.Random()
        self._lanes = {r.name: _Lane(r, self.log, inbox_size, now, random.Random(rng.random())) for r in routes}
        self._started = self._stopped = False

    def start(self) -> Deliverer:
        if not self._started:
            self._started = True
            for lane in self._lanes.values():
                lane.thread.start()
        return self

    def submit(self, message: AlertMessage, channels: Collection[str] | None = None) -> list[str]:
        """Queue ``message`` for every channel (or those named in ``channels``) that takes its severity; returns
        the delivery ids (never blocks). An unknown channel name is a ``KeyError``."""
        if self._stopped:
            raise RuntimeError("the deliverer is stopped; alerts submitted now would be lost")
        unknown = sorted(set(channels or ()) - set(self._lanes))
        if unknown:
            raise KeyError(f"no channel(s) named {', '.join(unknown)}")
        ids = []
        for name, lane in self._lanes.items():
            if channels is not None and name not in channels:
                continue
            if _SEVERITY_RANK[message.severity] >= _SEVERITY_RANK[lane.route.min_severity]:
                d = Delivery(uuid.uuid4().hex, lane.route.name, message, self._now())
                lane.put(d)
                ids.append(d.id)
        return ids

    def dead(self, channel: str | None = None) -> list[Delivery]:
        """The dead letters (of one channel, or all), oldest first."""
        return self.log.dead(channel)

    def resend(self, delivery_id: str) -> Delivery:
        """Give a dead delivery a fresh round of attempts, starting now. ``KeyError`` / ``ValueError`` otherwise."""
        d = self.log.get(delivery_id)
        if d is not None and d.channel not in self._lanes:
            raise ValueError(f"delivery {delivery_id} is for channel {d.channel!r}, which is not configured")
        d = self.log.mark_resend(delivery_id, self._now())
        self._lanes[d.channel].poke()
        return d

    def counts(self) -> dict[str, DeliveryCounts]:
        """Per channel: submitted, dropped (inbox overflow), delivered, failed attempts, dead."""
        return {name: replace(lane.counts) for name, lane in self._lanes.items()}

    def stop(self, timeout_s: float = 5.0) -> None:
        """Stop the workers: move queued alerts into the log and attempt what is due for up to ``timeout_s``;
        whatever is left stays pending in the log. Then close the channels."""
        if self._stopped:
            return
        self._stopped = True
        for lane in self._lanes.values():
            lane.poke(stop_within_s=timeout_s)
        deadline = time.monotonic() + timeout_s + 1.0
        for lane in self._lanes.values():
            if lane.thread.is_alive():
                lane.thread.join(max(0.0, deadline - time.monotonic()))
                if lane.thread.is_alive():
                    logger.warning("alerts %s: worker still sending at stop; closing anyway", lane.route.name)
            elif not self._started:
                lane._drain()  # never started: keep what was submitted
        for lane in self._lanes.values():
            try:
                lane.route.sender.close()
            except Exception:
                logger.exception("alerts %s: closing the channel failed", lane.route.name)

    def __enter__(self) -> Deliverer:
        return self.start()

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()


def wait_for(condition: Callable[[], bool], timeout_s: float, interval_s: float = 0.01) -> bool:
    """Poll ``condition`` until it holds (True) or ``timeout_s`` passes (False); for tests and tools."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval_s)
    return True
