"""The door-access rules, pure functions of the events, the door cameras' views and the store schedules. Each
finding is an ``AccessException`` with a stable id (``code:store/door:time``: re-evaluating never duplicates),
the numbers that made it fire and, for a door with a camera, the video window to look at.

* ``tailgating``: more people crossed the door's line inwards than badges were granted at that door in a window
  (each grant opens ``before_s`` before to ``window_s`` after it; overlapping windows are one episode).
* ``restricted_entry_no_badge``: someone entered the door's restricted zone with no grant at the door from
  ``window_s`` before to ``after_s`` after.
* ``after_hours_badge``: a badge used while the store is closed (its opening hours and holidays).
* ``forced_door``: the system reports the door forced, or the door opened with no grant in the ``grace_s`` before.

The camera rules raise only on what the recording shows (a crossing, an entry) against what the access system
did not log: a stretch without recorded frames shows nothing, so it raises nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from storewatch.access.config import AccessConfig, DoorMapping
from storewatch.access.doorview import DoorView
from storewatch.access.events import AccessEvent, AccessKind
from storewatch.behaviour.schedule import StoreSchedule
from storewatch.pos.exceptions import ClipWindow


class AccessCode(StrEnum):
    TAILGATING = "tailgating"
    RESTRICTED_ENTRY_NO_BADGE = "restricted_entry_no_badge"
    AFTER_HOURS_BADGE = "after_hours_badge"
    FORCED_DOOR = "forced_door"


class AccessException(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(description="code:store/door:time, stable across re-evaluation.")
    code: AccessCode
    store: str
    door: str
    at_utc: datetime
    explanation: str
    values: dict[str, Any] = Field(default_factory=dict)
    badge: str | None = None
    person: str | None = None
    clip: ClipWindow | None = None


def _finding(
    code: AccessCode, store: str, door: str, t: datetime, text: str, values: dict[str, Any], **extra: Any
) -> AccessException:
    t = t.astimezone(UTC)
    ident = f"{code.value}:{store}/{door}:{t.isoformat()}"
    return AccessException(
        id=ident, code=code, store=store, door=door, at_utc=t, explanation=text, values=values, **extra
    )


def _utc(t_s: float) -> datetime:
    return datetime.fromtimestamp(t_s, UTC)


def _clip(door: DoorMapping, a: datetime, b: datetime, config: AccessConfig) -> ClipWindow | None:
    if door.camera is None:
        return None
    before, after = timedelta(seconds=config.clip.before_s), timedelta(seconds=config.clip.after_s)
    return ClipWindow(camera=door.camera, start_utc=a - before, end_utc=b + after)


def tailgating(
    door: DoorMapping, grants: Sequence[datetime], view: DoorView, config: AccessConfig
) -> list[AccessException]:
    cfg = config.rules.tailgating
    windows = sorted((g.timestamp() - cfg.before_s, g.timestamp() + cfg.window_s) for g in grants)
    episodes: list[list[float]] = []
    for a, b in windows:
        if episodes and a <= episodes[-1][1]:
            episodes[-1][1] = max(episodes[-1][1], b)
            episodes[-1][2] += 1
        else:
            episodes.append([a, b, 1])
    found = []
    for a, b, badges in episodes:
        inside = view.crossings_in[(view.crossings_in >= a) & (view.crossings_in <= b)]
        if len(inside) <= badges:
            continue
        start, end = _utc(a + cfg.before_s), _utc(b)
        found.append(
            _finding(
                AccessCode.TAILGATING,
                door.store,
                door.door,
                start,
                f"{len(inside)} people went through door {door.door} on {int(badges)} badge(s)",
                {
                    "people": len(inside),
                    "badges": int(badges),
                    "window_s": round(b - a, 1),
                    "crossings": [_utc(t).isoformat() for t in inside.tolist()],
                },
                clip=_clip(door, start, end, config),
            )
        )
    return found


def restricted_entry(
    door: DoorMapping, grants: Sequence[datetime], view: DoorView, config: AccessConfig
) -> list[AccessException]:
    cfg = config.rules.restricted_entry
    granted = np.array(sorted(g.timestamp() for g in grants), np.float64)
    found = []
    for t in view.entries.tolist():
        a, b = t - cfg.window_s, t + cfg.after_s
        if len(granted) and bool(((granted >= a) & (granted <= b)).any()):
            continue
        when = _utc(t)
        found.append(
            _finding(
                AccessCode.RESTRICTED_ENTRY_NO_BADGE,
                door.store,
                door.door,
                when,
                f"someone entered zone {door.zone} with no badge granted at door {door.door} "
                f"from {cfg.window_s:g} s before to {cfg.after_s:g} s after",
                {"zone": door.zone, "window_s": cfg.window_s + cfg.after_s},
                clip=_clip(door, when, when, config),
            )
        )
    return found


def after_hours(
    events: Iterable[AccessEvent], is_open: Callable[[str, datetime], bool | None], config: AccessConfig
) -> list[AccessException]:
    """``is_open(store, utc)``: whether the store is open then (None: no schedule known, not judged)."""
    cfg = config.rules.after_hours
    found = []
    for e in events:
        if e.kind is not AccessKind.BADGE or (not e.granted and not cfg.include_denied):
            continue
        if is_open(e.store, e.at_utc) is not False:
            continue
        door = config.door(e.store, e.door)
        found.append(
            _finding(
                AccessCode.AFTER_HOURS_BADGE,
                e.store,
                e.door,
                e.at_utc,
                f"badge {e.badge} {e.result.value if e.result else ''} at door {e.door} while the store is closed",
                {"result": e.result.value if e.result else None},
                badge=e.badge,
                person=e.person,
                clip=_clip(door, e.at_utc, e.at_utc, config) if door else None,
            )
        )
    return found


def forced_door(events: Sequence[AccessEvent], config: AccessConfig) -> list[AccessException]:
    grace = config.rules.forced_door.grace_s
    grants: dict[tuple[str, str], list[float]] = {}
    for e in events:
        if e.granted:
            grants.setdefault((e.store, e.door), []).append(e.at_utc.timestamp())
    found = []
    for e in events:
        if e.kind not in (AccessKind.DOOR_FORCED, AccessKind.DOOR_OPEN):
            continue
        t = e.at_utc.timestamp()
        recent = [g for g in grants.get((e.store, e.door), []) if t - grace <= g <= t + 0.5]
        if e.kind is AccessKind.DOOR_OPEN and recent:
            continue
        door = config.door(e.store, e.door)
        reported = e.kind is AccessKind.DOOR_FORCED
        found.append(
            _finding(
                AccessCode.FORCED_DOOR,
                e.store,
                e.door,
                e.at_utc,
                f"door {e.door} "
                + ("reported forced" if reported else f"opened with no badge granted in the {grace:g} s before"),
                {"reported_by_system": reported, "grace_s": grace},
                clip=_clip(door, e.at_utc, e.at_utc, config) if door else None,
            )
        )
    return found


def schedule_check(
    schedules: Mapping[str, tuple[StoreSchedule, str]],
) -> Callable[[str, datetime], bool | None]:
    """``is_open`` for ``after_hours`` from each store's schedule and time zone."""

    def is_open(store: str, utc: datetime) -> bool | None:
        known = schedules.get(store)
        return None if known is None else known[0].is_open(utc, known[1])

    return is_open


class AccessRules:
    """All enabled rules over a batch of events: ``check(events, views)``; ``views`` by (store, door), for doors
    with a camera and recorded tracks."""

    def __init__(self, config: AccessConfig, is_open: Callable[[str, datetime], bool | None]) -> None:
        self.config, self.is_open = config, is_open

    def check(self, events: Sequence[AccessEvent], views: Mapping[tuple[str, str], DoorView]) -> list[AccessException]:
        r = self.config.rules
        found: list[AccessException] = []
        if r.after_hours.enabled:
            found += after_hours(events, self.is_open, self.config)
        if r.forced_door.enabled:
            found += forced_door(events, self.config)
        for (store, door_id), view in views.items():
            door = self.config.door(store, door_id)
            if door is None:
                continue
            grants = [e.at_utc for e in events if e.granted and e.store == store and e.door == door_id]
            if r.tailgating.enabled and door.line is not None:
                found += tailgating(door, grants, view, self.config)
            if r.restricted_entry.enabled and door.zone is not None:
                found += restricted_entry(door, grants, view, self.config)
        return sorted(found, key=lambda e: (e.at_utc, e.id))
