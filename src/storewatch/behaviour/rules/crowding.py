"""Crowding: more people than an occupancy limit, in the whole camera view or in a zone, for ``min_duration_s``.

What is counted: by default the whole view, limited by ``max_people``; each zone in ``zone_max_people`` with its
own limit (a fitting-room area, a fire-exit corridor). Setting ``zones`` replaces the whole-view count with those
zones, each limited by its ``zone_max_people`` entry or else ``max_people``. A person counts where their foot point
is (the scene's zone membership), and only if seen on this frame. One episode per counted area.

Defaults (why): ``max_people`` 15. A ceiling camera in a shop sees roughly 30-60 m2 of floor; 15 people there is
0.25-0.5 person/m2, past which shoppers can no longer pass each other in 1.5-2 m aisles without waiting (the
free-flow limit of walkway level-of-service tables). ``min_duration_s`` 5 s so a group walking through, or a
tracker briefly holding a duplicate track, does not raise; ``end_after_s`` 10 s because counts flicker as people
occlude each other. Severity ``medium``: overcrowding is a safety matter someone should look at.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated

from pydantic import Field

from storewatch.behaviour.rules.base import Finding, Rule, RuleConfig
from storewatch.behaviour.scene import Scene, TrackHistory

VIEW = "view"
"""Key of the whole-view count."""
PeopleLimit = Annotated[int, Field(ge=1, le=10_000)]


class CrowdingConfig(RuleConfig):
    end_after_s: float = Field(
        10.0, ge=0.0, le=600.0, description="The alert ends when the count has been under the limit this long."
    )
    max_people: int = Field(
        15, ge=1, le=10_000, description="More people than this in the view (or in a listed zone) is crowding."
    )
    zone_max_people: dict[str, PeopleLimit] = Field(
        default_factory=dict, max_length=200, description="Zone id -> its own occupancy limit (people); also watched."
    )
    min_duration_s: float = Field(
        5.0, ge=0.0, le=3600.0, description="How long the count must stay over the limit before it is raised."
    )


class Crowding(Rule):
    type = "crowding"
    Config = CrowdingConfig

    def __init__(self, config: RuleConfig) -> None:
        super().__init__(config)
        self._over_since: dict[str, float] = {}

    def reset(self) -> None:
        self._over_since.clear()

    def areas(self, scene: Scene) -> list[tuple[str, int]]:
        """(zone id or ``VIEW``, limit) of what this camera counts."""
        cfg = self.config
        assert isinstance(cfg, CrowdingConfig)
        limits = dict(cfg.zone_max_people)
        if cfg.zones is not None:
            listed = [(z, limits.pop(z, cfg.max_people)) for z in cfg.zones if z in scene.zones]
        else:
            listed = [(VIEW, cfg.max_people)]
        return listed + [(z, n) for z, n in limits.items() if z in scene.zones]

    def evaluate(self, scene: Scene) -> Iterable[Finding]:
        cfg = self.config
        assert isinstance(cfg, CrowdingConfig)
        present = [p for p in scene.people() if scene.present(p)]
        for area, limit in self.areas(scene):
            inside = present if area == VIEW else [p for p in present if area in p.zones]
            if len(inside) <= limit:
                self._over_since.pop(area, None)
                continue
            since = self._over_since.setdefault(area, scene.t_s)
            if scene.t_s - since >= cfg.min_duration_s:
                yield _finding(area, inside, limit, scene.t_s - since)


def _finding(area: str, inside: list[TrackHistory], limit: int, over_s: float) -> Finding:
    where = "in view" if area == VIEW else f"in {area}"
    return Finding(
        key=area,
        explanation=f"{len(inside)} people {where} for {over_s:.0f} s (limit {limit})",
        track_ids=tuple(p.track_id for p in inside[:50]),
        zone=None if area == VIEW else area,
        values={"people": len(inside), "max_people": limit, "over_s": round(over_s, 1)},
    )
