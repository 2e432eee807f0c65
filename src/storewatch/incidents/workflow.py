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
    loss_minor: int | None = None
    """The loss in minor units of ``currency`` (cents): exact, unlike a float."""
    currency: str | None = None
    event_ids: tuple[str, ...] = ()
    timeline: tuple[TimelineEntry, ...] = field(default=())
    false_alarm_reason: str | None = None
    camera: str | None = None
    """Where it started (namespaced camera id) and in which zone, when it has one."""
    zone: str | None = None
    legal_hold: bool = False
    resolved: datetime | None = None

    @classmethod
    def open(
        cls,
        id: str,
        store: str,
        at: datetime,
        title: str,
        actor: str = "system",
        *,
        camera: str | None = None,
        zone: str | None = None,
    ) -> Incident:
        entry = TimelineEntry(at, actor, "opened", title)
        return cls(id, store, IncidentState.OPEN, title, at, at, timeline=(entry,), camera=camera, zone=zone)

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
        resolved = at if to in CLOSED else None
        return replace(self, state=to, updated=at, false_alarm_reason=fa, resolved=resolved,
                       timeline=(*self.timeline, TimelineEntry(at, actor, to.value, reason.strip())))  # fmt: skip

    def note(self, actor: str, at: datetime, text: str) -> Incident:
        if not text.strip():
            raise TransitionError("a note needs text")
        return replace(self, updated=at, timeline=(*self.timeline, TimelineEntry(at, actor, "note", text.strip())))

    def assign(self, actor: str, at: datetime, assignee: str | None) -> Incident:
        entry = TimelineEntry(at, actor, "assigned", assignee or "nobody")
        return replace(self, assignee=assignee, updated=at, timeline=(*self.timeline, entry))

    def tag(self, actor: str, at: datetime, add: tuple[str, ...] = (), remove: tuple[str, ...] = ()) -> Incident:
        bad = [t for t in (*add, *remove) if not t.strip() or len(t) > 40]
        if bad:
            raise TransitionError(f"a tag is 1 to 40 characters: {bad[0]!r}")
        tags = tuple(dict.fromkeys(t for t in (*self.tags, *(a.strip() for a in add)) if t not in set(remove)))
        if tags == self.tags:
            return self
        text = " ".join([*(f"+{t}" for t in add), *(f"-{t}" for t in remove)])
        return replace(self, tags=tags, updated=at, timeline=(*self.timeline, TimelineEntry(at, actor, "tags", text)))

    def set_loss(self, actor: str, at: datetime, minor: int | None, currency: str | None) -> Incident:
        """Record the loss (``minor`` units of the ISO 4217 ``currency``; None clears it)."""
        if minor is not None and (minor < 0 or currency is None or len(currency) != 3 or not currency.isalpha()):
            raise TransitionError("a loss is a non-negative amount with a 3-letter currency code, e.g. 129.99 EUR")
        cur = currency.upper() if minor is not None and currency else None
        text = "cleared" if minor is None else f"{minor / 100:.2f} {cur}"
        entry = TimelineEntry(at, actor, "loss", text)
        return replace(self, loss_minor=minor, currency=cur, updated=at, timeline=(*self.timeline, entry))

    def hold(self, actor: str, at: datetime, on: bool, reason: str = "") -> Incident:
        """Legal hold: while on, retention keeps the incident's evidence."""
        if on and not reason.strip():
            raise TransitionError("a legal hold needs a reason (e.g. the police reference)")
        entry = TimelineEntry(at, actor, "legal_hold" if on else "hold_released", reason.strip())
        return replace(self, legal_hold=on, updated=at, timeline=(*self.timeline, entry))

    def alert_acknowledged(
        self, event_id: str, by: str, at: datetime, false_alarm_reason: str | None = None, how: str = ""
    ) -> Incident:
        """An alert about ``event_id`` was acknowledged (``how``: e.g. "from the dashboard"). An open incident
        becomes acknowledged; an alert called a false alarm closes an incident about that event alone as a false
        alarm (with the reason) and is noted on one with other events. A closed incident is left as it is."""
        if self.closed:
            return self
        reason = (false_alarm_reason or "").strip()
        if reason and self.event_ids == (event_id,):
            return self.move(IncidentState.FALSE_ALARM, by, at, reason=reason)
        case = self.note(by, at, f"alert for event {event_id[:8]} called a false alarm: {reason}") if reason else self
        if case.state == IncidentState.OPEN:
            case = case.move(IncidentState.ACKNOWLEDGED, by, at, reason=f"alert acknowledged {how}".strip())
        return case

    def record(self, kind: str, text: str, at: datetime, actor: str = "system") -> Incident:
        """A timeline entry of the system's (evidence saved, an event ended...)."""
        return replace(self, updated=at, timeline=(*self.timeline, TimelineEntry(at, actor, kind, text)))

    def with_event(self, event_id: str, at: datetime, text: str) -> Incident:
        if event_id in self.event_ids:
            return self
        entry = TimelineEntry(at, "system", "event", text)
        return replace(self, event_ids=(*self.event_ids, event_id), updated=at, timeline=(*self.timeline, entry))
