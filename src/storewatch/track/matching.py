"""Association of tracks to detections: costs from overlap, class and appearance, and a gated one-to-one
assignment (the Hungarian method, scipy's ``linear_sum_assignment``).

The assignment has ByteTrack's semantics (``lap.lapjv`` with ``cost_limit``): a pair is only made if its cost is
at most ``max_cost``, and among those the pairing that saves the most below the limit wins, so one very good pair
is kept rather than broken up into two mediocre ones.

>>> iou = np.array([[0.9, 0.1], [0.2, 0.3]])
>>> m = match(1.0 - iou, max_cost=0.8)
>>> m.rows.tolist(), m.cols.tolist(), m.free_rows.tolist(), m.free_cols.tolist()
([0, 1], [0, 1], [], [])
>>> match(1.0 - iou, max_cost=0.65).pairs()
[(0, 0)]
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import linear_sum_assignment

from storewatch.track.config import TrackerConfig

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
BoolArray = NDArray[np.bool_]

_TIE = 1e-9
"""Added to every allowed pair's saving, so a pair exactly at the limit still counts as a match."""
RECOVER_HEIGHT_RATIO = (0.67, 1.5)
"""A lost track is only re-found at a detection whose height is within this ratio of its last one."""


class Assignment(NamedTuple):
    """Result of ``match``: matched ``rows[k]`` <-> ``cols[k]``, and the rows and columns left (ascending)."""

    rows: IntArray
    cols: IntArray
    free_rows: IntArray
    free_cols: IntArray

    def pairs(self) -> list[tuple[int, int]]:
        """The matches as (row, column) pairs."""
        return [(int(r), int(c)) for r, c in zip(self.rows, self.cols, strict=True)]


def match(cost: FloatArray, max_cost: float) -> Assignment:
    """Pairs (track row, detection column) with cost <= ``max_cost`` that together save the most below it.
    Infinite (either sign) or NaN cost forbids a pair; an empty matrix (no tracks or no detections) matches nothing."""
    rows_n, cols_n = cost.shape
    allowed = (cost <= max_cost) & (cost > -np.inf)  # False for +-inf and NaN
    if not np.count_nonzero(allowed):
        none = np.zeros(0, np.int64)
        return Assignment(none, none, np.arange(rows_n), np.arange(cols_n))
    saving = np.where(allowed, (max_cost + _TIE) - cost, 0.0)
    rows, cols = linear_sum_assignment(saving, maximize=True)
    ok = allowed[rows, cols]
    rows, cols = rows[ok].astype(np.int64, copy=False), cols[ok].astype(np.int64, copy=False)
    free_rows = np.ones(rows_n, bool)
    free_rows[rows] = False
    free_cols = np.ones(cols_n, bool)
    free_cols[cols] = False
    return Assignment(rows, cols, free_rows.nonzero()[0], free_cols.nonzero()[0])


def association_cost(
    iou: FloatArray,
    confidence: NDArray[np.floating],
    same_class: BoolArray,
    fuse_score: bool,
    appearance: FloatArray | None = None,
    appearance_weight: float = 0.0,
) -> FloatArray:
    """(tracks, detections) cost ``1 - similarity + appearance_weight * appearance``; infinite across classes.

    ``similarity`` is the IoU, or with ``fuse_score`` the IoU times the detection's confidence (ByteTrack's
    ``fuse_score``: of two equally overlapping detections the confident one wins). The appearance distance is
    never negative, so gating the cost at ``1 - min_iou`` (in ``match``) also demands ``similarity >= min_iou``.

    >>> association_cost(np.array([[0.8, 0.8, 0.1, 0.9]]), np.array([1.0, 0.5, 1.0, 1.0]),
    ...                  np.array([[True, True, True, False]]), fuse_score=True).round(2).tolist()
    [[0.2, 0.6, 0.9, inf]]
    """
    similarity = iou * np.asarray(confidence, np.float64) if fuse_score else iou
    cost: FloatArray = np.where(same_class, 1.0 - similarity, np.inf)
    if appearance is not None and appearance_weight > 0:
        cost += appearance_weight * appearance
    return cost


