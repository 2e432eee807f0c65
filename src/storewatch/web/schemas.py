"""What the API takes and gives: one schema per direction (``...In`` parsed from requests, ``...Public`` sent).

Public schemas carry URLs to evidence (``/media/...``), never local paths; times are UTC (ISO 8601).
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from storewatch.core.events import EventState, Severity
from storewatch.incidents.workflow import IncidentState
from storewatch.store.models import AlertStatus
from storewatch.web.jobs import Job, JobState


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# --- reading -------------------------------------------------------------------------------------------------------
class Evidence(_Out):
    snapshot: str | None = Field(None, description="URL of the JPEG snapshot (at a hub: its thumbnail).")
    snapshot_full: str | None = Field(
        None, description="At a hub: URL of the full-size snapshot, fetched from the store when opened."
    )
    clip: str | None = Field(None, description="URL of the clip (MP4 or Matroska).")
    clip_type: str | None = Field(None, description="MIME type of the clip.")
    clip_original: str | None = Field(
        None, description="Media key of the clip as recorded (POST /media/unblur, with a reason, to watch it)."
    )
    clip_to_protect: str | None = Field(
        None,
        description="Media key of a clip whose faces-blurred copy is not made yet (POST /media/protect makes it).",
    )
    path: str | None = Field(None, description="URL of the picture of where the people involved walked.")


class EventPublic(_Out):
    id: str
    type: str
    title: str = Field(description="The type in words, e.g. 'Camera tampering too dark'.")
    severity: Severity
    state: EventState
    store: str
    camera: str
    zone: str | None
    track_ids: list[str]
    start_utc: datetime
    end_utc: datetime | None
    duration_s: float | None
    explanation: str
    values: dict[str, Any]
    evidence: Evidence
    updated_utc: datetime | None = None


class AlertPublic(_Out):
    id: str
    event_id: str
    route: str
    store: str
    camera: str
    event_type: str
    title: str
    severity: Severity
    status: AlertStatus
    level: int = Field(description="Escalation level reached (0: the first).")
    raised_utc: datetime
    acknowledged_utc: datetime | None
    acknowledged_by: str | None
    time_to_ack_s: float | None
    false_alarm_reason: str | None
    explanation: str | None = Field(description="The event's one-line explanation (None until the event is stored).")
    evidence: Evidence
    incident_ids: list[str]


class TimelineEntryPublic(_Out):
    at_utc: datetime
    actor: str
    kind: str
    text: str


class CustodyPublic(_Out):
    at_utc: datetime
    actor: str
    action: str
    detail: dict[str, Any]


class IncidentSummary(_Out):
    id: str
    title: str
    store: str
    camera: str | None
    zone: str | None
    state: IncidentState
    assignee: str | None
    tags: list[str]
    event_count: int
    created_utc: datetime
    updated_utc: datetime


class IncidentPublic(IncidentSummary):
    loss: str | None = Field(description="Decimal string in the currency's major unit, e.g. '129.99'.")
    currency: str | None
    false_alarm_reason: str | None
    legal_hold: bool
    resolved_utc: datetime | None
    allowed_moves: list[IncidentState] = Field(description="The states it may move to next.")
    events: list[EventPublic]
    timeline: list[TimelineEntryPublic]
    custody: list[CustodyPublic]


class CameraStatus(StrEnum):
    OK = "ok"
    OFFLINE = "offline"
    TAMPERED = "tampered"
    UNKNOWN = "unknown"
    """Named in the site file, never heard from."""


class CameraHealth(_Out):
    id: str = Field(description="Namespaced: store/camera.")
    name: str
    status: CameraStatus
    since_utc: datetime | None
    reason: str
    last_event_utc: datetime | None


class StoreSummary(_Out):
    id: str
    name: str
    timezone: str
    cameras: list[CameraHealth]
    waiting_alerts: int
    open_incidents: int
    last_event_utc: datetime | None


class UserPublic(_Out):
    username: str
    display_name: str
    role: str
    stores: list[str]


class JobPublic(_Out):
    id: str
    kind: str
    title: str
    store: str | None
    state: str = Field(description="waiting, running, done or failed.")
    progress: float = Field(ge=0, le=1)
    message: str
    error: str | None
    link: str | None = Field(description="Where to go back to when it is done.")
    file_url: str | None = Field(description="Where the finished job's file is (done only).")
    file_name: str | None
    created_utc: datetime
    finished_utc: datetime | None

    @classmethod
    def of(cls, job: Job) -> JobPublic:
        done = job.state == JobState.DONE and job.result is not None
        return cls(
            id=job.id,
            kind=job.kind,
            title=job.title,
            store=job.store,
            state=job.state.value,
            progress=round(job.progress, 3),
            message=job.message,
            error=job.error,
            link=job.link,
            file_url=f"/api/v1/jobs/{job.id}/file" if done else None,
            file_name=job.result.name if done and job.result else None,
            created_utc=datetime.fromtimestamp(job.created, UTC),
            finished_utc=None if job.finished is None else datetime.fromtimestamp(job.finished, UTC),
        )


class Health(_Out):
    status: str
    database: str


# --- changing ------------------------------------------------------------------------------------------------------
class AcknowledgeIn(_In):
    false_alarm_reason: str | None = Field(
        None, max_length=500, description="Set to call it a false alarm: what it really was (needed, not blank)."
    )

    @field_validator("false_alarm_reason")
    @classmethod
    def _not_blank(cls, v: str | None) -> str | None:
        if v is not None and not v.strip():
            raise ValueError("a false alarm needs a reason: say what it really was")
        return v


class IncidentMoveIn(_In):
    to: IncidentState = Field(description="The state to move to (see the incident's allowed_moves).")
    reason: str = Field("", max_length=500, description="Why; needed for false_alarm.")


class NoteIn(_In):
    text: str = Field(min_length=1, max_length=4000, description="The note.")


class AssignIn(_In):
    assignee: str | None = Field(None, max_length=128, description="Who works it; empty or null: nobody.")


class TagsIn(_In):
    add: list[str] = Field(default_factory=list, max_length=20, description="Tags to add (1-40 characters each).")
    remove: list[str] = Field(default_factory=list, max_length=20, description="Tags to remove.")

    @field_validator("add", "remove")
    @classmethod
    def _tags(cls, v: list[str]) -> list[str]:
        cleaned = [t.strip() for t in v if t.strip()]
        bad = [t for t in cleaned if len(t) > 40]
        if bad:
            raise ValueError(f"a tag is at most 40 characters: {bad[0][:50]!r}")
        return cleaned


class LossIn(_In):
    amount: Decimal | None = Field(
        None, ge=0, max_digits=14, decimal_places=2, description="Loss in the currency's major unit; null clears it."
    )
    currency: str | None = Field(None, pattern=r"^[A-Za-z]{3}$", description="ISO 4217 code, e.g. EUR.")
