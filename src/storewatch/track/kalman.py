"""Constant-velocity Kalman filter on boxes, batched over tracks, with time steps in seconds.

State per track: the box ``pos = [cx, cy, a, h]`` (centre, aspect ratio w/h, height) and its rates per second
``vel``. Noise scales with the box height, as in SORT/DeepSORT/ByteTrack, but the filter is *time-aware*: predict
takes ``dt`` in seconds, so skipped or late frames move tracks by the right amount and widen their uncertainty in
proportion. The noise constants are DeepSORT's per-frame values, defined at ``REFERENCE_DT_S`` (10 fps); the
process noise variance grows linearly with ``dt`` (a random walk: two steps of 0.1 s add as much noise as one
of 0.2 s).

Compact covariance: the motion model, the noise and the measurement never couple two different coordinates (x
with y, say), only a coordinate with its own rate, so the usual 8 x 8 covariance is four independent 2 x 2 blocks.
``Gaussian`` keeps them as three (N, 4) arrays: the variances of the coordinates, their covariances with their
rates, and the variances of the rates. Every step is then a few element-wise numpy operations on contiguous
(N, 4) arrays, for all tracks at once (no per-track loops, no 8 x 8 algebra); ``Gaussian.covariance`` rebuilds the
matrices, and the unit tests check the result against the textbook filter. Inputs are never modified.

>>> g = initiate(xyxy_to_xyah(np.array([[0.0, 0.0, 20.0, 40.0]])))
>>> g = update(predict(g, 0.1), xyxy_to_xyah(np.array([[2.0, 0.0, 22.0, 40.0]])))
>>> bool(g.vel[0, 0] > 0)  # it has started to learn a rightward velocity (px/s)
True
>>> g.mean().shape, g.covariance().shape
((1, 8), (1, 8, 8))
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numpy.typing import NDArray

Array = NDArray[np.float64]

REFERENCE_DT_S = 0.1
"""The frame interval the per-step noise constants below are defined at."""
STD_POSITION = 1.0 / 20
"""Position noise per reference step, as a fraction of the box height."""
STD_VELOCITY = 1.0 / 160
"""Velocity noise per reference step, as a fraction of the box height."""
MIN_NOISE_HEIGHT_PX = 1.0
"""Noise is scaled by the height, but never by less than this (a box that shrank to nothing stays invertible)."""

# Standard deviations are ``height * _*_PER_H + _*_FIXED`` for (cx, cy, a, h) or their rates.
_V = STD_VELOCITY / REFERENCE_DT_S
_POS_PER_H = np.array([STD_POSITION, STD_POSITION, 0.0, STD_POSITION])
_POS_FIXED = np.array([0.0, 0.0, 1e-2, 0.0])
_VEL_PER_H = np.array([_V, _V, 0.0, _V])
_VEL_FIXED = np.array([0.0, 0.0, 1e-5 / REFERENCE_DT_S, 0.0])
_MEASURE_FIXED = np.array([0.0, 0.0, 1e-1, 0.0])
"""Measurement noise: as the position's process noise, but the aspect ratio is less certain."""


class Gaussian(NamedTuple):
    """The filter's belief about N tracks; every field is (N, 4), one column per coordinate (cx, cy, a, h)."""

    pos: Array
    """Mean of the box: centre x, centre y, aspect ratio w/h, height."""
    vel: Array
    """Mean of the rates, per second."""
    var_pos: Array
    cov_pos_vel: Array
    var_vel: Array

    def take(self, index: slice | NDArray[np.integer] | NDArray[np.bool_]) -> Gaussian:
        """The tracks selected by ``index``."""
        return Gaussian(*(a[index] for a in self))

    def mean(self) -> Array:
        """(N, 8) mean in the usual layout ``[cx, cy, a, h, vcx, vcy, va, vh]``."""
        return np.concatenate([self.pos, self.vel], axis=1)

    def covariance(self) -> Array:
        """(N, 8, 8) covariance matrices in the usual layout."""
        full = np.zeros((self.pos.shape[0], 8, 8))
        i = np.arange(4)
        full[:, i, i] = self.var_pos
        full[:, i, i + 4] = self.cov_pos_vel
        full[:, i + 4, i] = self.cov_pos_vel
        full[:, i + 4, i + 4] = self.var_vel
        return full


