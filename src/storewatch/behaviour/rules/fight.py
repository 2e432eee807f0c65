"""Fight / aggression: two people close together who both move a lot while, as a pair, they go nowhere.

How it is measured, per pair of people seen together over the last ``window_s``, on their box centres sampled
every ``step_s`` (which also evens out frame rates and a tracker's or annotator's frame-to-frame jitter):

- *close*: their foot points are within ``close_heights`` of each other (median over the last second, in their
  mean body height);
- *agitated*: each one's path speed (path length over the window / time, body heights per second) exceeds the
  speed at which the pair's midpoint travels, by at least ``min_agitation_heights_per_s`` for the less active of
  the two. People walking together move as fast as their midpoint (agitation ~0); people standing and talking
  hardly move (~0); two people shoving, swinging and dodging each other move a lot around a midpoint that stays
  put;
- *erratic*: their relative position changes back and forth, not steadily: the path of the vector from one to
  the other exceeds its net change by ``min_erratic_heights_per_s`` (two people walking up to each other close
  the gap steadily and are not a fight);
- *for a while*: all of it holds for ``min_duration_s`` (pauses up to ``GAP_S`` bridged).

Defaults, and why (figures measured with this code on the CAVIAR ground truth, 25 fps, people 20-50 px tall,
boxes hand-drawn; pairs within 1.2 body heights):

- ``close_heights`` 1.2: the annotated fighters stand 0.6-0.9 body heights apart (feet), within arm's reach plus
  a step; people meeting and walking together are as close (0.6-1.2), so closeness alone says nothing.
- ``min_agitation_heights_per_s`` 0.3 (about 0.5 m/s of to-and-fro beyond the pair's travel, a slow walking pace
  spent going nowhere): during the two annotated fights agitation has medians 0.29 and 0.38 and 90th
  percentiles 0.41-0.42; meeting, talking and parting pairs stay under 0.12, walking-together pairs have medians
  under 0.1 and reach 0.32 only while turning together, when their relative position barely changes (erratic
  <= 0.21). Any value from 0.2 to 0.4 finds both fights and nothing else on the development sequences.
- ``window_s`` 3 s, ``step_s`` 0.2 s: a push, a swing and a dodge take about a second each; three seconds hold a few
  of them, and 0.2 s is under one movement, so the path does not cut corners but hand-drawn jitter is averaged.
- ``min_duration_s`` 1 s: a brush past or a hug is shorter than a scuffle (with 0 a 0.04 s blip of a turning
  walking pair is raised).
- ``min_erratic_heights_per_s`` 0.1: a steady approach has a relative path about equal to its net change.

Weakness: boxes only see whole-body motion; a fight of two people who barely move their feet (pulling at a bag,
punches thrown from a stance) is missed, and children playing tag around a parent can look like one. Three people
fighting raise one event per pair.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import combinations

import numpy as np
from numpy.typing import NDArray
from pydantic import Field

from storewatch.behaviour.rules.base import Finding, Rule, RuleConfig
from storewatch.behaviour.scene import Scene, TrackHistory
from storewatch.core.events import Severity

Points = NDArray[np.float64]

GAP_S = 1.0
"""A pair that stops looking like a fight for up to this long (a pause, a window that caught a still moment) keeps
its ``min_duration_s`` count."""
CLOSE_NOW_S = 1.0
"""Closeness is judged on the last second (the motion window would still hold the approach)."""


class FightConfig(RuleConfig):
    severity: Severity = Field(Severity.HIGH, description="Severity of a fight.")
    close_heights: float = Field(
        1.2, gt=0.0, le=10.0, description="Largest distance between the two people's feet, in mean body heights."
    )
    min_agitation_heights_per_s: float = Field(
        0.3, gt=0.0, le=10.0,
        description="How much faster each person moves than the pair's midpoint (body heights per second).",
    )  # fmt: skip
    min_erratic_heights_per_s: float = Field(
        0.1, ge=0.0, le=10.0,
        description="How much the relative position's path exceeds its net change (body heights per second).",
    )  # fmt: skip
    window_s: float = Field(3.0, ge=0.5, le=30.0, description="Time over which motion is measured.")
    step_s: float = Field(0.2, ge=0.0, le=2.0, description="Sampling step of the box centres (smooths jitter).")
    min_duration_s: float = Field(1.0, ge=0.0, le=60.0, description="How long it must last before it is a fight.")


@dataclass(frozen=True, slots=True)
class Motion:
    """One window's measures of a pair."""

    distance_heights: float
    agitation_heights_per_s: float
    erratic_heights_per_s: float


