"""Supervised ingest workers: each configured source (a POS or door-access drop folder, a NATS subject) runs as a
named thread calling its ``step()`` (one poll of the folder, one fetch of messages) every ``interval_s``.

A step that raises (the database away, the folder gone, NATS unreachable) is caught at the top of the loop,
logged with the source's name and counted; the source goes ``degraded`` and is retried after a growing, jittered
delay (``Backoff``). More than ``max_restarts`` failures within ``window_s`` take it ``offline`` with the reason,
and it is tried again after ``cooldown_s`` with a fresh budget: never crash-looped, never given up for good (the
camera supervisor's ``RestartPolicy``). A step that succeeds makes it ``ok`` again. Nothing is lost meanwhile: a
file stays in its folder, a message unacknowledged in its stream.

``status()`` is what ``/status`` and ``/metrics`` show per source: health, reason and the ``IngestCounts``.

>>> worker = IngestWorker("pos-drop:demo", "pos-drop-folder", lambda: None, IngestCounts(), interval_s=0.01)
>>> worker.status().health.value
'offline'
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import UTC, datetime

from storewatch.ingest.report import IngestCounts, SourceStatus
from storewatch.runtime.backoff import Backoff
from storewatch.runtime.health import Health, HealthTracker
from storewatch.runtime.supervisor import RestartPolicy

log = logging.getLogger(__name__)


class IngestWorker:
    """``start()``, ``stop()``, ``status()``; ``step`` does one unit of work and raises on failure."""

    def __init__(
        self,
        name: str,
        kind: str,
        step: Callable[[], object],
        counts: IngestCounts,
        *,
        interval_s: float = 2.0,
        policy: RestartPolicy | None = None,
        close: Callable[[], None] | None = None,
    ) -> None:
        self.name, self.kind, self.step, self.counts = name, kind, step, counts
        self.interval_s = interval_s
        self.policy = policy or RestartPolicy()
        self.close = close
        self.health = HealthTracker(datetime.now(UTC))
        p = self.policy
        self._backoff = Backoff(p.restart_initial_s, max(p.restart_max_s, p.restart_initial_s))
        self._failures: deque[float] = deque()
        self._last_success: float | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> IngestWorker:
        self.health.set(Health.DEGRADED, "starting", datetime.now(UTC))
        self._thread = threading.Thread(target=self._loop, name=f"ingest-{self.name}", daemon=True)
        self._thread.start()
        return self

    def request_stop(self) -> None:
        self._stop.set()

    def stop(self, timeout_s: float = 10.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout_s)
        if self.close is not None:
            try:
                self.close()
            except Exception:  # closing a source must not keep the others from closing
                log.exception("ingest %s: close failed", self.name)
        self.health.set(Health.OFFLINE, "stopped", datetime.now(UTC))

    def status(self) -> SourceStatus:
        h, c = self.health.status, replace(self.counts)
        age = None if self._last_success is None else time.monotonic() - self._last_success
        return SourceStatus(
            self.name, self.kind, h.state, h.reason, h.since_utc,
            c.done, c.quarantined, c.records_accepted, c.records_quarantined, c.failures, age,
        )  # fmt: skip

    def run_once(self) -> float:
        """One supervised step: the seconds to wait before the next."""
        try:
            self.step()
        except Exception as exc:  # the top of the worker loop: the policy decides what happens next
            return self._failed(exc)
        self._last_success = time.monotonic()
        self._backoff.reset()
        self.health.set(Health.OK, "ingesting", datetime.now(UTC))
        return self.interval_s

    def _failed(self, exc: Exception) -> float:
        p, now = self.policy, time.monotonic()
        self.counts.failures += 1
        self._failures.append(now)
        while self._failures and self._failures[0] < now - p.window_s:
            self._failures.popleft()
        cause = f"{type(exc).__name__}: {exc}"[:300]
        if len(self._failures) > p.max_restarts:
            n = len(self._failures)
            self._failures.clear()
            self._backoff.reset()
            reason = f"failed {n} times in {p.window_s:g} s ({cause}); next try in {p.cooldown_s:g} s"
            self.health.set(Health.OFFLINE, reason, datetime.now(UTC))
            log.error("ingest %s: %s", self.name, reason)
            return p.cooldown_s
        delay = self._backoff.next_delay()
        reason = f"{cause}; retry {len(self._failures)}/{p.max_restarts} in {delay:.1f} s"
        self.health.set(Health.DEGRADED, reason, datetime.now(UTC))
        log.warning("ingest %s: %s", self.name, reason, exc_info=len(self._failures) == 1)
        return delay

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._stop.wait(self.run_once())


class IngestWorkers:
    """The runner's ingest sources: started and stopped together; ``statuses()`` for ``/status``."""

    def __init__(self, workers: Iterable[IngestWorker] = ()) -> None:
        self.workers = list(workers)

    def start(self) -> None:
        for worker in self.workers:
            worker.start()
            log.info("ingest %s (%s) started", worker.name, worker.kind)

    def stop(self) -> None:
        for worker in self.workers:
            worker.request_stop()  # all asked at once, then each joined
        for worker in self.workers:
            worker.stop()

    def statuses(self) -> list[SourceStatus]:
        return [w.status() for w in self.workers]
