"""Alerts waiting for someone to acknowledge them, and the escalation when nobody does.

``raise_alert`` records an alert for a route (level 0 told at once); ``due(now)`` returns the escalations that are
due (an alert unacknowledged past the next level's ``after_s``) and moves each alert to that level;
``acknowledge`` stops it and records who and the time to acknowledge. Every step is returned as data for the
caller to deliver and store: this module sends nothing itself.

>>> from datetime import UTC, datetime, timedelta
>>> from storewatch.routing.routes import Level, Route
>>> route = Route(name="r", levels=[Level(channels=["push"]), Level(channels=["email"], after_s=60)])
>>> esc = Escalations()
>>> t = datetime(2026, 3, 2, 12, tzinfo=UTC)
>>> first = esc.raise_alert("a1", "evt-1", route, t)
>>> first.level, first.channels, esc.due(t + timedelta(seconds=30))
(0, ('push',), [])
>>> [(s.alert_id, s.level, s.channels) for s in esc.due(t + timedelta(seconds=61))]
[('a1', 1, ('email',))]
>>> esc.acknowledge("a1", "guard-3", t + timedelta(seconds=75)).time_to_ack_s
75.0
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from storewatch.routing.routes import Route


@dataclass(frozen=True, slots=True)
class Step:
    """Tell these channels and people about alert ``alert_id`` (level ``level`` of its route)."""

    alert_id: str
    event_id: str
    route: str
    level: int
    channels: tuple[str, ...]
    people: tuple[str, ...]
    at: datetime


@dataclass(frozen=True, slots=True)
class Acknowledged:
    alert_id: str
    by: str
    at: datetime
    time_to_ack_s: float
    level: int


@dataclass
class _Pending:
    event_id: str
    route: Route
    raised: datetime
    level: int


class UnknownAlertError(KeyError):
    """No pending alert has that id (never raised, or already acknowledged)."""


class Escalations:
    def __init__(self) -> None:
        self.pending: dict[str, _Pending] = {}

    def raise_alert(self, alert_id: str, event_id: str, route: Route, at: datetime) -> Step:
        if alert_id in self.pending:
            raise ValueError(f"alert {alert_id} is pending already")
        self.pending[alert_id] = _Pending(event_id, route, at, 0)
        return self._step(alert_id, at)

    def adopt(self, alert_id: str, event_id: str, route: Route, raised: datetime, level: int) -> None:
        """Take over an alert raised earlier (e.g. before a restart) at the level it had reached."""
        self.pending[alert_id] = _Pending(event_id, route, raised, min(level, len(route.levels) - 1))

    def forget(self, alert_id: str) -> bool:
        """Stop escalating an alert handled elsewhere; whether it was pending here."""
        return self.pending.pop(alert_id, None) is not None

    def due(self, now: datetime) -> list[Step]:
        """Escalations due at ``now`` (an alert skips levels whose time has passed too: it goes to the highest due)."""
        out: list[Step] = []
        for alert_id, p in self.pending.items():
            waited = (now - p.raised).total_seconds()
            level = p.level
            while level + 1 < len(p.route.levels) and waited >= p.route.levels[level + 1].after_s:
                level += 1
            if level != p.level:
                p.level = level
                out.append(self._step(alert_id, now))
        return out

    def acknowledge(self, alert_id: str, by: str, at: datetime) -> Acknowledged:
        p = self.pending.pop(alert_id, None)
        if p is None:
            raise UnknownAlertError(f"alert {alert_id} is not waiting for acknowledgement")
        return Acknowledged(alert_id, by, at, max((at - p.raised).total_seconds(), 0.0), p.level)

    def _step(self, alert_id: str, at: datetime) -> Step:
        p = self.pending[alert_id]
        lvl = p.route.levels[p.level]
        return Step(alert_id, p.event_id, p.route.name, p.level, tuple(lvl.channels), tuple(lvl.people), at)
