"""Running retention on its own thread: once soon after start, then every day at the configured hour.

The job only deletes files and rows (in short transactions), on a thread of its own, so capture and detection
never wait for it. A run that fails is logged with its error and counted; the thread carries on and tries again
at the next scheduled time (like the runner's other workers, it is never allowed to die of one bad run).
``status()`` says when it last ran, what it removed and when it runs next (for ``/status``).

>>> from zoneinfo import ZoneInfo
>>> next_run(datetime(2026, 3, 1, 1, 30, tzinfo=UTC), 3, ZoneInfo("Europe/Berlin")).isoformat()
'2026-03-01T02:00:00+00:00'
>>> next_run(datetime(2026, 3, 1, 2, 0, tzinfo=UTC), 3, ZoneInfo("Europe/Berlin")).isoformat()
'2026-03-02T02:00:00+00:00'
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from storewatch.retention.service import RetentionReport

log = logging.getLogger(__name__)

START_DELAY_S = 30.0
"""The first run waits this long after start, so it does not compete with cameras connecting."""


def next_run(now: datetime, hour: int, tz: ZoneInfo) -> datetime:
    """The first ``hour``:00 in ``tz`` strictly after ``now``, in UTC."""
    local = now.astimezone(tz)
    candidate = local.replace(hour=hour, minute=0, second=0, microsecond=0)
    if candidate <= local:
        candidate = (candidate + timedelta(days=1)).replace(hour=hour)
    return candidate.astimezone(UTC)


class RetentionScheduler:
    """``start()`` / ``stop()``; ``job()`` is one retention run (e.g. ``RetentionService.run``)."""

    def __init__(
        self,
        job: Callable[[], RetentionReport],
        hour: int,
        tz: ZoneInfo,
        *,
        start_delay_s: float = START_DELAY_S,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.job, self.hour, self.tz, self.start_delay_s, self.clock = job, hour, tz, start_delay_s, clock
        self.runs = self.failures = 0
        self.last: RetentionReport | None = None
        self.last_error: str | None = None
        self.next_at: datetime | None = None
        self._stop = threading.Event()
        self._done = threading.Condition()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="retention", daemon=True)
        self._thread.start()

    def stop(self, timeout_s: float = 30.0) -> None:
        """Stop; a run under way finishes its current step's batch (deletes are short transactions)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout_s)

    def wait_runs(self, count: int, timeout_s: float) -> bool:
        """Wait until ``count`` runs have finished (well or not); for tests and ``storewatch demo``."""
        with self._done:
            return self._done.wait_for(lambda: self.runs + self.failures >= count, timeout_s)

    def status(self) -> dict[str, Any]:
        last = self.last
        return {
            "runs": self.runs,
            "failures": self.failures,
            "last_error": self.last_error,
            "last_run_utc": last.started.isoformat() if last else None,
            "last_removed": {k.value: r.items for k, r in last.kinds.items()} if last else None,
            "next_run_utc": self.next_at.isoformat() if self.next_at else None,
        }

    def _run(self) -> None:
        self.next_at = self.clock() + timedelta(seconds=self.start_delay_s)
        while not self._stop.wait(max(0.0, (self.next_at - self.clock()).total_seconds())):
            self._once()
            self.next_at = next_run(self.clock(), self.hour, self.tz)

    def _once(self) -> None:
        try:
            report = self.job()
        except Exception as exc:  # the top of a worker loop: log, count, try again at the next time
            log.exception("retention run failed")
            with self._done:
                self.failures += 1
                self.last_error = f"{type(exc).__name__}: {exc}"
                self._done.notify_all()
            return
        removed = ", ".join(f"{k.value} {r.items}" for k, r in report.kinds.items() if r.items)
        log.info("retention: removed %s", removed or "nothing")
        with self._done:
            self.runs += 1
            self.last, self.last_error = report, None
            self._done.notify_all()
