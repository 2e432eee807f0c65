"""Configuration of the multi-object tracker (ByteTrack family). Lifetimes are in seconds, not frames.

Cross-field rules are small named checks, each with a message that names the fields and values:

>>> TrackerConfig(high_score=0.6, low_score=0.2, new_track_score=0.7).lost_ttl_s
3.0
>>> TrackerConfig(high_score=0.5, low_score=0.5)
Traceback (most recent call last):
...
pydantic_core._pydantic_core.ValidationError: 1 validation error for TrackerConfig
  Value error, low_score (0.5) must be below high_score (0.5) ...
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, model_validator


class ReportBox(StrEnum):
    """Which box ``ByteTracker.update`` reports for a track."""

    DETECTION = "detection"
    """The matched detection's box: what the camera saw."""
    FILTERED = "filtered"
    """The Kalman filter's estimate: smoother, lags on sudden moves."""


class TrackerConfig(BaseModel):
    """Settings of ``ByteTracker``: score thresholds of the two associations, overlap gates, lifetimes."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    high_score: float = Field(
        0.5, gt=0.0, lt=1.0, description="Detections at or above this score take part in the first association."
    )
    low_score: float = Field(
        0.1, ge=0.0, lt=1.0, description="Detections between this and high_score only extend existing tracks."
    )
    new_track_score: float = Field(
        0.7,
        gt=0.0,
        le=1.0,
        description="Minimum score of a detection that starts a track (at least high_score; high: few false tracks).",
    )
    match_iou: float = Field(
        0.2,
        gt=0.0,
        lt=1.0,
        description="Minimum similarity (IoU, times the score when fuse_score) for the first association.",
    )
    low_match_iou: float = Field(0.5, gt=0.0, lt=1.0, description="Minimum IoU for the second (low score) association.")
    tentative_match_iou: float = Field(
        0.3, gt=0.0, lt=1.0, description="Minimum similarity to confirm a tentative track with its next detection."
    )
    fuse_score: bool = Field(
        True,
        description="Multiply IoU by the detection score in the first and tentative associations (ByteTrack).",
    )
    lost_ttl_s: float = Field(
        3.0, gt=0.0, le=600.0, description="How long a lost track is kept so it can be re-found, in seconds."
    )
    min_hits: int = Field(2, ge=1, le=100, description="Hits a new track needs before it is reported.")
    confirm_first_frame: bool = Field(
        True,
        description="Tracks born on the first frame (after start or reset) are confirmed at once, as in ByteTrack.",
    )
    recover_radius_heights: float = Field(
        1.0,
        ge=0.0,
        le=10.0,
        description="Re-find a lost track at a detection this many body heights from it (0 disables).",
    )
    recover_growth_heights_per_s: float = Field(
        0.5, ge=0.0, le=10.0, description="How fast that radius grows while the track stays lost, heights per second."
    )
    recover_min_similarity: float = Field(
        0.8, ge=0.0, le=1.0, description="Appearance similarity (0-1) a lost track must have to be re-found."
    )
    appearance_weight: float = Field(
        1.0, ge=0.0, le=5.0, description="Weight of appearance distance added to the overlap cost when matching."
    )
    appearance_momentum: float = Field(
        0.9, ge=0.0, lt=1.0, description="How slowly a track's appearance follows new observations (0-1)."
    )
    report_box: ReportBox = Field(ReportBox.DETECTION, description="Which box a reported track carries.")

    @model_validator(mode="after")
    def _cross_field_checks(self) -> TrackerConfig:
        _check_scores_ordered(self)
        _check_new_track_score(self)
        return self


def _check_scores_ordered(cfg: TrackerConfig) -> None:
    """The weak band ``[low_score, high_score)`` must not be empty or inverted."""
    if not cfg.low_score < cfg.high_score:
        raise ValueError(f"low_score ({cfg.low_score}) must be below high_score ({cfg.high_score})")


def _check_new_track_score(cfg: TrackerConfig) -> None:
    """Tracks start only from confident detections; a lower ``new_track_score`` would silently have no effect."""
    if cfg.new_track_score < cfg.high_score:
        raise ValueError(
            f"new_track_score ({cfg.new_track_score}) must be at least high_score ({cfg.high_score}): "
            "only detections of the first association can start tracks"
        )
