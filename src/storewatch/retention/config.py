"""The ``retention:`` section of the site file: how many days each kind of data is kept, and when purging runs.

Every kind has its own ``<kind>_days`` (1 to 3650; ``null`` keeps it until removed by hand). Media cannot outlive
the events they belong to (a snapshot without its event cannot be found or explained), and a key that names no
kind is refused with the list of kinds. Legal holds and open incidents are not settings: their evidence is always
kept (see ``retention.service``).

>>> RetentionConfig().days(DataKind.CLIPS), RetentionConfig().days(DataKind.AUDIT)
(30, 730)
>>> from pydantic import ValidationError
>>> try:
...     RetentionConfig.model_validate({"clip_days": 7})
... except ValidationError as exc:
...     print(exc.errors()[0]["msg"][:68])
Value error, unknown retention kind 'clip_days': the kinds are clips
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, model_validator


class DataKind(StrEnum):
    CLIPS = "clips"
    SNAPSHOTS = "snapshots"
    PATH_PICTURES = "path_pictures"
    TRACKS = "tracks"
    APPEARANCE = "appearance"
    """Appearance features (colour signatures, embeddings): none are stored yet; the setting is kept so a site
    file states its limit before any are."""
    EVENTS = "events"
    ALERTS = "alerts"
    POS = "pos"
    AUDIT = "audit"


MEDIA_KINDS = (DataKind.CLIPS, DataKind.SNAPSHOTS, DataKind.PATH_PICTURES)
Days = Annotated[int | None, Field(ge=1, le=3650)]


class RetentionConfig(BaseModel):
    """How long each kind of data is kept (days, counted back from when the purge runs)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = Field(True, description="Purge automatically: once when the runner starts, then daily.")
    run_at_hour: int = Field(3, ge=0, le=23, description="Hour of the day (site time zone) of the daily purge.")
    clips_days: Days = Field(30, description="Event video clips (local files and bucket objects).")
    snapshots_days: Days = Field(30, description="Event snapshots (JPEG).")
    path_pictures_days: Days = Field(30, description="Pictures of the paths people walked (JPEG).")
    tracks_days: Days = Field(30, description="Recorded tracks (boxes over time, CSV per camera and day).")
    appearance_days: Days = Field(30, description="Appearance features of tracked people (none are stored yet).")
    events_days: Days = Field(365, description="Events in the database and the daily events log files.")
    alerts_days: Days = Field(365, description="Alerts, their deliveries and delivery attempts, deterrent log.")
    pos_days: Days = Field(365, description="Till transactions, their exceptions and quarantined POS records.")
    audit_days: Days = Field(730, description="The audit log (who viewed, exported or changed what).")

    @model_validator(mode="before")
    @classmethod
    def _known_kinds(cls, data: Any) -> Any:
        if isinstance(data, dict):
            unknown = [k for k in data if k not in cls.model_fields]
            if unknown:
                kinds = ", ".join(f"{k.value}_days" for k in DataKind)
                raise ValueError(
                    f"unknown retention kind {unknown[0]!r}: the kinds are {kinds} (and enabled, run_at_hour)"
                )
        return data

    @model_validator(mode="after")
    def _media_within_events(self) -> RetentionConfig:
        events = self.events_days
        for kind in MEDIA_KINDS:
            days = self.days(kind)
            if events is not None and (days is None or days > events):
                shown = "forever" if days is None else f"{days} days"
                raise ValueError(
                    f"{kind.value}_days ({shown}) is longer than events_days ({events}): evidence cannot outlive "
                    "its events (lower it, or raise events_days)"
                )
        return self

    def days(self, kind: DataKind) -> int | None:
        value: int | None = getattr(self, f"{kind.value}_days")
        return value
