"""Recording a repeated look once: an evidence file fetched again and again by one actor (a video player's range
requests, a thumbnail on every page, a mail client re-opening a link) is one view per window.

>>> now = [0.0]
>>> seen = RepeatFilter(600.0, clock=lambda: now[0])
>>> seen.first("ana", "media:s1/door/2026-03-01/e1.jpg"), seen.first("ana", "media:s1/door/2026-03-01/e1.jpg")
(True, False)
>>> now[0] = 601.0; seen.first("ana", "media:s1/door/2026-03-01/e1.jpg")
True
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable

REPEAT_WINDOW_S = 600.0
RECENT_MAX = 10_000
"""How many (actor, target) pairs are remembered; the oldest are forgotten first (memory stays bounded)."""


class RepeatFilter:
    def __init__(self, window_s: float = REPEAT_WINDOW_S, clock: Callable[[], float] = time.monotonic) -> None:
        self.window_s, self.clock = window_s, clock
        self._recent: OrderedDict[tuple[str, str], float] = OrderedDict()
        self._lock = threading.Lock()

    def first(self, actor: str, target: str) -> bool:
        """Whether ``actor`` did not look at ``target`` within the window (and remember that it did now)."""
        key, now = (actor, target), self.clock()
        with self._lock:
            last = self._recent.get(key)
            if last is not None and now - last < self.window_s:
                return False
            self._recent[key] = now
            self._recent.move_to_end(key)
            while len(self._recent) > RECENT_MAX:
                self._recent.popitem(last=False)
            return True
