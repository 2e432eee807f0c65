"""Association of tracks to detections: gated assignment, IoU/score costs across classes, appearance distance."""

from __future__ import annotations

import numpy as np
import pytest

from storewatch.core.detections import box_iou
from storewatch.track import TrackerConfig
from storewatch.track.matching import appearance_distance, association_cost, match, recovery_cost

INF = np.inf


@pytest.mark.parametrize(
    ("cost", "max_cost", "pairs"),
    [
        (np.zeros((0, 3)), 0.5, []),  # no tracks
        (np.zeros((2, 0)), 0.5, []),  # no detections
        (np.zeros((0, 0)), 0.5, []),
        (np.array([[0.1, 0.9], [0.9, 0.2]]), 0.5, [(0, 0), (1, 1)]),
        (np.array([[0.1, 0.05], [0.9, 0.2]]), 0.5, [(0, 0), (1, 1)]),  # global optimum, not greedy
        (np.array([[0.3, 0.35], [0.35, INF]]), 0.5, [(0, 1), (1, 0)]),  # two pairs save more than one
        (np.array([[0.05, 0.45], [0.45, INF]]), 0.5, [(0, 0)]),  # ByteTrack: one very good pair is kept
        (np.array([[INF, 0.3]]), 0.5, [(0, 1)]),
        (np.array([[np.nan, -INF, 0.3]]), 0.5, [(0, 2)]),  # NaN and -inf forbid, never crash
        (np.array([[0.6]]), 0.5, []),  # above the gate
        (np.array([[0.5]]), 0.5, [(0, 0)]),  # exactly at the gate still matches
        (np.full((3, 3), INF), 0.5, []),
        (np.array([[0.2], [0.1], [0.3]]), 0.5, [(1, 0)]),  # more tracks than detections
    ],
)
def test_gated_assignment(cost, max_cost, pairs):
    m = match(cost, max_cost)
    assert m.pairs() == pairs
    rows, cols = cost.shape
    assert m.free_rows.tolist() == sorted(set(range(rows)) - {r for r, _ in pairs})
    assert m.free_cols.tolist() == sorted(set(range(cols)) - {c for _, c in pairs})


def test_assignment_minimises_total_cost_on_random_problems():
    rng = np.random.default_rng(0)
    for _ in range(50):
        cost = rng.uniform(0, 1, (rng.integers(1, 6), rng.integers(1, 6)))
        m = match(cost, max_cost=2.0)  # nothing gated: a full assignment of minimum total cost
        assert len(m.rows) == min(cost.shape)
        from itertools import permutations

        n, k = cost.shape
        if n <= k:
            best = min(sum(cost[i, p[i]] for i in range(n)) for p in permutations(range(k), n))
        else:
            best = min(sum(cost[p[j], j] for j in range(k)) for p in permutations(range(n), k))
        assert cost[m.rows, m.cols].sum() == pytest.approx(best)


IOU = box_iou(np.array([[0.0, 0, 10, 10]]), np.array([[0.0, 0, 10, 10], [5.0, 0, 15, 10], [0.0, 0, 10, 10]]))


@pytest.mark.parametrize(
    ("confidence", "same_class", "fuse", "expected"),
    [
        ([0.9, 0.9, 0.9], [True, True, False], False, [0.0, 1 - 1 / 3, INF]),  # other class: forbidden
        ([0.5, 1.0, 1.0], [True, True, True], True, [0.5, 1 - 1 / 3, 0.0]),  # fused: IoU x score
        ([0.5, 1.0, 1.0], [True, True, True], False, [0.0, 1 - 1 / 3, 0.0]),
    ],
)
def test_association_cost(confidence, same_class, fuse, expected):
    cost = association_cost(IOU, np.array(confidence), np.array([same_class]), fuse)
    np.testing.assert_allclose(cost[0], expected)


def test_iou_gate_through_cost_and_match():
    """Gating the cost at 1 - min_iou is the IoU gate: IoU 1/3 passes a gate of 0.3, not one of 0.4."""
    cost = association_cost(IOU[:, 1:2], np.array([1.0]), np.array([[True]]), fuse_score=False)
    assert match(cost, 1 - 0.3).pairs() == [(0, 0)]
    assert match(cost, 1 - 0.4).pairs() == []


def test_appearance_adds_to_the_cost_and_tightens_the_gate():
    app = np.array([[0.0, 0.5, 0.0]])
    cost = association_cost(IOU, np.ones(3), np.ones((1, 3), bool), False, app, appearance_weight=1.0)
    np.testing.assert_allclose(cost[0], [0.0, 1 - 1 / 3 + 0.5, 0.0])


@pytest.mark.parametrize(
    ("track_emb", "track_known", "det_emb", "dist", "known"),
    [
        ([[1.0, 0.0]], [True], [[1.0, 0.0], [0.0, 1.0]], [[0.0, 1.0]], [[True, True]]),
        ([[1.0, 0.0]], [True], [[-1.0, 0.0]], [[2.0]], [[True]]),  # opposite
        ([[1.0, 0.0]], [True], [[2.0, 0.0]], [[0.0]], [[True]]),  # never negative
        ([[1.0, 0.0]], [True], [[0.0, 0.0]], None, None),  # all-zero descriptor = none
        ([[0.0, 0.0]], [False], [[1.0, 0.0]], None, None),
        (np.zeros((1, 0)), [False], np.zeros((2, 0)), None, None),  # no descriptors at all
    ],
)
def test_appearance_distance(track_emb, track_known, det_emb, dist, known):
    got = appearance_distance(np.array(track_emb, float), np.array(track_known), np.array(det_emb, float))
    if dist is None:
        assert got is None
    else:
        assert got is not None
        np.testing.assert_allclose(got[0], dist)
        assert got[1].tolist() == known


LAST = np.array([[100.0, 100, 140, 200]])  # 100 px tall, centre (120, 150)


@pytest.mark.parametrize(
    ("det", "lost_s", "app", "allowed", "predicted", "finite"),
    [
        ([150.0, 100, 190, 200], 0.0, 0.05, True, LAST, True),  # 50 px away, radius 100 px
        ([250.0, 100, 290, 200], 0.0, 0.05, True, LAST, False),  # 130 px away: too far ...
        ([250.0, 100, 290, 200], 1.0, 0.05, True, LAST, True),  # ... unless lost for 1 s (radius 150 px)
        ([400.0, 100, 440, 200], 0.0, 0.05, True, LAST + [280, 0, 280, 0], True),  # near the prediction
        ([150.0, 100, 190, 160], 0.0, 0.05, True, LAST, False),  # 60 px tall: not the same body height
        ([150.0, 100, 190, 200], 0.0, 0.3, True, LAST, False),  # looks different (similarity 0.7 < 0.8)
        ([150.0, 100, 190, 200], 0.0, 0.0, False, LAST, False),  # other class or no descriptor
    ],
)
def test_recovery_cost(det, lost_s, app, allowed, predicted, finite):
    cost = recovery_cost(
        LAST, predicted, np.array([lost_s]), np.array([det]), np.array([[app]]), np.array([[allowed]]),
        TrackerConfig(),
    )  # fmt: skip
    assert np.isfinite(cost[0, 0]) == finite
    if finite:
        assert 0.0 <= cost[0, 0] <= 1.0
