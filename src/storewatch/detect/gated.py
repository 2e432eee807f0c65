"""The detector behind the motion gate (the cost cascade's first steps): cost grows with activity, not cameras.

Per frame: find moving blobs (cheap) outside the people already tracked, and run the detector only on windows
around those blobs and around the tracked people (``window_margin`` of their height added), all packed into one
network run (``mosaic``), at the full-frame scale. So

- a still, empty scene costs only the periodic full-frame pass (every ``full_frame_interval_s``, so people standing
  still, or the first sight of a scene, are not missed; and at most every ``full_frame_min_frames`` frames, so a
  camera served slowly on an overloaded machine does not fall back to a full frame every time);
- new motion (someone entering, an object moved) is looked at on the frame it appears;
- a tracked person costs a window around them, not the frame; a confirmed track may be looked at only every
  ``refresh_interval_s`` (0 = every frame, the default), the tracker carrying it on its prediction in between
  (coasting, see ``ByteTracker.update``'s ``looked_at``); tentative and lost tracks every ``recheck_interval_s``
  (their motion is never excused, so a moving one is looked at every frame);
- when the windows would cover most of the frame anyway, one full-frame pass runs instead.

Measured on PETS09-S2L1 frames 1-400 at 5 fps (``bench.gate_recall``): person recall 0.855 gated vs 0.860 naive
(0.850 vs 0.861 averaged over the three phases of 5 fps sampling of the 7 fps video, which differ by up to
2 points for the same settings: tracking is chaotic), the network's input 35 % of a full-frame pass per frame
(canvases with 8 px gaps, motion windows grown by 10 %, the full frame every 3 s), the detector's time per frame
half of naive's (2.0x). ``refresh_interval_s = 0.3`` looks at 9 % fewer pixels but recall drops to
0.834: coasting boxes are right (IoU >= 0.5) only about 3 times in 4, so it is not the default.

Where the gated time goes (threads=1, CPU ms per frame on that replay, 31 in all against naive's 62): the network
19 (of which the full-frame refresh 3.2), colour descriptors 3.5, decoding 1.5, tile packing 1.3, tracker 1.3,
motion 1.3, NMS 0.8, resize 0.7, canvas 0.5. Ideas tried that cost too much recall for what they saved: motion as
the difference to the background *and* to the previous frame (no trail behind walkers: a third fewer input
pixels, recall -2 points, 3 below naive); MOG2 background subtraction (-30 %, -4 points); tighter track windows
(-2 %, -0.7 points); excusing motion where tracked people walked in the last 0.5 s / 2 s (their trail in the
background: -6 % / -28 %, but -2.4 / -6.6 points, since unexplained motion is how missed people are found);
confirmed tracks looked at every 0.2 s (-7 %, -4 points). On this busy scene the network's input cannot shrink
much further: its cost is linear in input pixels (0.27-0.31 us a pixel on this CPU, shape changes free), the
windows' tiles alone are 20 % of the frame, and an empty scene costs 1/17 of naive mode
(``benchmarks/pipeline-pets09.json``).

``naive=True`` runs the full frame every time, for comparison. ``look`` returns the detections and the windows
looked at, which the tracker needs to tell "not found" from "not looked for".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np
from numpy.typing import NDArray

from storewatch.core.detections import Detections
from storewatch.detect.config import DetectorConfig
from storewatch.detect.motion import MotionDetector
from storewatch.detect.nms import nms
from storewatch.detect.regions import plan_windows

Boxes = NDArray[np.float32]


class WindowDetector(Protocol):
    """What the gate needs of a detector (``NanoDetDetector`` is one)."""

    config: DetectorConfig

    def detect(self, image: NDArray[np.uint8]) -> Detections: ...

    def detect_window(self, image: NDArray[np.uint8], window: tuple[float, float, float, float]) -> Detections: ...

    def detect_windows(self, image: NDArray[np.uint8], windows: NDArray[np.floating]) -> Detections: ...


@dataclass(slots=True)
class GateStats:
    frames: int = 0
    full_frame_runs: int = 0
    window_runs: int = 0
    idle_frames: int = 0
    """Frames on which the detector did not run at all (no motion, nothing due)."""
    explained_blobs: int = 0
    """Confirmed tracks not looked at (coasting) on a frame because they were seen a moment ago."""
    input_pixels: int = 0
    """Pixels the detector looked at, the measure of its cost."""


@dataclass(frozen=True, slots=True)
class Look:
    """What the gate saw on one frame."""

    detections: Detections
    windows: Boxes | None
    """(K, 4) windows the detector ran on, or None for the whole frame."""


@dataclass(frozen=True, slots=True)
class Tracked:
    """What the gate needs to know of a camera's live tracks."""

    boxes: Boxes
    """(N, 4) xyxy, predicted to the frame's time."""
    seen_s: NDArray[np.float64]
    """(N,) when each was last matched to a detection (monotonic seconds)."""
    confirmed: NDArray[np.bool_]
    """(N,) whether each is a confirmed track (tentative and lost ones excuse no motion)."""

    @classmethod
    def none(cls) -> Tracked:
        return cls(np.zeros((0, 4), np.float32), np.zeros(0), np.zeros(0, np.bool_))


