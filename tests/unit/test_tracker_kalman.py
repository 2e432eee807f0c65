"""Kalman filter of the tracker: the compact filter against the textbook one, velocities in px/s, dt scaling."""

from __future__ import annotations

import numpy as np
import pytest

from storewatch.track import kalman
from storewatch.track.kalman import REFERENCE_DT_S, STD_POSITION, STD_VELOCITY, Gaussian


def _textbook_q(mean: np.ndarray, dt: float) -> np.ndarray:
    h = mean[:, 3]
    sv = STD_VELOCITY / REFERENCE_DT_S
    std = np.stack([STD_POSITION * h, STD_POSITION * h, np.full_like(h, 1e-2), STD_POSITION * h,
                    sv * h, sv * h, np.full_like(h, 1e-5 / REFERENCE_DT_S), sv * h], 1)  # fmt: skip
    return np.stack([np.diag(s**2 * dt / REFERENCE_DT_S) for s in std])


def textbook_predict(mean: np.ndarray, cov: np.ndarray, dt: float) -> tuple[np.ndarray, np.ndarray]:
    """Full 8 x 8 matrices, written from the textbook: x' = F x, P' = F P F^T + Q."""
    F = np.eye(8)
    F[range(4), range(4, 8)] = dt
    return mean @ F.T, F @ cov @ F.T + _textbook_q(mean, dt)


