"""The detector behind the motion gate (the cost cascade's first steps): cost grows with activity, not cameras.

Per frame: find moving blobs (cheap), plan a few windows around them and run the detector only there, at the
full-frame scale. A full-frame pass still runs every ``full_frame_interval_s`` (people standing still are not
lost) and whenever the windows would cover most of the frame anyway; boxes of tracked people are re-checked every
``recheck_interval_s`` even when they do not move. ``naive=True`` runs the full frame every time, for comparison.
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


class WindowDetector(Protocol):
    """What the gate needs of a detector (``NanoDetDetector`` is one)."""

    config: DetectorConfig

    def detect(self, image: NDArray[np.uint8]) -> Detections: ...

    def detect_window(self, image: NDArray[np.uint8], window: tuple[float, float, float, float]) -> Detections: ...


@dataclass(slots=True)
class GateStats:
    frames: int = 0
    full_frame_runs: int = 0
    window_runs: int = 0
    idle_frames: int = 0
    """Frames on which the detector did not run at all (no motion, nothing due)."""
    input_pixels: int = 0
    """Pixels the detector looked at, the measure of its cost."""


class GatedDetector:
    def __init__(
        self,
        detector: WindowDetector,
        motion: MotionDetector | None = None,
        *,
        full_frame_interval_s: float = 2.0,
        recheck_interval_s: float = 1.0,
        naive: bool = False,
    ) -> None:
        self.detector = detector
        self.motion = motion or MotionDetector()
        self.full_frame_interval_s = full_frame_interval_s
        self.recheck_interval_s = recheck_interval_s
        self.naive = naive
        self.stats = GateStats()
        self._last_full: float | None = None
        self._last_recheck: float | None = None

    def reset(self) -> None:
        self.motion.reset()
        self._last_full = self._last_recheck = None

    def detect(self, image: NDArray[np.uint8], t_s: float, tracked: NDArray[np.float32] | None = None) -> Detections:
        """Detections of the frame at time ``t_s``; ``tracked`` are boxes of live tracks (for re-checks)."""
        self.stats.frames += 1
        h, w = image.shape[:2]
        blobs = self.motion.regions(image, t_s)
        if self.naive or self._last_full is None or t_s - self._last_full >= self.full_frame_interval_s:
            return self._full(image, t_s)
        if (
            tracked is not None
            and len(tracked)
            and (self._last_recheck is None or t_s - self._last_recheck >= self.recheck_interval_s)
        ):
            blobs = np.concatenate([blobs, np.asarray(tracked, np.float32)])
            self._last_recheck = t_s
        windows = plan_windows(blobs, w, h)
        if windows is None:
            return self._full(image, t_s)
        if len(windows) == 0:
            self.stats.idle_frames += 1
            return Detections.empty()
        self.stats.window_runs += len(windows)
        self.stats.input_pixels += int(((windows[:, 2] - windows[:, 0]) * (windows[:, 3] - windows[:, 1])).sum())
        found = Detections.merge([self.detector.detect_window(image, _window(win)) for win in windows])
        keep = nms(found.xyxy, found.confidence, found.class_id, iou_threshold=self.detector.config.nms_iou)
        return found[keep]

    def _full(self, image: NDArray[np.uint8], t_s: float) -> Detections:
        self._last_full = self._last_recheck = t_s
        self.stats.full_frame_runs += 1
        self.stats.input_pixels += image.shape[0] * image.shape[1]
        return self.detector.detect(image)


def _window(row: NDArray[np.float32]) -> tuple[float, float, float, float]:
    return float(row[0]), float(row[1]), float(row[2]), float(row[3])
