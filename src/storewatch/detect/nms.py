"""Greedy non-maximum suppression, per class.

Written here (a dozen lines of numpy) rather than taken from OpenCV's dnn module or torchvision: OpenCV's
``NMSBoxes`` works on xywh lists and float32 only, and torchvision is not installed.

>>> boxes = np.array([[0, 0, 10, 10], [1, 1, 10, 10], [20, 20, 30, 30]], np.float32)
>>> nms(boxes, np.array([0.9, 0.8, 0.7]), np.array([0, 0, 0]), iou_threshold=0.5).tolist()
[0, 2]
>>> nms(boxes, np.array([0.9, 0.8, 0.7]), np.array([0, 1, 0]), iou_threshold=0.5).tolist()
[0, 1, 2]
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray


def nms(
    xyxy: NDArray[Any], scores: NDArray[Any], class_ids: NDArray[Any], *, iou_threshold: float
) -> NDArray[np.int64]:
    """Indices of the boxes kept, highest score first; boxes only suppress boxes of their own class."""
    if len(scores) == 0:
        return np.zeros(0, np.int64)
    # Offsetting each class far apart makes one pass do per-class NMS.
    offset = (np.asarray(class_ids, np.float64) * (float(np.abs(xyxy).max()) + 1.0))[:, None]
    b = np.asarray(xyxy, np.float64) + offset
    areas = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    order = np.argsort(-np.asarray(scores), kind="stable")
    keep: list[int] = []
    while order.size:
        i = int(order[0])
        keep.append(i)
        rest = order[1:]
        w = (np.minimum(b[i, 2], b[rest, 2]) - np.maximum(b[i, 0], b[rest, 0])).clip(0)
        h = (np.minimum(b[i, 3], b[rest, 3]) - np.maximum(b[i, 1], b[rest, 1])).clip(0)
        inter = w * h
        iou = inter / np.maximum(areas[i] + areas[rest] - inter, 1e-12)
        order = rest[iou <= iou_threshold]
    return np.asarray(keep, np.int64)