def textbook_update(mean: np.ndarray, cov: np.ndarray, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    H = np.eye(4, 8)
    h = mean[:, 3]
    R = np.stack([np.diag(np.array([STD_POSITION * v, STD_POSITION * v, 1e-1, STD_POSITION * v]) ** 2) for v in h])
    S = H @ cov @ H.T + R
    K = cov @ H.T @ np.linalg.inv(S)
    new_mean = mean + np.einsum("nij,nj->ni", K, z - mean[:, :4])
    return new_mean, cov - K @ S @ K.transpose(0, 2, 1)


def boxes_at(t: float, vx: float, vy: float, n: int = 1) -> np.ndarray:
    base = np.array([[100.0, 100.0, 140.0, 200.0]]) + np.arange(n)[:, None] * 60.0
    return base + np.array([vx * t, vy * t, vx * t, vy * t])


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_compact_filter_equals_the_textbook_filter(seed):
    rng = np.random.default_rng(seed)
    z0 = kalman.xyxy_to_xyah(boxes_at(0, 0, 0, n=3))
    g = kalman.initiate(z0)
    mean, cov = g.mean(), g.covariance()
    for _ in range(15):
        dt = float(rng.uniform(0.02, 1.5))
        g = kalman.predict(g, dt)
        mean, cov = textbook_predict(mean, cov, dt)
        np.testing.assert_allclose(g.mean(), mean, rtol=1e-9, atol=1e-9)
        np.testing.assert_allclose(g.covariance(), cov, rtol=1e-9, atol=1e-9)
        z = z0 + rng.normal(0, [3.0, 3.0, 0.02, 3.0], (3, 4))  # heights stay well above the noise floor
        g = kalman.update(g, z)
        mean, cov = textbook_update(mean, cov, z)
        np.testing.assert_allclose(g.mean(), mean, rtol=1e-9, atol=1e-9)
        np.testing.assert_allclose(g.covariance(), cov, rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize(
    ("vx", "vy", "dts"),
    [
        (200.0, 0.0, [0.1] * 20),  # 10 fps
        (-60.0, 30.0, [0.04] * 40),  # 25 fps, slower, diagonal
        (0.0, 120.0, [0.5] * 12),  # 2 fps
        (150.0, -40.0, [0.1, 0.1, 0.3, 0.05, 0.6, 0.1, 0.2, 0.1, 1.0, 0.1, 0.1, 0.1, 0.1, 0.1]),  # uneven
    ],
)
def test_velocity_is_learned_in_pixels_per_second(vx, vy, dts):
    g = kalman.initiate(kalman.xyxy_to_xyah(boxes_at(0, vx, vy)))
    t = 0.0
    for dt in dts:
        t += dt
        g = kalman.update(kalman.predict(g, dt), kalman.xyxy_to_xyah(boxes_at(t, vx, vy)))
    assert g.vel[0, 0] == pytest.approx(vx, abs=0.05 * abs(vx) + 2.0)
    assert g.vel[0, 1] == pytest.approx(vy, abs=0.05 * abs(vy) + 2.0)
    ahead = kalman.predict(g, 0.5)
    assert ahead.pos[0, 0] - g.pos[0, 0] == pytest.approx(0.5 * g.vel[0, 0])
    expected = kalman.xyxy_to_xyah(boxes_at(t + 0.5, vx, vy))[0, :2]
    np.testing.assert_allclose(ahead.pos[0, :2], expected, atol=0.05 * max(abs(vx), abs(vy)) + 2.0)


@pytest.mark.parametrize("dt", [0.02, 0.1, 0.4, 3.0])
def test_process_noise_grows_linearly_with_dt(dt):
    """From a certain state, the variance after ``dt`` is the process noise: DeepSORT's per-frame value times
    dt / 0.1 s."""
    pos = kalman.xyxy_to_xyah(np.array([[0.0, 0.0, 40.0, 100.0]]))
    zero = np.zeros_like(pos)
    g = kalman.predict(Gaussian(pos, np.array([[10.0, -5.0, 0.0, 1.0]]), zero, zero, zero), dt)
    h = 100.0
    assert g.var_pos[0, 0] == pytest.approx((STD_POSITION * h) ** 2 * dt / REFERENCE_DT_S)
    assert g.var_vel[0, 0] == pytest.approx((STD_VELOCITY / REFERENCE_DT_S * h) ** 2 * dt / REFERENCE_DT_S)
    assert g.pos[0, 0] == pytest.approx(pos[0, 0] + 10.0 * dt)
    assert g.pos[0, 3] == pytest.approx(h + dt)


@pytest.mark.parametrize("dt", [0.0, -0.5, -1e9])
def test_no_time_or_time_going_backwards_changes_nothing(dt):
    g = kalman.initiate(kalman.xyxy_to_xyah(boxes_at(0, 0, 0, n=2)))
    g = Gaussian(g.pos, np.full_like(g.vel, 7.0), g.var_pos, g.cov_pos_vel, g.var_vel)
    same = kalman.predict(g, dt)
    for a, b in zip(same, g, strict=True):
        assert np.array_equal(a, b)


def test_uncertainty_is_larger_after_a_longer_gap_and_shrinks_with_a_measurement():
    g = kalman.initiate(kalman.xyxy_to_xyah(boxes_at(0, 0, 0)))
    short, long = kalman.predict(g, 0.1), kalman.predict(g, 1.0)
    assert long.var_pos[0, 0] > short.var_pos[0, 0]
    corrected = kalman.update(long, long.pos)
    assert corrected.var_pos[0, 0] < long.var_pos[0, 0] and corrected.var_vel[0, 0] < long.var_vel[0, 0]


def test_inputs_are_not_modified_and_empty_batches_work():
    g = kalman.initiate(kalman.xyxy_to_xyah(boxes_at(0, 0, 0, n=2)))
    before = [a.copy() for a in g]
    kalman.update(kalman.predict(g, 0.3), g.pos + 5.0)
    assert all(np.array_equal(a, b) for a, b in zip(g, before, strict=True))
    empty = kalman.initiate(np.zeros((0, 4)))
    assert kalman.predict(empty, 1.0).pos.shape == (0, 4)
    assert kalman.update(empty, np.zeros((0, 4))).var_vel.shape == (0, 4)


@pytest.mark.parametrize(
    ("xyxy", "xyah"),
    [
        ([10.0, 20.0, 30.0, 80.0], [20.0, 50.0, 20.0 / 60.0, 60.0]),
        ([0.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 1e-6]),  # a point: finite, never a division by zero
        ([5.0, 5.0, 25.0, 5.0], [15.0, 5.0, 20.0 / 1e-6, 1e-6]),  # zero height
    ],
)
def test_box_conversions(xyxy, xyah):
    got = kalman.xyxy_to_xyah(np.array([xyxy]))
    np.testing.assert_allclose(got[0], xyah, rtol=1e-9)
    assert np.isfinite(kalman.xyah_to_xyxy(got)).all()


def test_a_box_shrinking_to_nothing_stays_finite():
    g = kalman.initiate(kalman.xyxy_to_xyah(np.array([[0.0, 0.0, 10.0, 2.0]])))
    g = Gaussian(g.pos, np.array([[0.0, 0.0, 0.0, -50.0]]), g.var_pos, g.cov_pos_vel, g.var_vel)
    g = kalman.update(kalman.predict(g, 10.0), np.array([[5.0, 1.0, 5.0, 1e-6]]))
    assert all(np.isfinite(a).all() for a in g)
    box = kalman.xyah_to_xyxy(g.pos)
    assert (box[:, 2:] >= box[:, :2]).all()
