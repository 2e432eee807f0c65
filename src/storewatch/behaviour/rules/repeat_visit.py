"""Repeat visits: the same person entering a watched zone ``min_visits`` times or more within ``window_s``.

The pattern it is for: casing a display (coming back to the same high-value shelf again and again, checking who is
watching, before taking). A visit is an entry into the zone; re-entries within ``merge_gap_s`` of leaving are the
same visit (stepping back to read a label, a foot flapping on the border), so only real returns count.

One episode per person and zone: it starts at the ``min_visits``-th entry and lasts while that many entries stay
inside the window (its updates carry the growing count), then ends; the cool-down keeps it from re-starting at
once.

Defaults: ``min_visits`` 3 (coming back once is ordinary, forgetting something; the second return is the pattern),
``window_s`` 300 (five minutes: casing happens within one trip round the shop, and a long window would count a
shopper's ordinary back-and-forth over a long visit), ``merge_gap_s`` 10 (as loitering: less than that outside is
not having left). High-value zones by default.

Visits are counted per track, so a person who leaves the camera's view and comes back as a new track starts from
zero (no re-identification yet); the scene keeps the last 200 visits of a track.

>>> from storewatch.behaviour.scene import Visit
>>> returns([Visit("z", "shelf", 0, 5), Visit("z", "shelf", 8, 20), Visit("z", "shelf", 60, None)], 10.0)
[(0, 20), (60, None)]
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from pydantic import Field

from storewatch.behaviour.rules.base import Finding, Rule, RuleConfig
from storewatch.behaviour.scene import Scene, Visit


class RepeatVisitConfig(RuleConfig):
    min_visits: int = Field(3, ge=2, le=100, description="Entries into the zone within the window that are raised.")
    window_s: float = Field(300.0, gt=0.0, le=86400.0, description="Time window the entries are counted in.")
    merge_gap_s: float = Field(
        10.0, ge=0.0, le=600.0, description="A re-entry this soon after leaving continues the same visit."
    )


class RepeatVisit(Rule):
    type = "repeat_visit"
    every_s = 0.5
    Config = RepeatVisitConfig
    zone_kinds = ("high_value",)

    def evaluate(self, scene: Scene) -> Iterable[Finding]:
        cfg = self.config
        assert isinstance(cfg, RepeatVisitConfig)
        for zone in self.watched_zones(scene):
            for person in scene.people():
                visits = person.visits_to(zone.id)
                if len(visits) < cfg.min_visits:
                    continue
                starts = [s for s, _ in returns(visits, cfg.merge_gap_s) if s >= scene.t_s - cfg.window_s]
                if len(starts) < cfg.min_visits:
                    continue
                span = scene.t_s - starts[0]
                kind = zone.kind.replace("_", "-")
                yield Finding(
                    key=(person.track_id, zone.id),
                    explanation=(
                        f"person entered {kind} zone {zone.id} {len(starts)} times in {span:.0f} s "
                        f"(limit {cfg.min_visits} in {cfg.window_s:.0f} s)"
                    ),
                    track_ids=(person.track_id,),
                    zone=zone.id,
                    values={
                        "visits": len(starts), "span_s": round(span, 1),
                        "limit_visits": cfg.min_visits, "window_s": cfg.window_s,
                    },
                )  # fmt: skip


def returns(visits: Sequence[Visit], merge_gap_s: float) -> list[tuple[float, float | None]]:
    """(start, end) of each real visit: visits separated by at most ``merge_gap_s`` outside joined into one."""
    out: list[tuple[float, float | None]] = []
    for v in visits:
        if out:
            start, end = out[-1]
            if end is None or v.enter_s - end <= merge_gap_s:
                out[-1] = (start, v.exit_s)
                continue
        out.append((v.enter_s, v.exit_s))
    return out