class GatedDetector:
    def __init__(
        self,
        detector: WindowDetector,
        motion: MotionDetector | None = None,
        *,
        full_frame_interval_s: float = 3.0,
        full_frame_min_frames: int = 5,
        recheck_interval_s: float = 1.0,
        refresh_interval_s: float = 0.0,
        track_margin: float = 0.15,
        window_margin: float = 0.1,
        mosaic: bool = True,
        naive: bool = False,
    ) -> None:
        if full_frame_min_frames < 1:
            raise ValueError("full_frame_min_frames must be at least 1")
        if min(full_frame_interval_s, recheck_interval_s) <= 0 or refresh_interval_s < 0:
            raise ValueError("the gate's intervals must be positive (refresh_interval_s may be 0: every frame)")
        self.detector = detector
        self.motion = motion or MotionDetector()
        self.full_frame_interval_s = full_frame_interval_s
        self.full_frame_min_frames = full_frame_min_frames
        self.recheck_interval_s = recheck_interval_s
        self.refresh_interval_s = refresh_interval_s
        self.track_margin = track_margin
        self.window_margin = window_margin
        self.mosaic = mosaic
        self.naive = naive
        self.stats = GateStats()
        self._last_full: float | None = None
        self._frames_since_full = 0
        self._last_recheck: float | None = None

    def reset(self) -> None:
        self.motion.reset()
        self._last_full = self._last_recheck = None
        self._frames_since_full = 0

    def detect(self, image: NDArray[np.uint8], t_s: float, tracked: Boxes | None = None) -> Detections:
        """Detections of the frame at time ``t_s``; ``tracked`` boxes of live tracks are all re-checked together
        every ``recheck_interval_s`` (``look`` with ``Tracked`` does better)."""
        self.stats.frames += 1
        self._frames_since_full += 1
        blobs = self.motion.regions(image, t_s)
        if self._full_due(t_s):
            return self._full(image, t_s)
        boxes = np.zeros((0, 4), np.float32) if tracked is None else np.asarray(tracked, np.float32).reshape(-1, 4)
        if len(boxes) and (self._last_recheck is None or t_s - self._last_recheck >= self.recheck_interval_s):
            self._last_recheck = t_s
            blobs = np.concatenate([blobs, boxes])
        return self._windows(image, t_s, blobs).detections

    def look(self, image: NDArray[np.uint8], t_s: float, tracked: Tracked | None = None) -> Look:
        """Run the detector where it is needed on the frame at time ``t_s``, given the camera's ``tracked``
        people: motion inside a confirmed track's box is that person's (excused); each confirmed track is looked
        at again ``refresh_interval_s`` after it was last seen, others every ``recheck_interval_s``; motion
        nobody explains is looked at at once."""
        self.stats.frames += 1
        self._frames_since_full += 1
        tr = tracked or Tracked.none()
        blobs = self.motion.regions(image, t_s, ignore=_grow(tr.boxes[tr.confirmed], self.track_margin))
        if self._full_due(t_s):
            return Look(self._full(image, t_s), None)
        age = t_s - tr.seen_s
        due = np.where(tr.confirmed, age >= self.refresh_interval_s, age >= self.recheck_interval_s)
        self.stats.explained_blobs += int(np.count_nonzero(tr.confirmed & ~due))
        return self._windows(image, t_s, np.concatenate([blobs, _grow(tr.boxes[due], self.window_margin)]))

    def _full_due(self, t_s: float) -> bool:
        """A full-frame pass is due ``full_frame_interval_s`` after the last one, but never before
        ``full_frame_min_frames`` frames: on an overloaded machine (a camera served every few seconds) the gate
        would otherwise run the whole frame every time and cost as much as naive mode just when it matters."""
        if self.naive or self._last_full is None:
            return True
        elapsed = t_s - self._last_full
        return elapsed >= self.full_frame_interval_s and self._frames_since_full >= self.full_frame_min_frames

    def _windows(self, image: NDArray[np.uint8], t_s: float, blobs: Boxes) -> Look:
        h, w = image.shape[:2]
        windows = plan_windows(blobs, w, h)
        if windows is None:
            return Look(self._full(image, t_s), None)
        if len(windows) == 0:
            self.stats.idle_frames += 1
            return Look(Detections.empty(), windows)
        self.stats.window_runs += len(windows)
        self.stats.input_pixels += int(((windows[:, 2] - windows[:, 0]) * (windows[:, 3] - windows[:, 1])).sum())
        if self.mosaic:
            found = self.detector.detect_windows(image, windows)
        else:
            found = Detections.merge([self.detector.detect_window(image, _window(win)) for win in windows])
        keep = nms(found.xyxy, found.confidence, found.class_id, iou_threshold=self.detector.config.nms_iou)
        return Look(found[keep], windows)

    def _full(self, image: NDArray[np.uint8], t_s: float) -> Detections:
        self._last_full = self._last_recheck = t_s
        self._frames_since_full = 0
        self.stats.full_frame_runs += 1
        self.stats.input_pixels += image.shape[0] * image.shape[1]
        return self.detector.detect(image)


def _grow(boxes: Boxes, margin: float) -> Boxes:
    """Boxes grown by ``margin`` of their height on every side (a person's motion spreads past their box)."""
    pad = (boxes[:, 3] - boxes[:, 1])[:, None] * margin
    grown: Boxes = (boxes + np.concatenate([-pad, -pad, pad, pad], axis=1)).astype(np.float32)
    return grown


def _window(row: NDArray[np.float32]) -> tuple[float, float, float, float]:
    return float(row[0]), float(row[1]), float(row[2]), float(row[3])
