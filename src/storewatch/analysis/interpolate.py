"""Filling short gaps in recorded tracks (offline only).

When a person is hidden for a moment (behind a pillar, another shopper) the tracker keeps their identity but has
no box for those frames. In a recording we know where they reappear, so the gap is filled by linear
interpolation, as MOTChallenge trackers do offline. Filled rows carry score 0 so they can be told apart.
Live analysis never does this: it cannot see the future.

>>> rows = MotRows(np.array([1, 4]), np.array([7, 7]), np.array([[0., 0, 10, 20], [30, 0, 40, 20]]), np.ones(2))
>>> out = fill_gaps(rows, max_gap_frames=5)
>>> out.frame.tolist(), out.xyxy[:, 0].tolist(), out.flag.tolist()
([1, 2, 3, 4], [0.0, 10.0, 20.0, 30.0], [1.0, 0.0, 0.0, 1.0])
"""

from __future__ import annotations

import numpy as np

from storewatch.io.mot import MotRows


def fill_gaps(rows: MotRows, max_gap_frames: int) -> MotRows:
    """``rows`` plus interpolated rows for every gap of at most ``max_gap_frames`` missing frames in a track."""
    if max_gap_frames < 1 or len(rows) == 0:
        return rows
    frames, ids, boxes, scores = [rows.frame], [rows.track_id], [rows.xyxy], [rows.flag]
    for tid in np.unique(rows.track_id):
        sel = np.flatnonzero(rows.track_id == tid)
        sel = sel[np.argsort(rows.frame[sel], kind="stable")]
        f = rows.frame[sel]
        for k in np.flatnonzero((np.diff(f) > 1) & (np.diff(f) <= max_gap_frames + 1)):
            f0, f1 = int(f[k]), int(f[k + 1])
            missing = np.arange(f0 + 1, f1)
            w = ((missing - f0) / (f1 - f0))[:, None]
            frames.append(missing)
            ids.append(np.full(missing.size, tid))
            boxes.append(rows.xyxy[sel[k]] * (1 - w) + rows.xyxy[sel[k + 1]] * w)
            scores.append(np.zeros(missing.size))
    out = MotRows(
        np.concatenate(frames).astype(np.int64),
        np.concatenate(ids).astype(np.int64),
        np.concatenate(boxes).astype(np.float64),
        np.concatenate(scores).astype(np.float64),
    )
    order = np.lexsort((out.track_id, out.frame))
    return MotRows(out.frame[order], out.track_id[order], out.xyxy[order], out.flag[order])
