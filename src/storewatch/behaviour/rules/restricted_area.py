"""Restricted-area entry: a person inside a staff-only or cash-office zone for ``min_inside_s`` or longer.

Whether the person is inside is the scene's decision: by the zone's anchor point (the feet by default, so a
customer leaning over a counter, whose head overlaps the zone on the screen, is not inside) with hysteresis at the
border. ``min_inside_s`` (default 1 s: a step or two, five frames at 5 fps) keeps a one-frame tracker glitch or a
box that briefly reaches over the border from raising; a real entry lasts longer.

The rule cannot tell staff from customers (no uniform or badge recognition yet), so when staff may be in the
zone is said by its schedule: ``armed`` names a store schedule (``closed``, or the store's own such as ``night``)
and the engine runs the rule only while that schedule is on. Unarmed (the default) it raises every entry, which
suits a cash office only the manager enters; a stock room staff use all day should be armed only ``closed``.

One episode per person and zone; a cash office is the more serious place, so its entries carry
``cash_office_severity`` (default high) and the rest the rule's ``severity``.
"""

from __future__ import annotations

from collections.abc import Iterable

from pydantic import Field

from storewatch.behaviour.rules.base import Finding, Rule, RuleConfig
from storewatch.behaviour.scene import Scene
from storewatch.core.events import Severity


class RestrictedAreaConfig(RuleConfig):
    min_inside_s: float = Field(
        1.0, ge=0.0, le=600.0, description="Time inside the zone before an entry is raised (filters glitches)."
    )
    cash_office_severity: Severity = Field(
        Severity.HIGH, description="Severity of entries into cash-office zones (others: the rule's severity)."
    )


class RestrictedArea(Rule):
    type = "restricted_area"
    every_s = 0.2
    Config = RestrictedAreaConfig
    zone_kinds = ("staff_only", "cash_office")

    def evaluate(self, scene: Scene) -> Iterable[Finding]:
        cfg = self.config
        assert isinstance(cfg, RestrictedAreaConfig)
        for zone in self.watched_zones(scene):
            for person in scene.people():
                visit = person.open_visit(zone.id)
                if visit is None:
                    continue
                inside = visit.dwell_s(person.last_s)  # a person hidden for a moment is still inside
                if inside < cfg.min_inside_s:
                    continue
                kind = zone.kind.replace("_", "-")
                yield Finding(
                    key=(person.track_id, zone.id),
                    explanation=f"person in {kind} zone {zone.id} for {inside:.0f} s",
                    track_ids=(person.track_id,),
                    zone=zone.id,
                    values={"inside_s": round(inside, 1), "zone_kind": zone.kind},
                    severity=cfg.cash_office_severity if zone.kind == "cash_office" else None,
                )
