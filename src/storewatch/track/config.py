"""Configuration of the multi-object tracker (ByteTrack family). Lifetimes are in seconds, not frames."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, model_validator


class ReportBox(StrEnum):
    DETECTION = "detection"
    """The matched detection's box: what the camera saw."""
    FILTERED = "filtered"
    """The Kalman filter's estimate: smoother, lags on sudden moves."""


class TrackerConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    high_score: float = Field(
        0.5, gt=0.0, lt=1.0, description="Detections at or above this score take part in the first association."
    )
    low_score: float = Field(
        0.1, ge=0.0, lt=1.0, description="Detections between this and high_score only extend existing tracks."
    )
    new_track_score: float = Field(
        0.7, gt=0.0, le=1.0, description="Minimum score of a detection that starts a track (high: few false tracks)."
    )
    match_iou: float = Field(0.2, gt=0.0, lt=1.0, description="Minimum IoU for the first (high score) association.")
    low_match_iou: float = Field(0.5, gt=0.0, lt=1.0, description="Minimum IoU for the second (low score) association.")
    tentative_match_iou: float = Field(
        0.3, gt=0.0, lt=1.0, description="Minimum IoU to confirm a tentative track with its second detection."
    )
    lost_ttl_s: float = Field(
        3.0, gt=0.0, le=600.0, description="How long a lost track is kept so it can be re-found, in seconds."
    )
    min_hits: int = Field(2, ge=1, le=100, description="Hits a new track needs before it is reported.")
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
    def _scores_ordered(self) -> TrackerConfig:
        if not self.low_score < self.high_score:
            raise ValueError(f"low_score ({self.low_score}) must be below high_score ({self.high_score})")
        return self
