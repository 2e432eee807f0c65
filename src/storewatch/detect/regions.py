"""Turning moving blobs into a few detector windows.

Each blob is grown by a margin (a person's box extends past the part that moved; 10 % of its size on each side:
the network finds a person as well in a crop with a tenth of their height around them as in the whole frame,
and the blobs of a running-average background already trail behind walkers) and to a minimum size, then
overlapping windows are merged when their union costs no more than running both (otherwise they stay apart and
the detections they share are merged by NMS). When the windows would cover most of the frame, one full-frame pass
is cheaper and the planner says so by returning ``None``.

>>> plan_windows(np.array([[100, 100, 120, 150], [102, 105, 122, 150]], np.float32), 640, 480,
...              margin=0.0, min_size_px=0).tolist()
[[100.0, 100.0, 122.0, 150.0]]
>>> len(plan_windows(np.array([[100, 100, 120, 150], [118, 140, 140, 190]], np.float32), 640, 480,
...                  margin=0.0, min_size_px=0))  # barely touching: two windows are cheaper than their union
2
>>> plan_windows(np.array([[0, 0, 600, 450]], np.float32), 640, 480) is None
True
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray


def _grow(boxes: NDArray[np.float32], margin: float, min_size_px: int, width: int, height: int) -> NDArray[np.float32]:
    b = boxes.astype(np.float32).copy()
    w, h = b[:, 2] - b[:, 0], b[:, 3] - b[:, 1]
    pad_x = np.maximum(w * margin, (min_size_px - w) / 2).clip(0)
    pad_y = np.maximum(h * margin, (min_size_px - h) / 2).clip(0)
    b[:, 0] -= pad_x
    b[:, 2] += pad_x
    b[:, 1] -= pad_y
    b[:, 3] += pad_y
    b[:, [0, 2]] = b[:, [0, 2]].clip(0, width)
    b[:, [1, 3]] = b[:, [1, 3]].clip(0, height)
    return b


def _area(b: list[float]) -> float:
    return max(b[2] - b[0], 0.0) * max(b[3] - b[1], 0.0)


def _worth_merging(a: list[float], b: list[float], slack: float) -> bool:
    """Overlapping windows merge when their union costs little more than running both."""
    iw = min(a[2], b[2]) - max(a[0], b[0])
    ih = min(a[3], b[3]) - max(a[1], b[1])
    if iw <= 0 or ih <= 0:
        return False
    union = [min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3])]
    return _area(union) <= slack * (_area(a) + _area(b))


def _merge_overlapping(boxes: list[list[float]], slack: float = 1.0) -> list[list[float]]:
    merged = True
    while merged and len(boxes) > 1:
        merged = False
        for i in range(len(boxes)):
            for j in range(i + 1, len(boxes)):
                a, b = boxes[i], boxes[j]
                if _worth_merging(a, b, slack):
                    boxes[i] = [min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3])]
                    del boxes[j]
                    merged = True
                    break
            if merged:
                break
    return boxes


def plan_windows(
    blobs: NDArray[np.float32],
    width: int,
    height: int,
    *,
    margin: float = 0.1,
    min_size_px: int = 64,
    max_coverage: float = 0.6,
) -> NDArray[np.float32] | None:
    """Windows (K, 4) to run the detector on, or None when one full-frame pass is the better deal."""
    if len(blobs) == 0:
        return np.zeros((0, 4), np.float32)
    grown = _grow(blobs, margin, min_size_px, width, height)
    windows = np.asarray(_merge_overlapping(grown.tolist()), np.float32)
    area = float(sum(_area(w) for w in windows.tolist()))  # overlaps counted twice: that is their cost
    if area > max_coverage * width * height:
        return None
    return windows
