"""Building scenario tests for the behaviour rules: people (and objects) moving on a timeline, fed to an engine."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np

from storewatch.behaviour.engine import BehaviourEngine
from storewatch.behaviour.geometry import LineGeometry, ZoneGeometry
from storewatch.core.detections import Detections
from storewatch.core.events import Event

W, H = 640, 480
T0 = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)  # a Monday, noon UTC

Box = tuple[float, float, float, float]


@dataclass(frozen=True)
class Actor:
    """A track: ``path(t) -> box or None`` (None: not seen at t)."""

    track_id: int
    path: Callable[[float], Box | None]
    class_id: int = 0


def person_at(x: float, y: float, h: float = 120.0) -> Box:
    """A person standing with their feet at (x, y), ``h`` pixels tall, a third as wide."""
    return (x - h / 6, y - h, x + h / 6, y)


def walking(start: tuple[float, float], end: tuple[float, float], t0: float, t1: float, h: float = 120.0):
    """Feet moving in a straight line from ``start`` (at t0) to ``end`` (at t1); unseen outside [t0, t1]."""

    def path(t: float) -> Box | None:
        if t < t0 or t > t1:
            return None
        a = (t - t0) / max(t1 - t0, 1e-9)
        return person_at(start[0] + a * (end[0] - start[0]), start[1] + a * (end[1] - start[1]), h)

    return path


def standing(x: float, y: float, t0: float, t1: float, h: float = 120.0):
    return walking((x, y), (x, y), t0, t1, h)


def zone(id: str, kind: str, x1: float, y1: float, x2: float, y2: float) -> ZoneGeometry:
    """A rectangular zone, corners in normalised coordinates."""
    return ZoneGeometry.from_normalised(id, kind, [(x1, y1), (x2, y1), (x2, y2), (x1, y2)], W, H)


def line(id: str, kind: str, a: tuple[float, float], b: tuple[float, float], inside: str = "left") -> LineGeometry:
    return LineGeometry.from_normalised(id, kind, [a, b], inside, W, H)


def engine(
    zones: Sequence[ZoneGeometry] = (), lines: Sequence[LineGeometry] = (), rules: Mapping[str, Any] | None = None,
    only: Iterable[str] | None = None, **kwargs: Any,
) -> BehaviourEngine:  # fmt: skip
    """An engine on a 640x480 camera; ``only`` turns every other rule off."""
    from storewatch.behaviour.rules.registry import RULES

    settings: dict[str, Any] = {k: dict(v) for k, v in (rules or {}).items()}
    if only is not None:
        keep = set(only)
        for name in RULES:
            settings.setdefault(name, {})
            if name not in keep:
                settings[name]["enabled"] = False
    return BehaviourEngine("s1/cam", zones, lines, width=W, height=H, rules=settings, **kwargs)


def run(eng: BehaviourEngine, actors: Sequence[Actor], seconds: float, fps: float = 5.0, t_start: float = 0.0,
        start_utc: datetime = T0) -> list[Event]:  # fmt: skip
    """Feed ``seconds`` of the actors at ``fps``; returns every event, then closes the engine."""
    events: list[Event] = []
    for i in range(round(seconds * fps) + 1):
        t = t_start + i / fps
        rows = [(a.track_id, a.class_id, box) for a in actors if (box := a.path(t)) is not None]
        dets = Detections(
            np.array([r[2] for r in rows], np.float32).reshape(-1, 4),
            np.ones(len(rows)),
            np.array([r[1] for r in rows], np.int64),
            np.array([r[0] for r in rows], np.int64),
        )
        events.extend(eng.process(t, start_utc + timedelta(seconds=t), dets))
    return events + eng.close()


def started(events: Iterable[Event], type_: str) -> list[Event]:
    return [e for e in events if e.type == type_ and e.state.value == "started"]
