"""The incident workflow: states, who may move an incident where, and the timeline every move leaves.

``open`` -> ``acknowledged`` -> ``investigating`` -> ``resolved`` | ``false_alarm``; an incident can be resolved or
called a false alarm from any open state, and reopened from either end state (the reason is kept). Every change is
a ``TimelineEntry`` (who, when, what, free text), so the record shows how the case was handled. A false alarm
needs a reason: it is what the later learning issue learns from.

>>> from datetime import UTC, datetime
>>> t = datetime(2026, 3, 2, 12, tzinfo=UTC)
>>> case = Incident.open("i1", "s1", t, "loitering at electronics")
>>> case = case.move(IncidentState.ACKNOWLEDGED, "guard-7", t)
>>> case = case.move(IncidentState.FALSE_ALARM, "guard-7", t, reason="staff member restocking")
>>> case.state.value, [e.kind for e in case.timeline]
('false_alarm', ['opened', 'acknowledged', 'false_alarm'])
>>> case.move(IncidentState.INVESTIGATING, "guard-7", t)  # doctest: +IGNORE_EXCEPTION_DETAIL
Traceback (most recent call last):
...
TransitionError: incident i1 is false_alarm: it can go to open, not investigating
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum


class IncidentState(StrEnum):
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    INVESTIGATING = "investigating"
    RESOLVED = "resolved"
    FALSE_ALARM = "false_alarm"


ALLOWED: dict[IncidentState, tuple[IncidentState, ...]] = {
    IncidentState.OPEN: (IncidentState.ACKNOWLEDGED, IncidentState.INVESTIGATING, IncidentState.RESOLVED,
                         IncidentState.FALSE_ALARM),
    IncidentState.ACKNOWLEDGED: (IncidentState.INVESTIGATING, IncidentState.RESOLVED, IncidentState.FALSE_ALARM),
    IncidentState.INVESTIGATING: (IncidentState.RESOLVED, IncidentState.FALSE_ALARM),
    IncidentState.RESOLVED: (IncidentState.OPEN,),
    IncidentState.FALSE_ALARM: (IncidentState.OPEN,),
}  # fmt: skip
"""Where an incident in each state may go next."""

CLOSED = (IncidentState.RESOLVED, IncidentState.FALSE_ALARM)


class TransitionError(ValueError):
    """A move the workflow does not allow (or one missing what it needs, like a false alarm's reason)."""


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    at: datetime
    actor: str
    kind: str
    """``opened``, a state it moved to, ``event``, ``note``, ``assigned``, ``evidence``..."""
    text: str = ""


@dataclass(frozen=True, slots=True)
class Incident:
    id: str
    store: str
    state: IncidentState
    title: str
    created: datetime
    updated: datetime
    assignee: str | None = None
    tags: tuple[str, ...] = ()
    loss_value: float | None = None
    event_ids: tuple[str, ...] = ()
    timeline: tuple[TimelineEntry, ...] = field(default=())
    false_alarm_reason: str | None = None

    @classmethod
    def open(cls, id: str, store: str, at: datetime, title: str, actor: str = "system") -> Incident:
        return cls(id, store, IncidentState.OPEN, title, at, at, timeline=(TimelineEntry(at, actor, "opened", title),))

    @property
    def closed(self) -> bool:
        return self.state in CLOSED

    def move(self, to: IncidentState, actor: str, at: datetime, *, reason: str = "") -> Incident:
        if to not in ALLOWED[self.state]:
            allowed = ", ".join(s.value for s in ALLOWED[self.state])
            raise TransitionError(f"incident {self.id} is {self.state.value}: it can go to {allowed}, not {to.value}")
        if to == IncidentState.FALSE_ALARM and not reason.strip():
            raise TransitionError(f"incident {self.id}: a false alarm needs a reason (what it really was)")
        fa = reason.strip() if to == IncidentState.FALSE_ALARM else self.false_alarm_reason
        return replace(self, state=to, updated=at, false_alarm_reason=fa,
                       timeline=(*self.timeline, TimelineEntry(at, actor, to.value, reason.strip())))  # fmt: skip

    def note(self, actor: str, at: datetime, text: str) -> Incident:
        if not text.strip():
            raise TransitionError("a note needs text")
        return replace(self, updated=at, timeline=(*self.timeline, TimelineEntry(at, actor, "note", text.strip())))

    def assign(self, actor: str, at: datetime, assignee: str | None) -> Incident:
        entry = TimelineEntry(at, actor, "assigned", assignee or "nobody")
        return replace(self, assignee=assignee, updated=at, timeline=(*self.timeline, entry))

    def with_event(self, event_id: str, at: datetime, text: str) -> Incident:
        if event_id in self.event_ids:
            return self
        entry = TimelineEntry(at, "system", "event", text)
        return replace(self, event_ids=(*self.event_ids, event_id), updated=at, timeline=(*self.timeline, entry))