def appearance_distance(
    track_emb: FloatArray, track_known: BoolArray, det_emb: FloatArray
) -> tuple[FloatArray, BoolArray] | None:
    """(tracks, detections) appearance distance ``1 - dot product`` of the (unit) descriptors, at least 0, and
    where both sides have one (an all-zero descriptor means none); 0 where either is missing. ``None`` when no
    pair has both. Sides are (N, D) and (M, D); D may be 0 (no descriptors at all).

    >>> d, known = appearance_distance(np.eye(2), np.array([True, False]), np.array([[0.6, 0.8], [0.0, 0.0]]))
    >>> d.round(2).tolist(), known.tolist()
    ([[0.4, 0.0], [0.0, 0.0]], [[True, False], [False, False]])
    """
    if not np.count_nonzero(track_known) or det_emb.shape[1] == 0:
        return None
    known = track_known[:, None] & np.any(det_emb != 0, axis=1)[None, :]
    if not np.count_nonzero(known):
        return None
    dist: FloatArray = np.where(known, np.maximum(1.0 - track_emb @ det_emb.T, 0.0), 0.0)
    return dist, known


def recovery_cost(
    last_xyxy: FloatArray,
    predicted_xyxy: FloatArray,
    lost_s: FloatArray,
    det_xyxy: NDArray[np.floating],
    appearance: FloatArray,
    allowed: BoolArray,
    cfg: TrackerConfig,
) -> FloatArray:
    """(lost tracks, detections) cost in [0, 1] of re-finding a lost track that no longer overlaps its detection
    (after an occlusion the prediction drifts, or the person stopped); infinite where it may not.

    A pair is allowed (``allowed``: same class, descriptors on both sides) when the detection's centre is within
    a radius of the track's last seen or predicted centre (``recover_radius_heights`` body heights, growing by
    ``recover_growth_heights_per_s`` while lost), its height within ``RECOVER_HEIGHT_RATIO`` of the last one and
    its appearance distance at most ``1 - recover_min_similarity``. The cost averages the two, each relative to
    its limit. Without a descriptor there is no evidence it is the same person: only appearance lets a track jump.

    >>> cost = recovery_cost(np.array([[0.0, 0, 20, 50]]), np.array([[60.0, 0, 80, 50]]), np.array([1.0]),
    ...                      np.array([[10.0, 0, 30, 50], [200.0, 0, 220, 50], [0.0, 0, 20, 50]]),
    ...                      np.array([[0.1, 0.0, 0.1]]), np.array([[True, True, False]]), TrackerConfig())
    >>> cost.round(2).tolist()  # near and similar; too far; no descriptor
    [[0.32, inf, inf]]
    """
    det = np.asarray(det_xyxy, np.float64)
    h = last_xyxy[:, 3] - last_xyxy[:, 1]
    radius = h * (cfg.recover_radius_heights + cfg.recover_growth_heights_per_s * lost_s)
    centre = (det[:, :2] + det[:, 2:]) / 2
    dist = np.minimum(
        np.linalg.norm((last_xyxy[:, None, :2] + last_xyxy[:, None, 2:]) / 2 - centre[None], axis=2),
        np.linalg.norm((predicted_xyxy[:, None, :2] + predicted_xyxy[:, None, 2:]) / 2 - centre[None], axis=2),
    )
    near = dist / np.maximum(radius[:, None], 1e-6)
    ratio = (det[None, :, 3] - det[None, :, 1]) / np.maximum(h[:, None], 1e-6)
    max_app = 1.0 - cfg.recover_min_similarity
    ok = allowed & (appearance <= max_app) & (near <= 1.0)
    ok &= (ratio >= RECOVER_HEIGHT_RATIO[0]) & (ratio <= RECOVER_HEIGHT_RATIO[1])
    cost: FloatArray = np.where(ok, 0.5 * near + 0.5 * appearance / max(max_app, 1e-6), np.inf)
    return cost
