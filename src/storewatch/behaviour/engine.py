"""The behaviour engine of one camera: scene, rules, episodes -> events.

``process(t_s, utc, tracks)`` is the per-frame verb: the scene takes the frame's tracks, each enabled rule that is
armed now looks at it, and its episodes turn findings into events. Rules are data: ``rules`` maps a rule type to
its settings (validated by the rule's own ``Config``); every registered rule runs with its defaults unless turned
off. ``close()`` ends whatever is still open (end of a replay).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import numpy as np
from numpy.typing import NDArray
from pydantic import ValidationError

from storewatch.behaviour.episodes import Episodes
from storewatch.behaviour.geometry import Calibration, LineGeometry, ZoneGeometry
from storewatch.behaviour.rules.base import Finding, Rule, RuleConfig
from storewatch.behaviour.rules.registry import RULES
from storewatch.behaviour.scene import Scene, SceneConfig
from storewatch.behaviour.schedule import StoreSchedule
from storewatch.core.detections import Detections
from storewatch.core.events import Event

WHOLE_FRAME = "frame"
"""Id of the zone a camera without zones gets: the whole frame."""


def rule_configs(settings: Mapping[str, Mapping[str, Any] | RuleConfig] | None = None) -> dict[str, RuleConfig]:
    """Every registered rule's settings: its defaults, overridden by ``settings`` (by rule type). Unknown rule
    types and bad values raise ``ValueError`` naming the rule."""
    settings = settings or {}
    unknown = sorted(set(settings) - set(RULES))
    if unknown:
        raise ValueError(f"unknown rule(s) {unknown}; the rules are: {', '.join(RULES)}")
    out: dict[str, RuleConfig] = {}
    for name, cls in RULES.items():
        given = settings.get(name, {})
        try:
            out[name] = given if isinstance(given, RuleConfig) else cls.Config.model_validate(dict(given))
        except ValidationError as exc:
            problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'settings'}: {e['msg']}" for e in exc.errors())
            raise ValueError(f"rule {name}: {problems}") from None
    return out


class BehaviourEngine:
    def __init__(
        self,
        camera_id: str,
        zones: Sequence[ZoneGeometry] = (),
        lines: Sequence[LineGeometry] = (),
        *,
        width: int,
        height: int,
        rules: Mapping[str, Mapping[str, Any] | RuleConfig] | None = None,
        schedule: StoreSchedule | None = None,
        timezone: str = "UTC",
        calibration: Calibration | None = None,
        scene_config: SceneConfig | None = None,
        zone_armed: Mapping[str, str] | None = None,
    ) -> None:
        """``zone_armed`` maps a zone id to the schedule outside which findings in that zone are dropped."""
        if not zones:
            frame = [(0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0)]
            zones = [ZoneGeometry.from_normalised(WHOLE_FRAME, "custom", frame, width, height)]
        self.scene = Scene(camera_id, zones, lines, calibration=calibration, config=scene_config, size=(width, height))
        self.schedule = schedule or StoreSchedule()
        self.timezone = timezone
        self.zone_armed = dict(zone_armed or {})
        self.rules: list[tuple[Rule, Episodes]] = []
        self._last_look: dict[str, tuple[float, list[Finding]]] = {}
        for name, cfg in rule_configs(rules).items():
            if cfg.enabled:
                if cfg.armed is not None and cfg.armed not in self.schedule.names():
                    raise ValueError(f"rule {name}: armed by schedule {cfg.armed!r}, which the store does not have")
                self.rules.append((RULES[name](cfg), Episodes(name, cfg, camera_id)))

    def process(self, t_s: float, utc: datetime, tracks: Detections) -> list[Event]:
        self.scene.update(t_s, utc, tracks)
        out: list[Event] = []
        off = {z for z, name in self.zone_armed.items() if not self.schedule.is_armed(name, utc, self.timezone)}
        for rule, episodes in self.rules:
            armed = self.schedule.is_armed(rule.config.armed, utc, self.timezone)
            found = self._look(rule, t_s) if armed else []
            if off:
                found = [f for f in found if f.zone not in off]
            out.extend(episodes.step(found, t_s, utc))
        return out

    def _look(self, rule: Rule, t_s: float) -> list[Finding]:
        """The rule's findings now: fresh when it is due to look, else those of its last look."""
        last = self._last_look.get(rule.type)
        if last is not None and 0 <= t_s - last[0] < rule.every_s:
            return last[1]
        found = list(rule.evaluate(self.scene))
        self._last_look[rule.type] = (t_s, found)
        return found

    def paths(self, track_ids: Sequence[str], window_s: float) -> dict[int, NDArray[np.float64]]:
        """Where these tracks walked (foot points, oldest first) in the last ``window_s`` seconds they were seen,
        as far as the scene still remembers them (tracks that ended this frame included), for drawing."""
        found: dict[int, NDArray[np.float64]] = {}
        remembered = {h.track_id: h for h in (*self.scene.ended, *self.scene.tracks.values())}
        for key in track_ids:
            hist = remembered.get(key)
            number = key.rsplit("/", 1)[-1]
            if hist is None or not number.isdigit():
                continue
            _, boxes = hist.since(window_s)
            if len(boxes):
                found[int(number)] = np.column_stack(((boxes[:, 0] + boxes[:, 2]) / 2, boxes[:, 3]))
        return found

    def close(self) -> list[Event]:
        return [e for _, episodes in self.rules for e in episodes.close_all()]