class Fight(Rule):
    type = "fight"
    every_s = 0.5
    Config = FightConfig

    def __init__(self, config: RuleConfig) -> None:
        super().__init__(config)
        self._seen: dict[tuple[str, str], tuple[float, float]] = {}
        """Per pair: when it was first and last seen fighting (gaps up to ``GAP_S`` bridged)."""

    def evaluate(self, scene: Scene) -> Iterable[Finding]:
        cfg = self.config
        assert isinstance(cfg, FightConfig)
        # Cheap tests first, in pure Python: the pair must stand close now (with slack), and each of the two must
        # itself have moved enough over the window (agitation <= own path speed) before the pair is measured.
        people = sorted((p for p in scene.people() if scene.present(p)), key=lambda p: p.track_id)
        moved: dict[str, bool] = {}

        def restless(p: TrackHistory) -> bool:
            if p.track_id not in moved:
                moved[p.track_id] = _path_speed(p, cfg.window_s) >= GATE * cfg.min_agitation_heights_per_s
            return moved[p.track_id]

        for a, b in combinations(people, 2):
            (xa, ya), (xb, yb) = a.foot(), b.foot()
            reach = PAIR_SLACK * cfg.close_heights * (a.height_px() + b.height_px()) / 2
            if (xa - xb) ** 2 + (ya - yb) ** 2 > reach**2 or not (restless(a) and restless(b)):
                continue
            m = pair_motion(a, b, cfg.window_s, cfg.step_s)
            if m is None or not _is_fight(m, cfg):
                continue
            key = (a.track_id, b.track_id)
            first, last = self._seen.get(key, (scene.t_s, scene.t_s))
            if scene.t_s - last > GAP_S:
                first = scene.t_s
            self._seen[key] = (first, scene.t_s)
            if scene.t_s - first >= cfg.min_duration_s:
                yield _finding(key, m, scene.t_s - first)
        self._seen = {k: v for k, v in self._seen.items() if scene.t_s - v[1] <= GAP_S}


def _finding(key: tuple[str, str], m: Motion, lasted_s: float) -> Finding:
    return Finding(
        key=key,
        explanation=(
            f"two people {m.distance_heights:.1f} body heights apart, each moving {m.agitation_heights_per_s:.2f} "
            f"heights/s more than the pair, back and forth, for {lasted_s:.0f} s"
        ),
        track_ids=key,
        values={
            "distance_heights": round(m.distance_heights, 2),
            "agitation_heights_per_s": round(m.agitation_heights_per_s, 2),
            "erratic_heights_per_s": round(m.erratic_heights_per_s, 2),
            "lasted_s": round(lasted_s, 1),
        },
    )


def _is_fight(m: Motion, cfg: FightConfig) -> bool:
    return (
        m.distance_heights <= cfg.close_heights
        and m.agitation_heights_per_s >= cfg.min_agitation_heights_per_s
        and m.erratic_heights_per_s >= cfg.min_erratic_heights_per_s
    )


def pair_motion(a: TrackHistory, b: TrackHistory, window_s: float, step_s: float) -> Motion | None:
    """The pair's closeness, agitation and erratic relative motion over the last ``window_s`` (None: too little
    of it seen together)."""
    ta, ba = a.since(window_s)
    tb, bb = b.since(window_s)
    common, ia, ib = np.intersect1d(ta, tb, return_indices=True)
    if len(common) < 3 or common[-1] - common[0] < 0.8 * window_s:
        return None
    keep = _every(common, step_s)
    t, box_a, box_b = common[keep], ba[ia][keep], bb[ib][keep]
    if len(t) < 3:
        return None
    height = float(np.median(np.concatenate([box_a[:, 3] - box_a[:, 1], box_b[:, 3] - box_b[:, 1]])))
    height = max(height, 1.0)
    span = float(t[-1] - t[0])
    ca, cb = _centres(box_a), _centres(box_b)
    recent = t >= t[-1] - CLOSE_NOW_S
    fa, fb = box_a[recent], box_b[recent]
    feet = np.hypot((fa[:, 0] + fa[:, 2] - fb[:, 0] - fb[:, 2]) / 2, fa[:, 3] - fb[:, 3])
    mid = (ca + cb) / 2
    mid_speed = float(np.linalg.norm(mid[-1] - mid[0])) / span
    agitation = min(_path(ca), _path(cb)) / span - mid_speed
    rel = ca - cb
    erratic = (_path(rel) - float(np.linalg.norm(rel[-1] - rel[0]))) / span
    return Motion(float(np.median(feet)) / height, agitation / height, erratic / height)


PAIR_SLACK = 1.5
"""A pair is measured when its feet are within this many times ``close_heights`` now (the rule then checks the
median over the last second against ``close_heights`` itself)."""
GATE = 0.7
"""Share of the agitation limit a person's own path speed must reach to be considered at all (slack for the pair's
height, which differs from the person's own)."""


def _path_speed(person: TrackHistory, window_s: float) -> float:
    """Path length of the foot point over the last ``window_s`` per second, in the person's body heights (pure
    Python: this runs for everyone on every frame)."""
    horizon = person.last_s - window_s
    n = len(person.times)
    i = n - 1
    while i > 0 and person.times[i - 1] >= horizon:
        i -= 1
    span = person.last_s - person.times[i]
    if span <= 0:
        return 0.0
    path, prev = 0.0, None
    for x1, y1, x2, y2 in itertools.islice(person.boxes, i, n):
        x, y = (x1 + x2) / 2, (y1 + y2) / 2
        if prev is not None:
            path += ((x - prev[0]) ** 2 + (y - prev[1]) ** 2) ** 0.5
        prev = (x, y)
    return path / span / max(person.height_px(), 1.0)


def _every(t: NDArray[np.float64], step_s: float) -> NDArray[np.intp]:
    """Indices of ``t`` at least ``step_s`` apart (always the first and the last)."""
    out = [0]
    for i in range(1, len(t)):
        if t[i] - t[out[-1]] >= step_s:
            out.append(i)
    if out[-1] != len(t) - 1:
        out.append(len(t) - 1)
    return np.asarray(out, np.intp)


def _centres(boxes: NDArray[np.float64]) -> Points:
    return np.stack([(boxes[:, 0] + boxes[:, 2]) / 2, (boxes[:, 1] + boxes[:, 3]) / 2], 1)


def _path(points: Points) -> float:
    return float(np.sum(np.linalg.norm(np.diff(points, axis=0), axis=1)))
