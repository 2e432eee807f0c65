"""Exponential backoff with jitter for reconnecting to cameras.

Many cameras of one store often drop together (a switch restarts); jitter spreads their reconnects so they do
not hammer the network or the recorder in lock-step.

>>> b = Backoff(initial_s=1.0, max_s=8.0, jitter=0.0)
>>> [b.next_delay() for _ in range(5)]
[1.0, 2.0, 4.0, 8.0, 8.0]
>>> b.reset(); b.next_delay()
1.0
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field


@dataclass(slots=True)
class Backoff:
    initial_s: float = 0.5
    max_s: float = 30.0
    factor: float = 2.0
    jitter: float = 0.2
    """Each delay is multiplied by a random factor in [1 - jitter, 1 + jitter]."""
    rng: random.Random = field(default_factory=random.Random)
    _attempt: int = 0

    def __post_init__(self) -> None:
        if not (0 < self.initial_s <= self.max_s) or self.factor < 1 or not (0 <= self.jitter < 1):
            raise ValueError("need 0 < initial_s <= max_s, factor >= 1 and 0 <= jitter < 1")

    def next_delay(self) -> float:
        """Seconds to wait before the next attempt; grows until ``max_s``."""
        base = min(self.initial_s * self.factor**self._attempt, self.max_s)
        self._attempt += 1
        return base * (1 + self.rng.uniform(-self.jitter, self.jitter))

    def reset(self) -> None:
        """After a success: the next failure waits ``initial_s`` again."""
        self._attempt = 0
