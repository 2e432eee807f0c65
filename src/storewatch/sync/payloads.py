"""Payloads of the ``incident`` and ``config_ack`` sync messages (``event`` and ``health`` carry an ``Event``).

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
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from storewatch.incidents.workflow import Incident, IncidentState, TimelineEntry


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
