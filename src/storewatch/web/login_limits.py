"""The per-address login limiter: too many failed logins from one address within a window, and that address
waits (whatever user names it tries). Kept in memory (one server process; a restart forgets it), bounded: at most
``max_addresses`` addresses are followed, the oldest dropped first.

The per-account lockout is in the database (``users.failed_logins``, ``users.locked_until_utc``).

>>> limits = IpLimiter(max_failures=2, window_s=60)
>>> limits.failed("10.0.0.1", now=0.0); limits.blocked("10.0.0.1", now=1.0)
False
>>> limits.failed("10.0.0.1", now=2.0); limits.blocked("10.0.0.1", now=3.0), limits.blocked("10.0.0.1", now=63.0)
(True, False)
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict, deque


class IpLimiter:
    def __init__(self, max_failures: int = 20, window_s: float = 300.0, max_addresses: int = 10_000) -> None:
        self.max_failures = max_failures
        self.window_s = window_s
        self.max_addresses = max_addresses
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()
        self._lock = threading.Lock()
        self.dropped = 0
        """Addresses forgotten because ``max_addresses`` were followed already."""

    def failed(self, address: str, now: float | None = None) -> None:
        t = time.monotonic() if now is None else now
        with self._lock:
            times = self._failures.pop(address, None) or deque(maxlen=self.max_failures)
            times.append(t)
            self._failures[address] = times
            while len(self._failures) > self.max_addresses:
                self._failures.popitem(last=False)
                self.dropped += 1

    def blocked(self, address: str, now: float | None = None) -> bool:
        t = time.monotonic() if now is None else now
        with self._lock:
            times = self._failures.get(address)
            if times is None:
                return False
            while times and times[0] <= t - self.window_s:
                times.popleft()
            return len(times) >= self.max_failures