def xyxy_to_xyah(xyxy: NDArray[np.floating]) -> Array:
    """(N, 4) corner boxes -> (N, 4) centre x, centre y, aspect (w/h), height."""
    b = np.asarray(xyxy, np.float64).reshape(-1, 4)
    out = np.empty_like(b)
    out[:, :2] = (b[:, :2] + b[:, 2:]) / 2
    out[:, 3] = np.maximum(b[:, 3] - b[:, 1], 1e-6)
    out[:, 2] = (b[:, 2] - b[:, 0]) / out[:, 3]
    return out


def xyah_to_xyxy(xyah: Array) -> Array:
    """Inverse of ``xyxy_to_xyah``; never a negative width or height.

    >>> xyah_to_xyxy(xyxy_to_xyah(np.array([[10.0, 20.0, 30.0, 80.0]]))).tolist()
    [[10.0, 20.0, 30.0, 80.0]]
    """
    half = np.empty((xyah.shape[0], 2))
    half[:, 1] = np.maximum(xyah[:, 3], 0.0) / 2
    half[:, 0] = np.maximum(xyah[:, 2], 0.0) * half[:, 1]
    out = np.empty((xyah.shape[0], 4))
    out[:, :2] = xyah[:, :2] - half
    out[:, 2:] = xyah[:, :2] + half
    return out


def _noise_height(pos: Array) -> Array:
    h: Array = np.maximum(np.abs(pos[:, 3:4]), MIN_NOISE_HEIGHT_PX)
    return h


def process_var(pos: Array, dt_s: float) -> tuple[Array, Array]:
    """(N, 4) process noise variances of the coordinates and of the rates over ``dt_s`` seconds."""
    h = _noise_height(pos)
    k = dt_s / REFERENCE_DT_S
    return (h * _POS_PER_H + _POS_FIXED) ** 2 * k, (h * _VEL_PER_H + _VEL_FIXED) ** 2 * k


def initiate(measurement: Array) -> Gaussian:
    """Beliefs about new tracks from (N, 4) xyah measurements: velocities start at zero, with a wide uncertainty
    (DeepSORT's start: twice the process noise of a reference step on position, ten times on velocity)."""
    pos = np.array(measurement, np.float64)
    var_pos, var_vel = process_var(pos, REFERENCE_DT_S)
    var_pos[:, [0, 1, 3]] *= 4.0
    var_vel[:, [0, 1, 3]] *= 100.0
    return Gaussian(pos, np.zeros_like(pos), var_pos, np.zeros_like(pos), var_vel)


def predict(g: Gaussian, dt_s: float) -> Gaussian:
    """Move every track ``dt_s`` seconds ahead at its velocity; uncertainty grows with the elapsed time.

    ``dt_s <= 0`` (a repeated or out-of-order timestamp) leaves the belief as it is.
    """
    dt = max(float(dt_s), 0.0)
    if g.pos.shape[0] == 0 or dt == 0.0:
        return g
    q_pos, q_vel = process_var(g.pos, dt)
    cov_pos_vel = g.cov_pos_vel + dt * g.var_vel
    return Gaussian(
        g.pos + dt * g.vel,
        g.vel,
        g.var_pos + dt * (g.cov_pos_vel + cov_pos_vel) + q_pos,  # F P F^T + Q, block by block
        cov_pos_vel,
        g.var_vel + q_vel,
    )


def update(g: Gaussian, measurement: Array) -> Gaussian:
    """Correct (N) tracks with their (N, 4) xyah measurements (row i measures track i)."""
    if g.pos.shape[0] == 0:
        return g
    h = _noise_height(g.pos)
    innovation_var = g.var_pos + (h * _POS_PER_H + _MEASURE_FIXED) ** 2
    gain_pos = g.var_pos / innovation_var
    gain_vel = g.cov_pos_vel / innovation_var
    innovation = measurement - g.pos
    return Gaussian(  # P - K S K^T, block by block (K S = [var_pos, cov_pos_vel])
        g.pos + gain_pos * innovation,
        g.vel + gain_vel * innovation,
        g.var_pos - gain_pos * g.var_pos,
        g.cov_pos_vel - gain_pos * g.cov_pos_vel,
        g.var_vel - gain_vel * g.cov_pos_vel,
    )
