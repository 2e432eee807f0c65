"""Findings frame by frame -> events with a lifecycle: ``started``, ``updated`` (at most every ``update_every_s``,
with the latest measured values), ``ended`` (after ``end_after_s`` without a finding). A key that just ended
stays quiet for the rule's ``cooldown_s``: one person loitering for ten minutes is one event, not a hundred.

>>> from datetime import UTC, datetime, timedelta
>>> from storewatch.behaviour.rules.base import Finding, RuleConfig
>>> eps = Episodes("loitering", RuleConfig(end_after_s=1, cooldown_s=30), "s/c")
>>> t0 = datetime(2026, 1, 1, tzinfo=UTC)
>>> def step(t, found):
...     return [(e.state.value, e.start_s, e.end_s) for e in eps.step(
...         [Finding("k", "x", values={"dwell_s": t})] if found else [], t, t0 + timedelta(seconds=t))]
>>> step(0, True), step(0.5, True), step(1.0, False), step(2.0, False), step(3.0, True)
([('started', 0.0, None)], [], [], [('ended', 0.0, 0.5)], [])
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from dataclasses import dataclass
from datetime import datetime

from storewatch.behaviour.rules.base import Finding, RuleConfig
from storewatch.core.events import Event, EventState, Severity
from storewatch.core.ids import CameraId

UPDATE_EVERY_S = 10.0


@dataclass
class _Open:
    event: Event
    last_seen_s: float
    last_seen_utc: datetime
    last_update_s: float
    finding: Finding


class Episodes:
    def __init__(self, type_: str, config: RuleConfig, camera_id: str, *, update_every_s: float = UPDATE_EVERY_S):
        self.type, self.config, self.camera_id = type_, config, CameraId(camera_id)
        self.update_every_s = update_every_s
        self.open: dict[Hashable, _Open] = {}
        self.quiet_until: dict[Hashable, float] = {}

    def step(self, findings: Iterable[Finding], t_s: float, utc: datetime) -> list[Event]:
        out: list[Event] = []
        seen: set[Hashable] = set()
        for f in findings:
            if f.key in seen:
                continue
            seen.add(f.key)
            current = self.open.get(f.key)
            if current is not None:
                current.last_seen_s, current.last_seen_utc, current.finding = t_s, utc, f
                if t_s - current.last_update_s >= self.update_every_s:
                    current.last_update_s = t_s
                    current.event = self._with(current.event, f, EventState.UPDATED)
                    out.append(current.event)
                continue
            if t_s < self.quiet_until.get(f.key, float("-inf")):
                continue
            event = Event.start(
                self.type, self.camera_id, utc, f.explanation, start_s=t_s, zone=f.zone, track_ids=f.track_ids,
                values=f.values, severity=f.severity if isinstance(f.severity, Severity) else self.config.severity,
            )  # fmt: skip
            self.open[f.key] = _Open(event, t_s, utc, t_s, f)
            out.append(event)
        for key in [
            k for k, o in self.open.items() if k not in seen and t_s - o.last_seen_s >= self.config.end_after_s
        ]:
            out.append(self._end(key))
        if len(self.quiet_until) > 10_000:  # forget cool-downs long over
            self.quiet_until = {k: v for k, v in self.quiet_until.items() if v > t_s}
        return out

    def close_all(self) -> list[Event]:
        """End every open episode (the end of a replay, a camera removed)."""
        return [self._end(key) for key in list(self.open)]

    def _end(self, key: Hashable) -> Event:
        o = self.open.pop(key)
        self.quiet_until[key] = o.last_seen_s + self.config.cooldown_s
        ended = self._with(o.event, o.finding, EventState.ENDED)
        return ended.model_copy(update={"end_utc": o.last_seen_utc, "end_s": o.last_seen_s})

    @staticmethod
    def _with(event: Event, f: Finding, state: EventState) -> Event:
        tracks = tuple(dict.fromkeys((*event.track_ids, *f.track_ids)))
        return event.model_copy(
            update={"state": state, "values": {**event.values, **f.values}, "explanation": f.explanation,
                    "track_ids": tracks}
        )  # fmt: skip
