"""Events: the moments worth someone's attention, as one typed, JSON-ready record.

Every source of events (camera tampering and health now; the behaviour rules, POS and door integrations later)
raises the same ``Event``: what happened (``type``, dotted: ``camera.tampering.blocked``), how bad, where (camera,
zone), who (track ids), when (start/end, UTC), its lifecycle ``state`` (``started`` -> ``updated`` -> ``ended``,
all under one ``id``), the measured values that made it fire and a one-line explanation a person can read. The
evidence (snapshot, clip) is attached by path once written.

>>> from datetime import UTC, datetime
>>> e = Event.start("camera.tampering.too_dark", CameraId("s1/c1"), datetime(2026, 1, 1, tzinfo=UTC),
...                 "view too dark: mean brightness 4 (limit 20)", values={"mean": 4.0}, severity=Severity.HIGH)
>>> e.state.value, e.severity.value, e.store
('started', 'high', 's1')
>>> e.end(datetime(2026, 1, 1, 0, 1, tzinfo=UTC)).duration_s
60.0
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from storewatch.core.ids import CameraId


class Severity(StrEnum):
    INFO = "info"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


class EventState(StrEnum):
    STARTED = "started"
    UPDATED = "updated"
    ENDED = "ended"


class Event(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(description="Stable id of the event across its started/updated/ended messages.")
    type: str = Field(pattern=r"^[a-z0-9_]+(\.[a-z0-9_]+)*$", description="Dotted type, e.g. camera.tampering.moved.")
    severity: Severity = Severity.MEDIUM
    state: EventState = EventState.STARTED
    camera: CameraId
    zone: str | None = None
    track_ids: tuple[str, ...] = ()
    start_utc: datetime
    end_utc: datetime | None = None
    start_s: float | None = Field(None, description="Start on the camera's clock (seconds), e.g. into a replayed file.")
    end_s: float | None = None
    values: dict[str, float | int | str | bool] = Field(default_factory=dict)
    explanation: str = Field(min_length=1, max_length=500)
    evidence: dict[str, str] = Field(default_factory=dict, description="Kind -> path, e.g. snapshot, clip.")

    @field_validator("start_utc", "end_utc")
    @classmethod
    def _aware(cls, v: datetime | None) -> datetime | None:
        if v is not None and v.utcoffset() is None:
            raise ValueError("times must carry a time zone (UTC)")
        return v

    @property
    def store(self) -> str:
        return str(self.camera).split("/", 1)[0]

    @property
    def duration_s(self) -> float | None:
        return None if self.end_utc is None else (self.end_utc - self.start_utc).total_seconds()

    @classmethod
    def start(cls, type_: str, camera: CameraId, at: datetime, explanation: str, **fields: Any) -> Event:
        return cls(id=uuid.uuid4().hex, type=type_, camera=camera, start_utc=at, explanation=explanation, **fields)

    def end(
        self,
        at: datetime,
        explanation: str | None = None,
        *,
        at_s: float | None = None,
        **values: float | int | str | bool,
    ) -> Event:
        """The ``ended`` message of this event."""
        return self.model_copy(
            update={
                "state": EventState.ENDED,
                "end_utc": at,
                "end_s": at_s,
                "explanation": explanation or self.explanation,
                "values": {**self.values, **values},
            }
        )

    def with_evidence(self, **paths: str) -> Event:
        return self.model_copy(update={"evidence": {**self.evidence, **paths}})
