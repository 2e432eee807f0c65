"""Camera health: ``ok``, ``degraded`` or ``offline``, with the reason and since when.

>>> from datetime import UTC, datetime
>>> h = HealthTracker(datetime(2026, 1, 1, tzinfo=UTC))
>>> h.status.state
<Health.OFFLINE: 'offline'>
>>> h.set(Health.OK, "streaming", datetime(2026, 1, 1, 0, 0, 5, tzinfo=UTC))
True
>>> h.set(Health.OK, "streaming", datetime(2026, 1, 1, 0, 0, 9, tzinfo=UTC))  # no change: since stays
False
>>> h.status.since_utc.second
5
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class Health(StrEnum):
    OK = "ok"
    """Frames arrive as expected."""
    DEGRADED = "degraded"
    """Trouble being worked on: reconnecting, frames late, decode errors."""
    OFFLINE = "offline"
    """Not delivering frames and not expected to recover by itself soon (or not started)."""


@dataclass(frozen=True, slots=True)
class HealthStatus:
    state: Health
    reason: str
    since_utc: datetime


class HealthTracker:
    """Thread-safe current health; ``since_utc`` changes only when the state or reason changes."""

    def __init__(self, now_utc: datetime, reason: str = "not started") -> None:
        self._lock = threading.Lock()
        self._status = HealthStatus(Health.OFFLINE, reason, now_utc)

    @property
    def status(self) -> HealthStatus:
        with self._lock:
            return self._status

    def set(self, state: Health, reason: str, now_utc: datetime) -> bool:
        """Record the state; returns True when it changed."""
        with self._lock:
            if self._status.state == state and self._status.reason == reason:
                return False
            self._status = HealthStatus(state, reason, now_utc)
            return True
