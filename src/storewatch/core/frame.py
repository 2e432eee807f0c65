"""Frame metadata: every frame carries explicit identity and time.

Rules work in seconds, never frame counts, because frame rates drop.  ``mono_s`` is a monotonic clock (for
durations and ordering); ``utc`` is wall-clock time (for people and records); ``pts_s`` is the position in the
source stream when the source has one.

>>> from datetime import datetime, UTC
>>> m = FrameMeta(camera_id=CameraId("s1/c1"), seq=0, mono_s=12.5, utc=datetime(2026, 1, 1, tzinfo=UTC),
...               width=768, height=576)
>>> m.size
(768, 576)
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

from storewatch.core.ids import CameraId


@dataclass(frozen=True, slots=True)
class FrameMeta:
    """Identity and time of one decoded frame."""

    camera_id: CameraId
    seq: int
    """0-based sequence number of the frame as decoded from the source (skipped corrupt frames still count)."""
    mono_s: float
    """Monotonic time in seconds (source time for files, capture time for live cameras)."""
    utc: datetime
    """Wall-clock capture time, timezone-aware UTC."""
    width: int
    height: int
    pts_s: float | None = None
    """Presentation time in the source stream, if it has one."""

    def __post_init__(self) -> None:
        if self.seq < 0:
            raise ValueError(f"seq must be >= 0, got {self.seq}")
        if not math.isfinite(self.mono_s):
            raise ValueError(f"mono_s must be finite, got {self.mono_s}")
        if self.utc.tzinfo is None or self.utc.utcoffset() is None:
            raise ValueError("utc must be timezone-aware")
        if self.width <= 0 or self.height <= 0:
            raise ValueError(f"frame size must be positive, got {self.width}x{self.height}")

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) in pixels."""
        return (self.width, self.height)
