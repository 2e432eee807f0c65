"""The cheap gate of the cost cascade: where in the frame did something move?

Motion is found on a small grey copy of the frame (``analysis_width_px`` wide, default 160): the difference to a
running-average background, thresholded, dilated and split into connected blobs. The copy is made in two steps, a
bilinear resize to twice its size and an exact 2:1 area average: the same smoothing as one area resize (which
OpenCV does slowly at a fractional ratio: 2.8 ms for 768x576 -> 160x120, against 0.45 ms). This costs well under a
millisecond per frame and tells the detector which regions need looking at; a still scene costs almost nothing.
The background adapts with a time constant in seconds, so a parked trolley or a light switched on is absorbed
and stops counting as motion.

>>> import numpy as np
>>> m = MotionDetector(MotionConfig())
>>> still = np.full((240, 320, 3), 90, np.uint8)
>>> m.regions(still, 0.0).tolist()
[]
>>> moved = still.copy(); moved[100:180, 200:230] = 250
>>> [round(v) for v in m.regions(moved, 0.2)[0]]
[190, 90, 240, 190]
"""

from __future__ import annotations

import cv2
import numpy as np
from numpy.typing import NDArray
from pydantic import BaseModel, ConfigDict, Field


class MotionConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    analysis_width_px: int = Field(160, ge=32, le=1920, description="Width of the grey copy motion is found on.")
    threshold: int = Field(20, ge=1, le=255, description="Grey-level difference that counts as change.")
    min_area_fraction: float = Field(
        0.0004, ge=0.0, le=1.0, description="Smallest moving blob kept, as a fraction of the frame's area."
    )
    background_time_s: float = Field(
        4.0, gt=0.0, le=3600.0, description="Time constant with which the background absorbs lasting change."
    )


class MotionDetector:
    """``regions(image, t_s) -> (K, 4)`` xyxy boxes (frame pixels) of moving blobs; ``reset()`` forgets."""

    def __init__(self, config: MotionConfig | None = None) -> None:
        self.config = config or MotionConfig()
        self._kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (5, 5))
        self.reset()

    def reset(self) -> None:
        self._background: NDArray[np.float32] | None = None
        self._last_t: float | None = None

    def _small_grey(self, image: NDArray[np.uint8]) -> NDArray[np.float32]:
        h, w = image.shape[:2]
        sw = min(self.config.analysis_width_px, w)
        sh = max(1, round(h * sw / w))
        if w >= 4 * sw:
            image = np.asarray(cv2.resize(image, (2 * sw, 2 * sh), interpolation=cv2.INTER_LINEAR), np.uint8)
        grey = cv2.cvtColor(cv2.resize(image, (sw, sh), interpolation=cv2.INTER_AREA), cv2.COLOR_BGR2GRAY)
        return np.asarray(cv2.GaussianBlur(grey, (3, 3), 0), np.float32)

    def regions(
        self, image: NDArray[np.uint8], t_s: float, ignore: NDArray[np.float32] | None = None
    ) -> NDArray[np.float32]:
        """Moving blobs of the frame at ``t_s``; motion inside the ``ignore`` boxes (frame pixels, e.g. people
        already tracked there) is left out of them. The background learns from the whole frame either way."""
        grey = self._small_grey(image)
        if self._background is None or self._background.shape != grey.shape:
            self._background, self._last_t = grey, t_s
            return np.zeros((0, 4), np.float32)
        dt = max(t_s - (self._last_t if self._last_t is not None else t_s), 0.0)
        self._last_t = t_s
        diff = cv2.absdiff(grey, self._background)
        alpha = 1.0 - float(np.exp(-dt / self.config.background_time_s))
        cv2.accumulateWeighted(grey, self._background, alpha)
        mask = np.asarray(diff > self.config.threshold, np.uint8)
        scale = image.shape[1] / grey.shape[1]
        if ignore is not None and len(ignore):
            for x1, y1, x2, y2 in np.rint(np.asarray(ignore, np.float64) / scale).astype(np.int64).tolist():
                mask[max(y1, 0) : max(y2, 0), max(x1, 0) : max(x2, 0)] = 0
        mask = np.asarray(cv2.dilate(mask, self._kernel, iterations=2), np.uint8)
        n, _, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
        min_area = self.config.min_area_fraction * grey.shape[0] * grey.shape[1]
        boxes = [
            (x, y, x + bw, y + bh)
            for x, y, bw, bh, area in np.asarray(stats)[1:n]
            if area >= min_area
        ]  # fmt: skip
        if not boxes:
            return np.zeros((0, 4), np.float32)
        out: NDArray[np.float32] = (np.asarray(boxes, np.float32) * scale).astype(np.float32)
        out[:, [0, 2]] = out[:, [0, 2]].clip(0, image.shape[1])
        out[:, [1, 3]] = out[:, [1, 3]].clip(0, image.shape[0])
        return out
