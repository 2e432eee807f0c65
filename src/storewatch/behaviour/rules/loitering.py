"""Loitering: a person staying in a watched zone longer than ``dwell_s``.

Dwell counts the time inside the zone; leaving and coming back within ``merge_gap_s`` continues the same stay (a
step out of the zone to look at the next shelf is not a new visit). By default it watches high-value and shelf
zones, and entrances/exits (hanging around a door); a camera without zones has the whole frame as one zone.
"""

from __future__ import annotations

from collections.abc import Iterable

from pydantic import Field

from storewatch.behaviour.rules.base import Finding, Rule, RuleConfig
from storewatch.behaviour.scene import Scene, TrackHistory


class LoiteringConfig(RuleConfig):
    dwell_s: float = Field(60.0, gt=0.0, le=86400.0, description="Time in the zone before it is loitering.")
    merge_gap_s: float = Field(10.0, ge=0.0, le=600.0, description="Re-entries within this gap continue the stay.")


class Loitering(Rule):
    type = "loitering"
    every_s = 0.5
    Config = LoiteringConfig
    zone_kinds = ("high_value", "shelf", "entrance", "exit", "custom")

    def evaluate(self, scene: Scene) -> Iterable[Finding]:
        cfg = self.config
        assert isinstance(cfg, LoiteringConfig)
        for zone in self.watched_zones(scene):
            for person in scene.people():
                if zone.id not in person.zones or not scene.present(person):
                    continue
                dwell = stay_s(person, zone.id, scene.t_s, cfg.merge_gap_s)
                if dwell >= cfg.dwell_s:
                    yield Finding(
                        key=(person.track_id, zone.id),
                        explanation=f"person in {zone.id} for {dwell:.0f} s (limit {cfg.dwell_s:.0f} s)",
                        track_ids=(person.track_id,),
                        zone=zone.id,
                        values={"dwell_s": round(dwell, 1), "limit_s": cfg.dwell_s},
                    )


def stay_s(person: TrackHistory, zone: str, now_s: float, merge_gap_s: float) -> float:
    """Time in ``zone`` of the current stay, visits separated by less than ``merge_gap_s`` counted as one."""
    visits = person.visits_to(zone)
    if not visits or visits[-1].exit_s is not None:
        return 0.0
    start, total = visits[-1].enter_s, 0.0
    for earlier in reversed(visits[:-1]):
        if earlier.exit_s is None or start - earlier.exit_s > merge_gap_s:
            break
        start = earlier.enter_s
    total = now_s - start
    return total
