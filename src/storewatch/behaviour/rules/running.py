"""Running, and grab-and-run: a person moving faster than a run's threshold, sustained, escalated when they had
just been at a shelf or high-value zone and are heading for a door.

Speed is measured robustly: over the last ``window_s`` the foot points of the first and last third of the samples
are each reduced to their median, and speed is the distance between those medians over the time between them. One
jumpy box (a detector glitch, a merge with a neighbour) moves a median by nothing, where the scene's end-to-end
``speed`` would jump; and the speed must stay over the limit for ``min_duration_s`` before it is a run.

Units and defaults (why): without a ground calibration speed is in body heights per second (the track's median box
height), which needs no camera setup and is the same for near and far people. An adult walks at about 1.4 m/s,
0.8 body heights/s; a brisk walk is 1.1-1.3; a jog about 1.5 and a run 2-4. ``min_speed_heights_s`` = 1.8 sits
above the fastest walks and below a real run. With a calibration the limit is ``min_speed_m_s`` = 3.0 m/s, the
same threshold for a 1.7 m adult. The 1 s window covers at least one running stride (about 0.7 s), so the bob of
a stride averages out; 0.5 s sustained turns a single spike into nothing at 5 fps and more.

Grab-and-run: the runner had been in a watched zone (shelf / high-value by default) within ``grab_lookback_s``
(5 min: time enough to pick something and head out), and is moving towards an exit (a zone of ``exit_zone_kinds``
or a line of ``exit_line_kinds``): their line of travel hits it, or points within ``heading_tolerance_deg`` (45
degrees: a door seen at a slant) of its nearest point, or they are in the exit zone already. Entrances count as
ways out because most shops have one door for both. Running alone is ``low`` (children run, staff hurry);
grab-and-run is ``high``. Once a run has been a grab-and-run it stays one (its own episode key), so an escalation
mid-run raises one ``high`` event rather than changing the ``low`` one (episodes keep the severity they started
with).
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np
from numpy.typing import NDArray
from pydantic import Field

from storewatch.behaviour.rules.base import Finding, Rule, RuleConfig
from storewatch.behaviour.scene import Scene, TrackHistory
from storewatch.core.events import Severity

Vec = NDArray[np.float64]


class RunningConfig(RuleConfig):
    severity: Severity = Field(Severity.LOW, description="Severity of a run that is not a grab-and-run.")
    grab_severity: Severity = Field(Severity.HIGH, description="Severity of a grab-and-run.")
    min_speed_heights_s: float = Field(
        1.8, gt=0.0, le=20.0, description="Speed (body heights per second) above which a person is running."
    )
    min_speed_m_s: float = Field(
        3.0, gt=0.0, le=15.0, description="Speed (metres per second) above which a person is running, when calibrated."
    )
    window_s: float = Field(1.0, ge=0.2, le=10.0, description="Time over which speed is measured (smoothing).")
    min_duration_s: float = Field(
        0.5, ge=0.0, le=30.0, description="How long the speed must stay over the limit before it is a run."
    )
    grab_lookback_s: float = Field(
        300.0, ge=0.0, le=3600.0, description="A watched zone visited this recently makes a run a grab-and-run."
    )
    heading_tolerance_deg: float = Field(
        45.0, ge=0.0, le=90.0, description="Largest angle between travel and the way to an exit that is 'towards'."
    )
    exit_zone_kinds: list[str] = Field(
        ["exit", "entrance", "fire_exit"], max_length=20, description="Zone kinds that are ways out of the store."
    )
    exit_line_kinds: list[str] = Field(
        ["exit", "entrance"], max_length=20, description="Line kinds that are ways out of the store."
    )


class Running(Rule):
    type = "running"
    every_s = 0.2
    Config = RunningConfig
    zone_kinds = ("shelf", "high_value")
    """The zones that make a run a grab-and-run."""

    def __init__(self, config: RuleConfig) -> None:
        super().__init__(config)
        self._over_since: dict[str, float] = {}
        self._grabbed: dict[str, tuple[str, str]] = {}
        """Track -> (zone visited, exit headed for) of runs that were a grab-and-run."""

    def reset(self) -> None:
        self._over_since.clear()
        self._grabbed.clear()

    def evaluate(self, scene: Scene) -> Iterable[Finding]:
        cfg = self.config
        assert isinstance(cfg, RunningConfig)
        limit = cfg.min_speed_m_s if scene.calibration is not None else cfg.min_speed_heights_s
        unit = "m/s" if scene.calibration is not None else "body heights/s"
        self._forget(scene)
        for person in scene.people():
            if not scene.present(person):
                continue
            if scene.calibration is None and _rough_speed(person, cfg.window_s) < ROUGH_GATE * limit:
                self._over_since.pop(person.track_id, None)  # clearly walking: skip the robust measurement
                continue
            measured = robust_velocity(scene, person, cfg.window_s)
            if measured is None or measured[0] <= limit:
                self._over_since.pop(person.track_id, None)
                continue
            speed, direction = measured
            since = self._over_since.setdefault(person.track_id, scene.t_s)
            if scene.t_s - since < cfg.min_duration_s:
                continue
            yield self._finding(scene, person, speed, direction, limit, unit)

    def _finding(
        self, scene: Scene, person: TrackHistory, speed: float, direction: Vec, limit: float, unit: str
    ) -> Finding:
        cfg = self.config
        assert isinstance(cfg, RunningConfig)
        tid = person.track_id
        picked = self._picked_zone(scene, person)
        door = heading_for(scene, person, direction, cfg) if picked is not None else None
        if door is not None and picked is not None and tid not in self._grabbed:
            self._grabbed[tid] = (picked, door)
        grab = self._grabbed.get(tid)
        text = f"person running at {speed:.1f} {unit} (limit {limit:.1f})"
        values: dict[str, float | int | str | bool] = {
            "speed": round(speed, 2), "limit": limit, "unit": unit, "grab_and_run": grab is not None,
        }  # fmt: skip
        if grab is not None:
            text += f" towards {grab[1]} after {grab[0]}"
            values.update(visited=grab[0], exit=grab[1])
        return Finding(
            key=(tid, "grab") if grab else tid, explanation=text, track_ids=(tid,),
            values=values, severity=cfg.grab_severity if grab else None,
        )  # fmt: skip

    def _picked_zone(self, scene: Scene, person: TrackHistory) -> str | None:
        """The most recent watched zone the person was in within the look-back, if any."""
        cfg = self.config
        assert isinstance(cfg, RunningConfig)
        watched = {z.id for z in self.watched_zones(scene)}
        since = scene.t_s - cfg.grab_lookback_s
        for visit in reversed(person.visits):
            if visit.zone in watched and (visit.exit_s is None or visit.exit_s >= since):
                return visit.zone
        return None

    def _forget(self, scene: Scene) -> None:
        for tid in [t for t in self._over_since if t not in scene.tracks]:
            del self._over_since[tid]
        for tid in [t for t in self._grabbed if t not in scene.tracks]:
            del self._grabbed[tid]


ROUGH_GATE = 0.5
"""A person whose rough speed (two boxes, no smoothing) is under this share of the limit is not measured further:
box jitter can make the rough figure high, never much lower than the robust one."""


def _rough_speed(person: TrackHistory, window_s: float) -> float:
    """Foot displacement between the last box and the first one within ``window_s``, in body heights/s."""
    horizon = person.last_s - window_s
    i = len(person.times) - 1
    while i > 0 and person.times[i - 1] >= horizon:
        i -= 1
    dt = person.last_s - person.times[i]
    if dt <= 0:
        return 0.0
    (x0, y0), (x1, y1) = person.foot(i), person.foot(-1)
    return float(((x1 - x0) ** 2 + (y1 - y0) ** 2) ** 0.5 / dt / max(person.height_px(), 1.0))


def robust_velocity(scene: Scene, person: TrackHistory, window_s: float) -> tuple[float, Vec] | None:
    """(speed, unit direction in pixels) over the last ``window_s``, from the medians of the first and last third
    of the foot points (at least 2-3 samples each), or None with too few samples or too short a span.

    >>> from datetime import UTC, datetime
    >>> from storewatch.core.detections import Detections
    >>> scene = Scene("s/c")
    >>> for i in range(11):  # 100 px tall, 50 px/s to the right, one box thrown 200 px off at t=1.0
    ...     x = 50.0 * i / 10 + (200.0 if i == 10 else 0.0)
    ...     dets = Detections(np.array([[x, 0, x + 30, 100]], np.float32), np.ones(1), np.zeros(1, np.int64),
    ...                       np.ones(1, np.int64))
    ...     scene.update(i / 10, datetime(2026, 1, 1, tzinfo=UTC), dets)
    >>> speed, direction = robust_velocity(scene, scene.tracks["s/c/1"], 1.0)
    >>> round(speed, 2), direction.round(2).tolist()
    (0.5, [1.0, 0.0])
    """
    t, boxes = person.since(window_s)
    n = len(t)
    if n < 4 or t[-1] - t[0] < window_s / 2:
        return None
    k = max(min(3, n // 2), n // 3)
    feet = np.stack([(boxes[:, 0] + boxes[:, 2]) / 2, boxes[:, 3]], 1)
    start, end = np.median(feet[:k], 0), np.median(feet[-k:], 0)
    dt = float(np.median(t[-k:]) - np.median(t[:k]))
    step = end - start
    norm = float(np.linalg.norm(step))
    if dt <= 0:
        return None
    direction = step / norm if norm > 0 else np.zeros(2)
    if scene.calibration is not None:
        ground = scene.calibration.to_ground(np.stack([start, end]))
        return float(np.linalg.norm(ground[1] - ground[0])) / dt, direction
    return norm / dt / max(person.height_px(), 1.0), direction


def heading_for(scene: Scene, person: TrackHistory, direction: Vec, cfg: RunningConfig) -> str | None:
    """The id of the nearest exit zone or line the person is moving towards, or None. Towards: the line of travel
    hits it, or passes within ``heading_tolerance_deg`` of its nearest point (a wide door seen at a slant)."""
    if not np.any(direction):
        return None
    foot = np.asarray(person.foot(), np.float64)
    cos_limit = math.cos(math.radians(cfg.heading_tolerance_deg))
    targets: list[tuple[str, list[tuple[Vec, Vec]]]] = []
    for zone in scene.zones_of_kind(*cfg.exit_zone_kinds):
        if zone.id in person.zones:
            return zone.id
        corners = zone.polygon.reshape(-1, 2).astype(np.float64)
        targets.append((zone.id, [(corners[i - 1], corners[i]) for i in range(len(corners))]))
    for line in scene.lines.values():
        if line.kind in cfg.exit_line_kinds:
            targets.append((line.id, [(np.asarray(line.a, np.float64), np.asarray(line.b, np.float64))]))
    best: tuple[float, str] | None = None
    for name, edges in targets:
        nearest = min(
            (_nearest_on_segment(foot, a, b) for a, b in edges), key=lambda q: float(np.linalg.norm(q - foot))
        )
        to = nearest - foot
        dist = float(np.linalg.norm(to))
        aimed = dist == 0 or float(np.dot(to / dist, direction)) >= cos_limit
        if (aimed or any(_ray_hits(foot, direction, a, b) for a, b in edges)) and (best is None or dist < best[0]):
            best = (dist, name)
    return best[1] if best else None


def _ray_hits(origin: Vec, direction: Vec, a: Vec, b: Vec) -> bool:
    """Whether the ray from ``origin`` along ``direction`` crosses the segment a-b."""
    ab = b - a
    denom = float(direction[0] * ab[1] - direction[1] * ab[0])
    if denom == 0:
        return False
    rel = a - origin
    s = float(rel[0] * ab[1] - rel[1] * ab[0]) / denom  # distance along the ray
    u = float(rel[0] * direction[1] - rel[1] * direction[0]) / denom  # position along the segment
    return s >= 0 and 0 <= u <= 1


def _nearest_on_segment(p: Vec, a: Vec, b: Vec) -> Vec:
    ab = b - a
    denom = float(np.dot(ab, ab))
    u = 0.0 if denom == 0 else min(max(float(np.dot(p - a, ab)) / denom, 0.0), 1.0)
    return a + u * ab
