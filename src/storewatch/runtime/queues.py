"""A bounded queue whose overflow policy is "drop the oldest", with every drop counted.

Live video must not fall behind: when a consumer (the detector) is slower than a camera, the newest frame is worth
more than the oldest. ``put`` never blocks; it evicts the oldest item when full and counts it, so drops show up in
metrics instead of as growing latency or memory.

>>> q = DropOldestQueue[int](maxsize=2)
>>> [q.put(i) for i in range(4)]
[False, False, True, True]
>>> q.get(), q.get(), q.dropped
(2, 3, 2)
"""

from __future__ import annotations

import queue
import threading
import time
from collections import deque
from typing import Generic, TypeVar

T = TypeVar("T")


class DropOldestQueue(Generic[T]):
    def __init__(self, maxsize: int) -> None:
        if maxsize < 1:
            raise ValueError(f"maxsize must be >= 1, got {maxsize}")
        self.maxsize = maxsize
        self._items: deque[T] = deque()
        self._cond = threading.Condition()
        self._dropped = 0

    def put(self, item: T) -> bool:
        """Add ``item``; returns True when the oldest item was dropped to make room."""
        with self._cond:
            dropped = len(self._items) >= self.maxsize
            if dropped:
                self._items.popleft()
                self._dropped += 1
            self._items.append(item)
            self._cond.notify()
            return dropped

    def get(self, timeout: float | None = None) -> T:
        """The oldest item; waits up to ``timeout`` seconds (forever if None), then raises ``queue.Empty``."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            while not self._items:
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    raise queue.Empty
                self._cond.wait(remaining)
            return self._items.popleft()

    @property
    def dropped(self) -> int:
        """Items dropped since the queue was made."""
        with self._cond:
            return self._dropped

    def __len__(self) -> int:
        with self._cond:
            return len(self._items)
