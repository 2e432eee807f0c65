"""Constant-velocity Kalman filter on boxes, batched over tracks, with time steps in seconds.

State per track: ``[cx, cy, a, h, vcx, vcy, va, vh]`` (centre, aspect ratio w/h, height, and their rates per
second). Noise scales with the box height, as in SORT/DeepSORT/ByteTrack, but the filter is *time-aware*: predict
takes ``dt`` in seconds, so skipped or late frames move tracks by the right amount and widen their uncertainty in
proportion. The noise constants are DeepSORT's per-frame values, defined at ``REFERENCE_DT_S`` (10 fps).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

Array = NDArray[np.float64]

REFERENCE_DT_S = 0.1
STD_POSITION = 1.0 / 20
STD_VELOCITY = 1.0 / 160
_NDIM = 4
_H = np.eye(_NDIM, 2 * _NDIM)


def xyxy_to_xyah(xyxy: NDArray[np.floating]) -> Array:
    """(N, 4) corner boxes -> (N, 4) centre x, centre y, aspect (w/h), height."""
    b = np.asarray(xyxy, np.float64)
    w = b[:, 2] - b[:, 0]
    h = np.maximum(b[:, 3] - b[:, 1], 1e-6)
    return np.stack([(b[:, 0] + b[:, 2]) / 2, (b[:, 1] + b[:, 3]) / 2, w / h, h], 1)


def xyah_to_xyxy(xyah: Array) -> Array:
    """Inverse of ``xyxy_to_xyah`` (first four state columns are enough).

    >>> xyah_to_xyxy(xyxy_to_xyah(np.array([[10.0, 20.0, 30.0, 80.0]]))).tolist()
    [[10.0, 20.0, 30.0, 80.0]]
    """
    h = np.maximum(xyah[:, 3], 0.0)
    w = np.maximum(xyah[:, 2], 0.0) * h
    return np.stack([xyah[:, 0] - w / 2, xyah[:, 1] - h / 2, xyah[:, 0] + w / 2, xyah[:, 1] + h / 2], 1)


def initiate(measurement: Array) -> tuple[Array, Array]:
    """Mean and covariance of new tracks from (N, 4) xyah measurements; velocities start at zero."""
    n = measurement.shape[0]
    mean = np.concatenate([measurement, np.zeros((n, _NDIM))], 1)
    h = measurement[:, 3]
    vel = STD_VELOCITY / REFERENCE_DT_S
    std = np.stack(
        [2 * STD_POSITION * h, 2 * STD_POSITION * h, np.full(n, 1e-2), 2 * STD_POSITION * h,
         10 * vel * h, 10 * vel * h, np.full(n, 1e-5 / REFERENCE_DT_S), 10 * vel * h], 1,
    )  # fmt: skip
    cov = np.zeros((n, 2 * _NDIM, 2 * _NDIM))
    idx = np.arange(2 * _NDIM)
    cov[:, idx, idx] = std**2
    return mean, cov


def predict(mean: Array, cov: Array, dt_s: float) -> tuple[Array, Array]:
    """Move every track ``dt_s`` seconds ahead; uncertainty grows linearly with the elapsed time."""
    dt = max(float(dt_s), 0.0)
    if mean.shape[0] == 0 or dt == 0.0:
        return mean.copy(), cov.copy()
    F = np.eye(2 * _NDIM)
    F[np.arange(_NDIM), np.arange(_NDIM) + _NDIM] = dt
    h = mean[:, 3]
    vel = STD_VELOCITY / REFERENCE_DT_S
    std = np.stack(
        [STD_POSITION * h, STD_POSITION * h, np.full_like(h, 1e-2), STD_POSITION * h,
         vel * h, vel * h, np.full_like(h, 1e-5 / REFERENCE_DT_S), vel * h], 1,
    )  # fmt: skip
    q = std**2 * (dt / REFERENCE_DT_S)
    new_mean = mean @ F.T
    new_cov = F @ cov @ F.T
    idx = np.arange(2 * _NDIM)
    new_cov[:, idx, idx] += q
    return new_mean, new_cov


def update(mean: Array, cov: Array, measurement: Array) -> tuple[Array, Array]:
    """Correct (N) tracks with their (N, 4) xyah measurements."""
    if mean.shape[0] == 0:
        return mean.copy(), cov.copy()
    h = mean[:, 3]
    std = np.stack([STD_POSITION * h, STD_POSITION * h, np.full_like(h, 1e-1), STD_POSITION * h], 1)
    projected_cov = _H @ cov @ _H.T
    idx = np.arange(_NDIM)
    projected_cov[:, idx, idx] += std**2
    gain = np.linalg.solve(projected_cov, (cov @ _H.T).transpose(0, 2, 1)).transpose(0, 2, 1)
    innovation = measurement - mean[:, :_NDIM]
    new_mean = mean + np.einsum("nij,nj->ni", gain, innovation)
    new_cov = cov - gain @ projected_cov @ gain.transpose(0, 2, 1)
    return new_mean, new_cov
