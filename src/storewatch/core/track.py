"""A track as the rest of the product sees it: a snapshot, not the tracker's internal state.

The tracker owns its Kalman filters and counters; what it hands on is ``Detections`` with ``track_id`` set, and
(for consumers that need the history-free summary of each live track) ``Track`` snapshots.

>>> t = Track(track_id=TrackId("s/c/4"), class_id=0, state=TrackState.CONFIRMED, box_xyxy=(1, 2, 11, 42),
...           confidence=0.8, first_seen_s=10.0, last_seen_s=12.5, hits=20)
>>> t.age_s
2.5
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from storewatch.core.ids import TrackId


class TrackState(StrEnum):
    TENTATIVE = "tentative"
    """Born but not yet confirmed by enough hits."""
    CONFIRMED = "confirmed"
    """Matched to a detection in the latest update."""
    LOST = "lost"
    """Not matched recently; kept for a while so it can be re-found."""
    REMOVED = "removed"
    """Ended; will never be updated again."""


@dataclass(frozen=True, slots=True)
class Track:
    track_id: TrackId
    class_id: int
    state: TrackState
    box_xyxy: tuple[float, float, float, float]
    confidence: float
    first_seen_s: float
    last_seen_s: float
    hits: int

    def __post_init__(self) -> None:
        if self.last_seen_s < self.first_seen_s:
            raise ValueError("last_seen_s must not be before first_seen_s")
        x1, y1, x2, y2 = self.box_xyxy
        if x2 < x1 or y2 < y1:
            raise ValueError(f"invalid box {self.box_xyxy}")

    @property
    def age_s(self) -> float:
        """Seconds between the first and the latest observation."""
        return self.last_seen_s - self.first_seen_s
