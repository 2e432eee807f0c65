"""Blocked fire exit: an object or a person staying still in a fire-exit zone for ``stationary_s`` or longer.

Still means the track's position (the median foot point of its last second, so one bad box does not move it) has
stayed within ``max_move_heights`` of where it stopped, measured in the track's own box height (a person's
height, a suitcase's height), so the limit means the same near and far from the camera. Moving further restarts
the count from the new spot: people walking through the exit, or a delivery wheeled past it, never block it. The
rule remembers, per track in a fire-exit zone, only where and when it stopped, and forgets it when the track
leaves the zone or ends, so the stationary time is not limited by the scene's history of boxes.

Objects are the classes the scene calls objects (carried items: bag, backpack, suitcase; and untyped ``object``
tracks); people count too unless ``watch_people`` is off (a staff member standing in the doorway blocks it as
much as a box does).

One episode per zone: an exit blocked by two boxes and a trolley is one blocked exit, whose track list grows.

Defaults: ``stationary_s`` 30 (holding the door, letting a delivery through or stopping to look around takes a
few seconds; half a minute in the same spot is being left there), ``max_move_heights`` 0.5 (box jitter and a
person shifting their weight stay well under it; a step away is more).

>>> from collections import deque
>>> boxes = deque([(0.0, 0.0, 40.0, 60.0), (0.0, 0.0, 40.0, 60.0), (200.0, 0.0, 240.0, 60.0)])  # one bad box
>>> spot(TrackHistory("c/1", 28, 1.2, 2.0, deque([1.2, 1.5, 2.0]), boxes))
(20.0, 60.0)
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
from pydantic import Field

from storewatch.behaviour.geometry import ZoneGeometry
from storewatch.behaviour.rules.base import Finding, Rule, RuleConfig
from storewatch.behaviour.scene import Scene, TrackHistory

STILL_WINDOW_S = 1.0
"""Seconds of boxes whose median foot point is the track's position."""


class BlockedExitConfig(RuleConfig):
    stationary_s: float = Field(
        30.0, gt=0.0, le=86400.0, description="Time something stays still in a fire-exit zone before it is raised."
    )
    max_move_heights: float = Field(
        0.5, gt=0.0, le=10.0, description="Movement, in the track's box heights, that still counts as staying still."
    )
    watch_people: bool = Field(True, description="Whether people standing still block the exit (objects always do).")


@dataclass(frozen=True, slots=True)
class _Still:
    x: float
    y: float
    since_s: float


class BlockedExit(Rule):
    type = "blocked_exit"
    every_s = 0.5
    Config = BlockedExitConfig
    zone_kinds = ("fire_exit",)

    def __init__(self, config: RuleConfig) -> None:
        super().__init__(config)
        self._still: dict[tuple[str, str], _Still] = {}

    def reset(self) -> None:
        self._still.clear()

    def evaluate(self, scene: Scene) -> Iterable[Finding]:
        cfg = self.config
        assert isinstance(cfg, BlockedExitConfig)
        still: dict[tuple[str, str], _Still] = {}
        found: list[Finding] = []  # a list, not a generator: the memory is updated however the caller reads it
        for zone in self.watched_zones(scene):
            blockers: list[tuple[TrackHistory, float]] = []
            for track in scene.tracks.values():
                if zone.id not in track.zones or not (track.is_object or (cfg.watch_people and track.is_person)):
                    continue
                key = (track.track_id, zone.id)
                still[key] = self._update(self._still.get(key), track, scene.t_s, cfg.max_move_heights)
                stationary = track.last_s - still[key].since_s  # till last seen: a removed box stops counting
                if stationary >= cfg.stationary_s:
                    blockers.append((track, stationary))
            if blockers:
                found.append(_finding(zone, blockers, cfg))
        self._still = still  # tracks that left the zone or ended are forgotten
        return found

    @staticmethod
    def _update(before: _Still | None, track: TrackHistory, now_s: float, max_move_heights: float) -> _Still:
        x, y = spot(track)
        if before is not None:
            moved = float(np.hypot(x - before.x, y - before.y)) / max(track.height_px(), 1.0)
            if moved <= max_move_heights:
                return before
        return _Still(x, y, now_s)


def _finding(zone: ZoneGeometry, blockers: list[tuple[TrackHistory, float]], cfg: BlockedExitConfig) -> Finding:
    longest = max(s for _, s in blockers)
    people = sum(1 for t, _ in blockers if t.is_person)
    objects = len(blockers) - people
    what = sorted(t.label for t, _ in blockers)
    return Finding(
        key=zone.id,
        explanation=(
            f"fire exit {zone.id} blocked for {longest:.0f} s by {', '.join(what)} (limit {cfg.stationary_s:.0f} s)"
        ),
        track_ids=tuple(sorted(t.track_id for t, _ in blockers)),
        zone=zone.id,
        values={"blocked_s": round(longest, 1), "people": people, "objects": objects, "limit_s": cfg.stationary_s},
    )


def spot(track: TrackHistory) -> tuple[float, float]:
    """Where the track is: the median foot point of its last ``STILL_WINDOW_S`` of boxes."""
    _, boxes = track.since(STILL_WINDOW_S)
    return float(np.median((boxes[:, 0] + boxes[:, 2]) / 2)), float(np.median(boxes[:, 3]))
