"""Group loitering: at least ``min_people`` people together in a watched zone for ``dwell_s`` or longer.

The pattern it is for: a group working a high-value display (one distracts or screens, another takes). "Together"
means two things at once, so that a busy zone is not a group:

* close: the people form one cluster in which each is within ``max_gap_heights`` of another (single linkage on
  foot points, measured in the pair's mean body height, so the limit means the same near and far from the camera);
* long enough: the cluster has had ``min_people`` or more members without a break since some moment ``since``
  (a break shorter than ``merge_gap_s`` is bridged: a member hidden behind a shelf for a moment), and at least
  ``min_people`` of its current members have themselves been in the zone that long (their stay, re-entries within
  ``merge_gap_s`` merged as in loitering). The group's time is the shorter of the two, so strangers taking turns
  in a busy zone do not add up to one group, and three shoppers who have browsed apart for minutes and then meet
  start counting when they meet.

Defaults: ``min_people`` 3 (two people shopping together is ordinary; three or more lingering at a display is the
organised-theft pattern loss-prevention teams look for), ``dwell_s`` 60 (longer than choosing a product together
takes, and the single-person loitering default), ``max_gap_heights`` 2.0 (about 3.5 m for adults: within social
distance, where a group talks and screens each other; people at opposite ends of a long aisle are not a group),
``merge_gap_s`` 10 (as loitering). It watches high-value zones by default: elsewhere (a queue, the whole frame)
three people standing together for a minute is normal.

The rule keeps, per zone, only since when it has seen a group (bounded by the number of zones), so it needs no
per-track memory; tracks briefly unseen but not yet forgotten by the scene still count as in the zone.

>>> from storewatch.behaviour.scene import TrackHistory
>>> from collections import deque
>>> def person(x: float) -> TrackHistory:
...     return TrackHistory(f"c/{x}", 0, 0.0, 0.0, deque([0.0]), deque([(x - 20, 0.0, x + 20, 120.0)]))
>>> [len(c) for c in clusters([person(100), person(400), person(440), person(700)], max_gap_heights=2.0)]
[1, 2, 1]
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from pydantic import Field

from storewatch.behaviour.geometry import ZoneGeometry
from storewatch.behaviour.rules.base import Finding, Rule, RuleConfig
from storewatch.behaviour.rules.loitering import stay_s
from storewatch.behaviour.scene import Scene, TrackHistory


class GroupLoiteringConfig(RuleConfig):
    min_people: int = Field(3, ge=2, le=50, description="People together in the zone that make a group.")
    dwell_s: float = Field(60.0, gt=0.0, le=86400.0, description="Time the group stays together before it is raised.")
    max_gap_heights: float = Field(
        2.0,
        gt=0.0,
        le=100.0,
        description="Greatest foot-to-foot distance, in body heights, between neighbours of a group.",
    )
    merge_gap_s: float = Field(
        10.0, ge=0.0, le=600.0, description="Breaks shorter than this (a member hidden, a step out) continue the group."
    )


@dataclass
class _Group:
    since_s: float
    last_s: float


class GroupLoitering(Rule):
    type = "group_loitering"
    every_s = 0.5
    Config = GroupLoiteringConfig
    zone_kinds = ("high_value",)

    def __init__(self, config: RuleConfig) -> None:
        super().__init__(config)
        self._groups: dict[str, _Group] = {}

    def reset(self) -> None:
        self._groups.clear()

    def evaluate(self, scene: Scene) -> Iterable[Finding]:
        cfg = self.config
        assert isinstance(cfg, GroupLoiteringConfig)
        found: list[Finding] = []  # a list, not a generator: the memory is updated however the caller reads it
        for zone in self.watched_zones(scene):
            inside = [p for p in scene.people() if zone.id in p.zones]
            groups = [g for g in clusters(inside, cfg.max_gap_heights) if len(g) >= cfg.min_people]
            seen = self._groups.get(zone.id)
            if seen is not None and scene.t_s - seen.last_s > cfg.merge_gap_s:  # the last group broke up
                del self._groups[zone.id]
                seen = None
            if not groups:
                continue
            if seen is None:
                seen = self._groups[zone.id] = _Group(scene.t_s, scene.t_s)
            seen.last_s = scene.t_s
            finding = self._finding(scene, zone, groups, seen.since_s, cfg)
            if finding is not None:
                found.append(finding)
        return found

    def _finding(
        self, scene: Scene, zone: ZoneGeometry, groups: list[list[TrackHistory]], since_s: float,
        cfg: GroupLoiteringConfig,
    ) -> Finding | None:  # fmt: skip
        timed = [(group_s(g, zone.id, scene.t_s, since_s, cfg), g) for g in groups]
        together, group = max(timed, key=lambda tg: (tg[0], len(tg[1])))
        if together < cfg.dwell_s:
            return None
        kind = zone.kind.replace("_", "-")
        return Finding(
            key=zone.id,
            explanation=(
                f"{len(group)} people in {kind} zone {zone.id} for {together:.0f} s "
                f"(limit {cfg.min_people} people, {cfg.dwell_s:.0f} s)"
            ),
            track_ids=tuple(sorted(p.track_id for p in group)),
            zone=zone.id,
            values={
                "people": len(group), "together_s": round(together, 1),
                "limit_people": cfg.min_people, "limit_s": cfg.dwell_s,
            },
        )  # fmt: skip


def group_s(group: Sequence[TrackHistory], zone: str, now_s: float, since_s: float, cfg: GroupLoiteringConfig) -> float:
    """How long ``group`` has been together: the shorter of the time since a group was first seen in the zone and
    the ``min_people``-th longest stay of its members."""
    stays = sorted((stay_s(p, zone, now_s, cfg.merge_gap_s) for p in group), reverse=True)
    return min(now_s - since_s, stays[cfg.min_people - 1])


def gap_heights(a: TrackHistory, b: TrackHistory) -> float:
    """Foot-to-foot distance in the pair's mean body height (the same unit near and far from the camera)."""
    (ax, ay), (bx, by) = a.foot(), b.foot()
    return float(((ax - bx) ** 2 + (ay - by) ** 2) ** 0.5 / max((a.height_px() + b.height_px()) / 2, 1.0))


def clusters(people: Sequence[TrackHistory], max_gap_heights: float) -> list[list[TrackHistory]]:
    """People linked by chains of neighbours within ``max_gap_heights`` (single linkage), in input order."""
    label = list(range(len(people)))

    def root(i: int) -> int:
        while label[i] != i:
            label[i] = label[label[i]]
            i = label[i]
        return i

    for i in range(len(people)):
        for j in range(i + 1, len(people)):
            if gap_heights(people[i], people[j]) <= max_gap_heights:
                label[root(j)] = root(i)
    groups: dict[int, list[TrackHistory]] = {}
    for i, p in enumerate(people):
        groups.setdefault(root(i), []).append(p)
    return list(groups.values())
