from __future__ import annotations

import numpy as np
import pytest
from pydantic import ValidationError

from storewatch.track import kalman
from storewatch.track.config import TrackerConfig
from storewatch.track.matching import match


def test_kalman_learns_velocity_in_seconds():
    box = np.array([[100.0, 100.0, 140.0, 200.0]])
    mean, cov = kalman.initiate(kalman.xyxy_to_xyah(box))
    for step in range(1, 20):  # 20 px per 0.1 s = 200 px/s to the right
        mean, cov = kalman.predict(mean, cov, 0.1)
        mean, cov = kalman.update(mean, cov, kalman.xyxy_to_xyah(box + [20.0 * step, 0, 20.0 * step, 0]))
    assert mean[0, 4] == pytest.approx(200.0, rel=0.05)
    ahead, _ = kalman.predict(mean, cov, 0.5)  # half a second later: 100 px further
    assert ahead[0, 0] - mean[0, 0] == pytest.approx(100.0, rel=0.05)


def test_kalman_uncertainty_grows_with_elapsed_time():
    mean, cov = kalman.initiate(kalman.xyxy_to_xyah(np.array([[0.0, 0, 10, 40]])))
    _, short = kalman.predict(mean, cov, 0.1)
    _, long = kalman.predict(mean, cov, 1.0)
    assert long[0, 0, 0] > short[0, 0, 0]
    same_mean, same_cov = kalman.predict(mean, cov, -1.0)  # time going backwards: no change
    assert np.array_equal(same_mean, mean) and np.array_equal(same_cov, cov)


@pytest.mark.parametrize(
    ("cost", "max_cost", "pairs"),
    [
        (np.zeros((0, 3)), 0.5, []),
        (np.zeros((2, 0)), 0.5, []),
        (np.array([[0.1, 0.9], [0.9, 0.2]]), 0.5, [[0, 0], [1, 1]]),
        (np.array([[0.1, 0.05], [0.9, 0.2]]), 0.5, [[0, 0], [1, 1]]),  # global optimum, not greedy
        (np.array([[np.inf, 0.3]]), 0.5, [[0, 1]]),
        (np.array([[0.6]]), 0.5, []),
    ],
)
def test_match_table(cost, max_cost, pairs):
    got, un_rows, un_cols = match(cost, max_cost)
    assert got.tolist() == pairs
    assert len(un_rows) == cost.shape[0] - len(pairs) and len(un_cols) == cost.shape[1] - len(pairs)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"low_score": 0.6, "high_score": 0.5}, "low_score"),
        ({"lost_ttl_s": 0}, "greater than 0"),
        ({"unknown": 1}, "Extra inputs"),
        ({"min_hits": 0}, "greater than or equal to 1"),
    ],
)
def test_tracker_config_errors(kwargs, message):
    with pytest.raises(ValidationError, match=message):
        TrackerConfig(**kwargs)
