"""Payloads of the ``incident``, ``alert``, ``thumbnail`` and ``config_ack`` sync messages (``event`` and ``health``
carry an ``Event``).

An incident travels whole (its fields, event ids and timeline): the edge owns its store's incidents, so the hub
keeps the newest copy it has seen; ``newer_than`` says which of two copies is newer (a longer timeline, or a later
update), so a late or repeated message never undoes a newer state.

>>> from datetime import UTC, datetime
>>> from storewatch.incidents.workflow import Incident, IncidentState
>>> t = datetime(2026, 3, 2, 12, tzinfo=UTC)
>>> first = Incident.open("i1", "s1", t, "loitering")
>>> later = first.move(IncidentState.ACKNOWLEDGED, "ana", t)
>>> p = IncidentPayload.of(later)
>>> p.incident() == later, newer_than(later, first), newer_than(first, later)
(True, True, False)

An alert travels whole too, each time its state changes; ``AlertPayload.rank`` orders its states (waiting, then
each escalation level, then acknowledged or called a false alarm: final), so the hub keeps the highest it has seen.

>>> raised = AlertPayload(id="a1", event_id="e1", route="guards", store="s1", camera="s1/door",
...                       event_type="walk_out", severity="high", status="waiting", level=0, raised=t)
>>> acked = raised.model_copy(update={"status": AlertStatus.ACKNOWLEDGED, "acknowledged_by": "ana"})
>>> acked.rank > raised.model_copy(update={"level": 2}).rank > raised.rank
True
"""

from __future__ import annotations

import base64
import binascii
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, field_validator

from storewatch.core.events import Severity
from storewatch.incidents.workflow import Incident, IncidentState, TimelineEntry
from storewatch.store.alerts import AlertRecord
from storewatch.store.models import AlertStatus

MAX_THUMBNAIL_BYTES = 48_000
"""A thumbnail larger than this (as JPEG) is not sent; the hub shows 'kept at the store' for that event."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TimelinePayload(_Strict):
    at: datetime
    actor: str
    kind: str
    text: str = ""


class IncidentPayload(_Strict):
    id: str = Field(min_length=1, max_length=32)
    store: str
    state: IncidentState
    title: str
    created: datetime
    updated: datetime
    assignee: str | None = None
    tags: tuple[str, ...] = ()
    loss_minor: int | None = None
    currency: str | None = None
    event_ids: tuple[str, ...] = ()
    timeline: tuple[TimelinePayload, ...] = ()
    false_alarm_reason: str | None = None
    camera: str | None = None
    zone: str | None = None
    legal_hold: bool = False
    resolved: datetime | None = None

    @classmethod
    def of(cls, incident: Incident) -> IncidentPayload:
        fields = {name: getattr(incident, name) for name in cls.model_fields if name != "timeline"}
        timeline = tuple(TimelinePayload(at=t.at, actor=t.actor, kind=t.kind, text=t.text) for t in incident.timeline)
        return cls(**fields, timeline=timeline)

    def incident(self) -> Incident:
        fields = {name: getattr(self, name) for name in type(self).model_fields if name != "timeline"}
        timeline = tuple(TimelineEntry(t.at, t.actor, t.kind, t.text) for t in self.timeline)
        return Incident(**fields, timeline=timeline)


def newer_than(a: Incident, b: Incident) -> bool:
    """Whether ``a`` is a later state of the incident than ``b`` (the timeline only grows)."""
    return (len(a.timeline), a.updated, len(a.event_ids)) > (len(b.timeline), b.updated, len(b.event_ids))


def fingerprint(incident: Incident) -> str:
    """What changes whenever an incident changes (for the edge to notice without listening)."""
    return f"{incident.state.value}|{len(incident.timeline)}|{len(incident.event_ids)}|{incident.updated.isoformat()}"


class ConfigAck(_Strict):
    """The configuration an edge runs: sent at start and after each version it receives."""

    version: int = Field(ge=0, description="Version running (0: the site file alone).")
    received: int | None = Field(None, ge=1, description="The version this acknowledges (None: at start).")
    ok: bool = Field(True, description="False when ``received`` was refused (the edge runs ``version``).")
    error: str | None = Field(None, max_length=2000, description="Why it was refused.")
    cameras: tuple[str, ...] = Field((), description="The cameras the edge runs (store/camera).")


class AlertPayload(_Strict):
    """One alert's state, as the edge's ``alerts`` table has it."""

    id: str = Field(min_length=1, max_length=32)
    event_id: str = Field(min_length=1, max_length=128)
    route: str = Field(max_length=80)
    store: str
    camera: str = Field(max_length=128)
    event_type: str = Field(max_length=128)
    severity: Severity
    status: AlertStatus
    level: int = Field(ge=0)
    raised: datetime
    last_sent: datetime | None = None
    acknowledged: datetime | None = None
    acknowledged_by: str | None = Field(None, max_length=128)
    time_to_ack_s: float | None = None
    false_alarm_reason: str | None = Field(None, max_length=500)

    @classmethod
    def of(cls, record: AlertRecord) -> AlertPayload:
        return cls(id=record.id, event_id=record.event_id, route=record.route, store=record.store,
                   camera=record.camera, event_type=record.event_type, severity=record.severity,
                   status=record.status, level=record.level, raised=record.raised, last_sent=record.last_sent,
                   acknowledged=record.acknowledged, acknowledged_by=record.acknowledged_by,
                   time_to_ack_s=record.time_to_ack_s, false_alarm_reason=record.false_alarm_reason)  # fmt: skip

    @property
    def rank(self) -> tuple[int, int, datetime]:
        """Later states rank higher: an acknowledgement (final) above any escalation, a higher level above a lower."""
        final = self.status != AlertStatus.WAITING
        return int(final), self.level, self.last_sent or self.raised

    def fingerprint(self) -> str:
        """What changes whenever the alert changes (for the edge to notice without listening)."""
        acked = self.acknowledged.isoformat() if self.acknowledged else ""
        return f"{self.status.value}|{self.level}|{acked}"


class ThumbnailPayload(_Strict):
    """A small JPEG of an event's snapshot, made at the edge from the snapshot file (already privacy-protected)."""

    event_id: str = Field(min_length=1, max_length=128)
    width: int = Field(ge=1, le=4096)
    height: int = Field(ge=1, le=4096)
    jpeg: str = Field(description="The JPEG, base64.")

    @field_validator("jpeg")
    @classmethod
    def _small_jpeg(cls, v: str) -> str:
        try:
            data = base64.b64decode(v, validate=True)
        except (binascii.Error, ValueError):
            raise ValueError("not base64") from None
        if len(data) > MAX_THUMBNAIL_BYTES:
            raise ValueError(f"thumbnail of {len(data)} bytes is over {MAX_THUMBNAIL_BYTES}")
        if not data.startswith(b"\xff\xd8"):
            raise ValueError("not a JPEG")
        return v

    def data(self) -> bytes:
        return base64.b64decode(self.jpeg)


class ErasurePayload(_Strict):
    """A data subject's erasure done at the store (``privacy.subject_actions``): the events, only that person's,
    whose copies the hub removes too. Sent on the store's own stream after everything already in the outbox, so
    the hub never receives a copy of them after it."""

    request: str = Field(min_length=1, max_length=200, description="The subject request's reference (audit).")
    event_ids: list[str] = Field(min_length=1, max_length=10_000)
