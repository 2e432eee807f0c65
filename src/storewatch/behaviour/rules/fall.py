"""Person down: a person's box changes shape suddenly, in place, and then hardly moves for a while.

How it is measured, per person, from boxes alone (no pose):

1. *Upright reference*: the median box (width, height, centre) over ``reference_s`` ending ``transition_s`` before
   the still window below, i.e. what the person looked like just before.
2. *Sprawl*: a body lying on the floor spans about its own height along the floor, where an upright body spans a
   shoulder width across. So in the image the box grows in one dimension, whichever way the person fell: wider in
   a side view (a 0.3-wide standing box becomes a 1.0+-wide lying one), taller or wider when seen from above at a
   slant. ``spread`` = the larger of width / upright width and height / upright height; it must reach
   ``min_spread_ratio`` while the box area does not shrink below ``min_area_ratio`` of upright (a box that shrinks
   overall is a person going behind a shelf or a chair, or sitting, not one lying in the open) and its width does
   not shrink below ``MIN_WIDTH_RATIO`` (a narrower, taller box is someone straightening up after bending).
3. *Sudden*: the down box is also sprawled against the last second before the transition (a box that grew slowly,
   as a person walks up to the camera, is not a fall).
4. *In place*: the down box's centre is within ``reach_heights`` upright body heights of the upright centre (a
   body falls within its own length).
5. *Still and down throughout*: over the last ``down_s``, at least ``DOWN_SHARE`` of the boxes are sprawled,
   including those at its start, and the box centre stays within ``still_heights`` upright body heights of its
   median (a wiggle on the floor is allowed, getting up and walking is not).
6. People under ``min_height_px`` tall are not judged.

Once found, the person stays down (the finding repeats) while their box, smoothed over ``smooth_s``, stays
sprawled against the same upright reference and within ``reach_heights`` of where they fell; standing up ends it.

Defaults, and why (figures measured on the CAVIAR ground truth, 384x288, people 10-50 px tall):

- ``min_spread_ratio`` 1.3: hand-drawn and detected boxes of a standing or walking person vary by 10-25 % in
  width and height from second to second (CAVIAR's browsing and meeting people reach 1.27 over 3 s still
  windows); the two annotated falls spread 1.4 (fell lengthwise, away from the camera: 34 -> 47 px tall) and 2.2
  (fell sideways: 38 -> 83 px wide). A side-view fall spreads 2-3. Values 1.2-1.35 give the same result on the
  development sequences; 1.4 loses the lengthwise fall.
- ``min_area_ratio`` 0.8: sitting down in a chair in CAVIAR shrinks the box to 0.4-0.7 of its area (the chair
  hides the legs); a lying body's box keeps or grows its area (x1.4 and x3 in the falls above; ~x1 side-on).
- ``min_height_px`` 20: below it a box's size is off by 2-3 px (15 %+) from pixels and drawing alone; three of
  CAVIAR's 11-16 px tall people "spread" by 1.3-1.4 while standing.
- ``down_s`` 3 s: a bend to a low shelf or tying a shoe is 1-3 s of changing pose; a person who fell and stays
  down 3 s is the case to look at (the annotated falls stay down 5 and 10 s; 2-5 s give the same result).
- ``transition_s`` 1.5 s: a fall itself takes well under a second; 1.5 s leaves room for a smoothed tracker box
  and the hand-drawn boxes' interpolation.
- ``reference_s`` 3 s: a few strides of walking, enough for a median that ignores a bad box or a short bend.
- ``still_heights`` 0.35 and ``reach_heights`` 1.5: a lying person's box centre shifts by up to a third of a
  body height as they move an arm or roll; a body falls within about its own length of where it stood.

Weakness: boxes cannot tell a fall from a person deliberately lying or sitting on the floor, nor from a long
stretch with the arms up; a person who crouches sideways-on for more than ``down_s`` with a wide box may raise it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from pydantic import Field

from storewatch.behaviour.rules.base import Finding, Rule, RuleConfig
from storewatch.behaviour.scene import Scene, TrackHistory
from storewatch.core.events import Severity

Boxes = NDArray[np.float64]

MIN_REFERENCE_S = 1.0
"""A person seen upright for less than this before going down has no reference to compare with."""
MIN_WIDTH_RATIO = 0.8
"""A lying body spans at least its shoulder width across the image: a box that got narrower (and taller) is a
person straightening up, e.g. after bending down."""
DOWN_SHARE = 0.8
"""Share of the boxes of the still window that must be sprawled (one in five may be a bad box or a flail)."""


class FallConfig(RuleConfig):
    severity: Severity = Field(Severity.HIGH, description="Severity of a person down (someone may need help).")
    min_spread_ratio: float = Field(
        1.3, ge=1.05, le=5.0, description="Growth of the box's width or height over upright that is a body lying."
    )
    min_area_ratio: float = Field(
        0.8, ge=0.1, le=2.0, description="Box area over upright below which it is hidden or sitting, not lying."
    )
    down_s: float = Field(3.0, ge=0.5, le=120.0, description="How long the person stays down and nearly still.")
    transition_s: float = Field(1.5, ge=0.2, le=10.0, description="Longest time the fall itself may take.")
    reference_s: float = Field(3.0, ge=0.2, le=30.0, description="Time before the fall taken as the upright pose.")
    still_heights: float = Field(
        0.35, gt=0.0, le=5.0, description="Largest move of the box centre while down, in upright body heights."
    )
    reach_heights: float = Field(
        1.5, gt=0.0, le=10.0, description="Largest distance between upright and down box centres, in body heights."
    )
    min_height_px: float = Field(
        20.0, ge=0.0, le=2000.0, description="People shorter than this (upright, pixels) are too small to judge."
    )
    smooth_s: float = Field(0.5, ge=0.0, le=10.0, description="Smoothing of the box while checking one stays down.")


@dataclass(frozen=True, slots=True)
class Pose:
    """A median box: size and centre, pixels."""

    w: float
    h: float
    cx: float
    cy: float

    @staticmethod
    def of(boxes: Boxes) -> Pose:
        sizes = np.stack([boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]], 1)
        centres = np.stack([boxes[:, 0] + boxes[:, 2], boxes[:, 1] + boxes[:, 3]], 1) / 2
        w, h, cx, cy = np.median(np.concatenate([sizes, centres], 1), axis=0).tolist()
        return Pose(w, h, cx, cy)

    def spread(self, upright: Pose, min_area_ratio: float) -> float:
        """How much larger than ``upright`` the box is in its most grown dimension (0 when it shrank overall)."""
        return float(spread_of(np.array([[0.0, 0.0, self.w, self.h]]), upright, min_area_ratio)[0])

    def distance(self, other: Pose) -> float:
        return float(np.hypot(self.cx - other.cx, self.cy - other.cy))


def spread_of(boxes: Boxes, upright: Pose, min_area_ratio: float) -> NDArray[np.float64]:
    """``Pose.spread`` of each box."""
    w0, h0 = max(upright.w, 1.0), max(upright.h, 1.0)
    w, h = boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]
    shrank = (w * h < min_area_ratio * w0 * h0) | (w < MIN_WIDTH_RATIO * w0)
    return np.where(shrank, 0.0, np.maximum(w / w0, h / h0))


GATE = 0.85
"""A person whose latest boxes have not spread to this share of ``min_spread_ratio`` against the boxes before the
fall window is not measured further (pure Python, runs for everyone on every frame)."""


def _rough_spread(person: TrackHistory, ref_end_s: float, n: int = 3) -> float:
    """Growth of the mean width or height of the last ``n`` boxes over the ``n`` boxes up to ``ref_end_s``."""
    times, boxes = person.times, person.boxes
    i = len(times) - 1
    while i >= 0 and times[i] > ref_end_s:
        i -= 1
    if i < n - 1 or len(boxes) < n:
        return 0.0
    before = [boxes[j] for j in range(i - n + 1, i + 1)]
    after = [boxes[-j] for j in range(1, n + 1)]
    w0 = sum(b[2] - b[0] for b in before) / n
    h0 = sum(b[3] - b[1] for b in before) / n
    w1 = sum(b[2] - b[0] for b in after) / n
    h1 = sum(b[3] - b[1] for b in after) / n
    return max(w1 / max(w0, 1e-6), h1 / max(h0, 1e-6))


@dataclass(frozen=True, slots=True)
class _Down:
    upright: Pose
    at: Pose
    since_s: float


class Fall(Rule):
    type = "fall"
    every_s = 0.5
    Config = FallConfig

    def __init__(self, config: RuleConfig) -> None:
        super().__init__(config)
        self._down: dict[str, _Down] = {}

    def evaluate(self, scene: Scene) -> Iterable[Finding]:
        cfg = self.config
        assert isinstance(cfg, FallConfig)
        for hist in scene.ended:
            self._down.pop(hist.track_id, None)
        for person in scene.people():
            if not scene.present(person) or scene.cut_by_edge(person.box):
                continue  # a box cut by the frame's edge changes shape as the person walks in or out
            down = self._down.get(person.track_id)
            down = self._still_down(person, down, cfg) if down else self._fell(person, scene.t_s, cfg)
            if down is None:
                self._down.pop(person.track_id, None)
                continue
            self._down[person.track_id] = down
            yield self._finding(person, down, scene.t_s, cfg)

    def _fell(self, person: TrackHistory, now_s: float, cfg: FallConfig) -> _Down | None:
        """The person has just been found down: upright before, sprawled and still for ``down_s`` since."""
        total = cfg.reference_s + cfg.transition_s + cfg.down_s
        if person.first_s > now_s - cfg.down_s - cfg.transition_s - min(cfg.reference_s, MIN_REFERENCE_S):
            return None
        if _rough_spread(person, now_s - cfg.down_s - cfg.transition_s) < GATE * cfg.min_spread_ratio:
            return None  # the box is about the shape it was before: no need to measure properly
        t, boxes = person.since(total)
        ref_end = now_s - cfg.down_s - cfg.transition_s
        ref, before = boxes[t <= ref_end], boxes[(t <= ref_end) & (t >= ref_end - MIN_REFERENCE_S)]
        low = boxes[t >= now_s - cfg.down_s]
        if len(ref) < 3 or len(low) < 3 or float(t[t >= now_s - cfg.down_s][0]) > now_s - 0.8 * cfg.down_s:
            return None
        upright, at = Pose.of(ref), Pose.of(low)
        body = max(upright.h, 1.0)
        if upright.h < cfg.min_height_px:
            return None
        sprawled = spread_of(low, upright, cfg.min_area_ratio) >= cfg.min_spread_ratio
        first = max(len(low) // 5, 1)  # down since the window began, not only for the most of it
        if float(np.mean(sprawled)) < DOWN_SHARE or float(np.mean(sprawled[:first])) < 0.5:
            return None
        if len(before) == 0:  # a gap in the track just before the window: its latest boxes before it stand in
            before = ref[-3:]
        if at.spread(Pose.of(before), cfg.min_area_ratio) < cfg.min_spread_ratio:
            return None  # no sudden change: it grew slowly (walking up to the camera) or had already
        if at.distance(upright) > cfg.reach_heights * body:
            return None
        centres = np.stack([(low[:, 0] + low[:, 2]) / 2, (low[:, 1] + low[:, 3]) / 2], 1)
        moved = np.hypot(centres[:, 0] - at.cx, centres[:, 1] - at.cy)
        if float(np.percentile(moved, 90)) > cfg.still_heights * body:
            return None
        return _Down(upright, at, now_s - cfg.down_s)

    def _still_down(self, person: TrackHistory, down: _Down, cfg: FallConfig) -> _Down | None:
        _, boxes = person.since(cfg.smooth_s)
        now = Pose.of(boxes)
        if now.spread(down.upright, cfg.min_area_ratio) < cfg.min_spread_ratio:
            return None
        if now.distance(down.at) > cfg.reach_heights * max(down.upright.h, 1.0):
            return None
        return down

    @staticmethod
    def _finding(person: TrackHistory, down: _Down, now_s: float, cfg: FallConfig) -> Finding:
        spread = down.at.spread(down.upright, cfg.min_area_ratio)
        return Finding(
            key=person.track_id,
            explanation=f"person down for {now_s - down.since_s:.0f} s (box {spread:.1f}x its upright size, still)",
            track_ids=(person.track_id,),
            values={"down_s": round(now_s - down.since_s, 1), "spread_ratio": round(spread, 2)},
        )
