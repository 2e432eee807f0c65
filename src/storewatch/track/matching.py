"""Gated one-to-one assignment of tracks to detections (Hungarian method from scipy).

>>> iou = np.array([[0.9, 0.1], [0.2, 0.3]])
>>> m, ut, ud = match(1.0 - iou, max_cost=0.8)
>>> m.tolist(), ut.tolist(), ud.tolist()
([[0, 0], [1, 1]], [], [])
>>> match(1.0 - iou, max_cost=0.65)[0].tolist()
[[0, 0]]
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import linear_sum_assignment

IntArray = NDArray[np.int64]


def match(cost: NDArray[np.float64], max_cost: float) -> tuple[IntArray, IntArray, IntArray]:
    """Pairs (track row, detection column) with cost <= ``max_cost`` minimising the total cost; plus the
    unmatched rows and columns. Infinite cost forbids a pair."""
    rows_n, cols_n = cost.shape
    if rows_n == 0 or cols_n == 0:
        return np.zeros((0, 2), np.int64), np.arange(rows_n), np.arange(cols_n)
    big = max_cost + 1.0
    bounded = np.where(np.isfinite(cost) & (cost <= max_cost), cost, big)
    rows, cols = linear_sum_assignment(bounded)
    ok = bounded[rows, cols] <= max_cost
    pairs = np.stack([rows[ok], cols[ok]], 1).astype(np.int64)
    unmatched_rows = np.setdiff1d(np.arange(rows_n), pairs[:, 0])
    unmatched_cols = np.setdiff1d(np.arange(cols_n), pairs[:, 1])
    return pairs, unmatched_rows, unmatched_cols
