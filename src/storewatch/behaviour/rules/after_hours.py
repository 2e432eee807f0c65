"""After-hours intrusion: any person in a watched zone while the rule is armed, by default while the store is closed.

The rule does not read the store's schedule itself (a rule sees only the scene): its ``armed`` defaults to the
built-in ``closed`` schedule, so the engine runs it only outside opening hours and on holidays. A store that
wants a grace period for staff locking up names its own schedule instead (``armed: night`` with ``night:
{mon: ["22:30-06:00"], ...}``). A store without opening hours is always open, so the rule never arms there.

It watches every zone except privacy zones (a camera without zones: the whole frame); ``zones`` narrows it, e.g.
to the doors. A person outside every watched zone is not raised: draw a zone over what must stay empty.

Two filters keep a dark, empty shop from raising all night:

* ``min_seen_s`` (1 s): a track seen for less is more likely a detector flicker on an infrared image than a
  person; an intruder is seen for far longer.
* ``min_travel_heights`` (0.5 body heights): the person must have moved at least that far at some point in the
  scene's recent past (the spread of their foot point), which a mannequin, a poster or a coat on a hook never
  does, while box jitter stays well under a tenth of a height. An intruder walks in, so is counted once moved and
  stays counted while standing still. The rule remembers, per track, only that it has moved, and forgets it when
  the track ends.

One episode per camera: an intrusion is one alarm, however many people and zones it involves (its updates carry
the count). Defaults differ from other rules because a missed intruder costs more than an extra alarm:
``severity`` high, ``end_after_s`` 30 (someone walking behind shelving stays one intrusion), ``cooldown_s`` 0 (a
new intrusion after the last ended is raised at once).

>>> AfterHoursConfig().armed, AfterHoursConfig().severity.value
('closed', 'high')
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
from pydantic import Field

from storewatch.behaviour.rules.base import Finding, Rule, RuleConfig
from storewatch.behaviour.scene import Scene, TrackHistory
from storewatch.core.events import Severity

WATCHED_KINDS = (
    "shelf", "high_value", "checkout", "queue", "entrance", "exit", "staff_only", "cash_office", "fire_exit", "custom",
)  # fmt: skip
"""Every zone kind but ``privacy``."""


class AfterHoursConfig(RuleConfig):
    severity: Severity = Field(Severity.HIGH, description="Severity of the events it raises.")
    armed: str | None = Field(
        "closed", description="Store schedule during which the rule is armed (default: whenever the store is closed)."
    )
    end_after_s: float = Field(
        30.0, ge=0.0, le=600.0, description="The intrusion ends when nobody has been found for this long."
    )
    cooldown_s: float = Field(
        0.0, ge=0.0, le=86400.0, description="After an intrusion ends, a new one is not raised for this long."
    )
    min_seen_s: float = Field(1.0, ge=0.0, le=60.0, description="Time a track must be seen before it counts.")
    min_travel_heights: float = Field(
        0.5, ge=0.0, le=20.0, description="Distance, in body heights, a person must have moved to count (0: off)."
    )


class AfterHours(Rule):
    type = "after_hours"
    every_s = 0.5
    Config = AfterHoursConfig
    zone_kinds = WATCHED_KINDS

    def __init__(self, config: RuleConfig) -> None:
        super().__init__(config)
        self._moved: set[str] = set()

    def reset(self) -> None:
        self._moved.clear()

    def evaluate(self, scene: Scene) -> Iterable[Finding]:
        cfg = self.config
        assert isinstance(cfg, AfterHoursConfig)
        self._moved.intersection_update(scene.tracks)  # forget tracks that ended
        zones = self.watched_zones(scene)
        people: list[TrackHistory] = []
        where: list[str] = []
        for person in scene.people():
            if person.track_id not in self._moved and travel_heights(person) >= cfg.min_travel_heights:
                self._moved.add(person.track_id)
            inside = [z.id for z in zones if z.id in person.zones]
            if inside and person.last_s - person.first_s >= cfg.min_seen_s and person.track_id in self._moved:
                people.append(person)
                where.extend(z for z in inside if z not in where)
        if not people:
            return []
        n = len(people)
        return [
            Finding(
                key="intrusion",
                explanation=f"{n} {'person' if n == 1 else 'people'} in {', '.join(where)} after hours",
                track_ids=tuple(sorted(p.track_id for p in people)),
                zone=where[0],
                values={"people": n, "zones": ",".join(where), "armed": cfg.armed or "always"},
            )
        ]


def travel_heights(track: TrackHistory) -> float:
    """How far the track's foot point has spread over its kept history, in body heights: the diagonal of the
    10th-90th percentile box of its positions (a few bad boxes do not make a still figure move)."""
    _, boxes = track.since(float("inf"))
    if len(boxes) < 2:
        return 0.0
    feet = np.stack([(boxes[:, 0] + boxes[:, 2]) / 2, boxes[:, 3]], 1)
    lo, hi = np.percentile(feet, [10, 90], axis=0)
    return float(np.linalg.norm(hi - lo) / max(track.height_px(), 1.0))
