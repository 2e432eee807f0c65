"""Walk-out: a person who picked at a shelf or high-value zone and then left the store without passing a checkout.

"Left" is one of: crossing a line of ``exit_line_kinds`` outwards (found on that frame), or a track that ends while
in a zone of ``exit_zone_kinds`` (found when the scene lets the track go, ``forget_after_s`` later), which covers a
door with no line drawn and people the tracker loses in the doorway. "Picked" is a visit to a watched zone (shelf
and high-value by default) of at least ``min_pick_s``, entered after the person last left a checkout zone; a
customer who paid (passed a checkout after their last pick) raises nothing, nor does one who walked past a shelf on
the way in and out.

Defaults (why): ``min_pick_s`` = 2 s, about the shortest time to take an item off a shelf when one stops for it;
walking through an aisle zone 1-2 m deep at 1.4 m/s takes about a second, so a walk past does not count. Entrances
count as ways out (most shops have one door for both; only the outward direction counts). Severity ``medium``:
someone who browsed and bought nothing looks the same to a camera, so a walk-out asks for a look, not a chase;
``high`` when the pick was in a high-value zone (``high_value_severity``). One episode per track.
"""

from __future__ import annotations

from collections.abc import Iterable

from pydantic import Field

from storewatch.behaviour.rules.base import Finding, Rule, RuleConfig
from storewatch.behaviour.scene import Scene, TrackHistory, Visit
from storewatch.core.events import Severity


class WalkOutConfig(RuleConfig):
    min_pick_s: float = Field(
        2.0, ge=0.0, le=600.0, description="Time in a watched zone that counts as picking there (shorter: walked past)."
    )
    high_value_severity: Severity = Field(
        Severity.HIGH, description="Severity when the person picked in a high-value zone."
    )
    exit_line_kinds: list[str] = Field(
        ["exit", "entrance"], max_length=20, description="Line kinds whose outward crossing is leaving the store."
    )
    exit_zone_kinds: list[str] = Field(
        ["exit", "entrance", "fire_exit"],
        max_length=20,
        description="Zone kinds in which a track that ends has left the store.",
    )
    checkout_kinds: list[str] = Field(
        ["checkout"], min_length=1, max_length=20, description="Zone kinds where a customer pays."
    )


class WalkOut(Rule):
    type = "walk_out"
    Config = WalkOutConfig
    zone_kinds = ("shelf", "high_value")
    """The zones where people pick items."""

    def evaluate(self, scene: Scene) -> Iterable[Finding]:
        cfg = self.config
        assert isinstance(cfg, WalkOutConfig)
        for person in scene.seen:
            if not person.is_person:
                continue
            for crossing in person.crossings:
                if crossing.t_s == scene.t_s and crossing.direction == "out" and crossing.kind in cfg.exit_line_kinds:
                    found = self._unpaid(scene, person, crossing.t_s, crossing.line)
                    if found is not None:
                        yield found
        for person in scene.ended:
            if not person.is_person or self._crossed_out(person):
                continue  # a crossing out was already judged on its own frame
            door = next((v.zone for v in reversed(person.visits) if self._ends_in_exit(person, v)), None)
            if door is not None:
                found = self._unpaid(scene, person, person.last_s, door)
                if found is not None:
                    yield found

    def _ends_in_exit(self, person: TrackHistory, visit: Visit) -> bool:
        cfg = self.config
        assert isinstance(cfg, WalkOutConfig)
        return visit.kind in cfg.exit_zone_kinds and (visit.exit_s is None or visit.exit_s >= person.last_s)

    def _crossed_out(self, person: TrackHistory) -> bool:
        cfg = self.config
        assert isinstance(cfg, WalkOutConfig)
        return any(c.direction == "out" and c.kind in cfg.exit_line_kinds for c in person.crossings)

    def _unpaid(self, scene: Scene, person: TrackHistory, left_s: float, via: str) -> Finding | None:
        """A finding if the person picked somewhere after their last checkout and before ``left_s``."""
        cfg = self.config
        assert isinstance(cfg, WalkOutConfig)
        picks = unpaid_picks(person, {z.id for z in self.watched_zones(scene)}, cfg.checkout_kinds, left_s)
        picks = [v for v in picks if v.dwell_s(left_s) >= cfg.min_pick_s]
        if not picks:
            return None
        high = any(v.kind == "high_value" for v in picks)
        names = ", ".join(dict.fromkeys(v.zone for v in picks))
        longest = max(v.dwell_s(left_s) for v in picks)
        return Finding(
            key=person.track_id,
            explanation=f"person left through {via} after {names} ({longest:.0f} s) without passing a checkout",
            track_ids=(person.track_id,),
            zone=picks[-1].zone,
            values={"via": via, "picked_at": names, "pick_s": round(longest, 1), "left_s": round(left_s, 2),
                    "high_value": high},
            severity=cfg.high_value_severity if high else None,
        )  # fmt: skip


def unpaid_picks(person: TrackHistory, pick_zones: set[str], checkout_kinds: list[str], before_s: float) -> list[Visit]:
    """Visits to ``pick_zones`` entered after the person last left a checkout zone and before ``before_s`` (none
    while they are still at a checkout).

    >>> from collections import deque
    >>> p = TrackHistory("t", 0, 0.0, 60.0, deque(), deque())
    >>> p.visits = [Visit("shelf-1", "shelf", 5, 20), Visit("till", "checkout", 30, 40), Visit("gum", "shelf", 45, 50)]
    >>> [v.zone for v in unpaid_picks(p, {"shelf-1", "gum"}, ["checkout"], 60.0)]
    ['gum']
    >>> p.visits = p.visits[:2]
    >>> unpaid_picks(p, {"shelf-1", "gum"}, ["checkout"], 60.0)
    []
    """
    paid_s = float("-inf")
    for v in person.visits:
        if v.kind in checkout_kinds and v.enter_s < before_s:
            paid_s = max(paid_s, v.exit_s if v.exit_s is not None else float("inf"))
    return [v for v in person.visits if v.zone in pick_zones and paid_s < v.enter_s < before_s]
