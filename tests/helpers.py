"""Helpers shared by tests: waiting on a condition with a deadline, and a detector double."""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

from storewatch.core import Detections
from storewatch.detect.config import DetectorConfig


def wait_for(condition: Callable[[], bool], timeout_s: float = 5.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.01)


class CountingDetector:
    """Finds a 'person' wherever the image is bright; records where it was asked to look."""

    config = DetectorConfig()

    def __init__(self) -> None:
        self.full, self.windows = 0, []

    def _find(self, image, ox=0, oy=0):
        ys, xs = np.nonzero(image[..., 0] > 200)
        if not len(xs):
            return Detections.empty()
        return Detections([[xs.min() + ox, ys.min() + oy, xs.max() + 1 + ox, ys.max() + 1 + oy]], [0.9], [0])

    def detect(self, image):
        self.full += 1
        return self._find(image)

    def detect_window(self, image, window):
        self.windows.append(window)
        x1, y1, x2, y2 = (int(v) for v in window)
        return self._find(image[y1:y2, x1:x2], x1, y1)

    def detect_windows(self, image, windows):
        return Detections.merge([self.detect_window(image, tuple(w)) for w in windows])
