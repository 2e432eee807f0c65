"""What a rule is: a small class that looks at the scene each frame and says what it finds.

A rule yields ``Finding``s: "this is happening now", keyed by what makes it one episode (a track, a track in a
zone, a zone). It does not decide when an event starts or ends, nor de-duplicate: the engine's ``Episodes`` turns
findings into ``started`` / ``updated`` / ``ended`` events, with a cool-down per key. So a rule is only its
measurement, and a pose-based rule later (reaching, concealment) is one more class reading keypoints from the
scene.

Every rule's settings derive from ``RuleConfig``: on/off, severity, cool-down, the hours it is armed, and which
zones it watches (by id or kind; a zone id that does not exist is an error when the site file is loaded).
"""

from __future__ import annotations

import builtins
from abc import ABC, abstractmethod
from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field
from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field

from storewatch.behaviour.geometry import ZoneGeometry
from storewatch.behaviour.scene import Scene
from storewatch.core.events import Severity


class RuleConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = Field(True, description="Whether the rule runs.")
    severity: Severity = Field(Severity.MEDIUM, description="Severity of the events it raises.")
    cooldown_s: float = Field(
        60.0, ge=0.0, le=86400.0, description="After an episode ends, the same key raises nothing for this long."
    )
    end_after_s: float = Field(
        2.0, ge=0.0, le=600.0, description="An episode ends when not found for this long (bridges flicker)."
    )
    zones: list[str] | None = Field(
        None, description="Zone ids the rule watches (default: the zones of the kinds the rule is about)."
    )
    armed: str | None = Field(
        None, description="Name of a schedule in the store's schedules during which the rule is armed (default always)."
    )


@dataclass(frozen=True, slots=True)
class Finding:
    """One thing a rule sees happening now."""

    key: Hashable
    """What makes it one episode: e.g. ``(track_id, zone_id)``."""
    explanation: str
    track_ids: tuple[str, ...] = ()
    zone: str | None = None
    values: dict[str, float | int | str | bool] = field(default_factory=dict)
    severity: object | None = None
    """A ``Severity`` that overrides the rule's (e.g. running towards an exit)."""


class Rule(ABC):
    type: ClassVar[str]
    """The event type it raises, e.g. ``loitering``."""
    Config: ClassVar[builtins.type[RuleConfig]] = RuleConfig
    zone_kinds: ClassVar[tuple[str, ...]] = ()
    """Kinds of zone the rule watches by default; empty = the rule is not about zones (or all of them)."""
    every_s: ClassVar[float] = 0.0
    """How often the rule needs to look (0: every frame). Between looks the engine repeats its last findings: a
    rule measuring over seconds loses nothing by looking a few times a second, and a 25 fps camera costs no more
    than a 5 fps one."""

    def __init__(self, config: RuleConfig) -> None:
        self.config = config

    def watched_zones(self, scene: Scene) -> list[ZoneGeometry]:
        """The zones this rule looks at on this camera."""
        if self.config.zones is not None:
            return [scene.zones[z] for z in self.config.zones if z in scene.zones]
        if not self.zone_kinds:
            return list(scene.zones.values())
        return scene.zones_of_kind(*self.zone_kinds)

    @abstractmethod
    def evaluate(self, scene: Scene) -> Iterable[Finding]:
        """What is happening on the scene now (called once per frame, after ``scene.update``)."""
