"""Many detector windows in one network run: the windows' crops packed side by side on one canvas.

Each network run has a fixed cost (a millisecond or two on a small CPU: the graph's launch, per-layer set-up,
allocations for a new input size) on top of the cost per pixel, and each window is padded to a multiple of 32.
With a handful of windows per frame (the motion gate's, one per moving person) that overhead is as large as the
work. Packing the crops (scaled as the full frame would be, so people look the same size to the network) into one
canvas, with gaps of padding between them, pays it once. Detections are assigned to the crop their centre falls in,
clipped to it and mapped back to frame pixels; a detection centred in a gap is dropped.

Packing is "shelf" packing (crops sorted by height, placed left to right in rows): simple, and within a few per
cent of optimal for a few rectangles of similar height. Several canvas widths are tried and the smallest canvas
kept.

>>> plan = pack([(0, 0, 100, 200), (0, 0, 50, 50)], scale=1.0, gap=16)
>>> plan.width, plan.height, plan.tiles.tolist()
(128, 288, [[0, 0, 100, 200], [0, 216, 50, 50]])
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

STRIDE = 32
GAP = 16
"""Padding between crops on the canvas, canvas pixels."""
WIDTHS = (256, 320, 416, 512, 640, 832)
"""Canvas widths tried (multiples of the network's stride)."""


@dataclass(frozen=True, slots=True)
class MosaicPlan:
    width: int
    height: int
    tiles: NDArray[np.int64]
    """(K, 4) x, y, w, h of each crop on the canvas (row i is window i)."""
    windows: NDArray[np.int64]
    """(K, 4) x1, y1, x2, y2 of each window in the frame (integer pixels, inside the frame)."""


def _shelves(sizes: NDArray[np.int64], order: NDArray[np.int64], width: int, gap: int) -> tuple[NDArray[np.int64], int]:
    tiles = np.zeros((len(sizes), 4), np.int64)
    x = y = shelf_h = 0
    for k in order:
        w, h = int(sizes[k, 0]), int(sizes[k, 1])
        if x > 0 and x + w > width:
            x, y, shelf_h = 0, y + shelf_h + gap, 0
        tiles[k] = (x, y, w, h)
        x += w + gap
        shelf_h = max(shelf_h, h)
    return tiles, y + shelf_h


def _round_up(v: int) -> int:
    return max(STRIDE, math.ceil(v / STRIDE) * STRIDE)


def pack(windows: Sequence[Sequence[float]] | NDArray[np.floating], scale: float, gap: int = GAP) -> MosaicPlan:
    """Lay out ``windows`` (frame pixels, x1 y1 x2 y2, already inside the frame) scaled by ``scale`` on the
    smallest canvas found."""
    win = np.asarray(windows, np.float64).reshape(-1, 4)
    frame_win = np.stack([np.floor(win[:, 0]), np.floor(win[:, 1]), np.ceil(win[:, 2]), np.ceil(win[:, 3])], 1)
    frame_win = frame_win.astype(np.int64)
    sizes = np.maximum(np.rint((frame_win[:, 2:] - frame_win[:, :2]) * scale).astype(np.int64), 1)
    order = np.argsort(-sizes[:, 1], kind="stable")
    best: tuple[int, int, NDArray[np.int64]] | None = None
    for width in sorted({*WIDTHS, _round_up(int(sizes[:, 0].max()))}):
        if width < sizes[:, 0].max():
            continue
        tiles, used_h = _shelves(sizes, order, width, gap)
        used_w = int((tiles[:, 0] + tiles[:, 2]).max())
        cw, ch = _round_up(used_w), _round_up(used_h)
        if best is None or cw * ch < best[0] * best[1]:
            best = (cw, ch, tiles)
    assert best is not None
    return MosaicPlan(best[0], best[1], best[2], frame_win)


def compose(image: NDArray[np.uint8], plan: MosaicPlan, pad_bgr: tuple[int, int, int]) -> NDArray[np.uint8]:
    """The canvas: each window's crop resized into its tile, padding everywhere else."""
    canvas = np.empty((plan.height, plan.width, 3), np.uint8)
    canvas[:] = pad_bgr
    for (x1, y1, x2, y2), (tx, ty, tw, th) in zip(plan.windows.tolist(), plan.tiles.tolist(), strict=True):
        crop = image[y1:y2, x1:x2]
        if crop.shape[0] == th and crop.shape[1] == tw:
            canvas[ty : ty + th, tx : tx + tw] = crop
        else:
            canvas[ty : ty + th, tx : tx + tw] = cv2.resize(crop, (tw, th), interpolation=cv2.INTER_AREA)
    return canvas


def to_frame(xyxy: NDArray[np.floating], plan: MosaicPlan) -> tuple[NDArray[np.float32], NDArray[np.int64]]:
    """Canvas boxes -> frame boxes, and the rows kept (those centred in a tile), each clipped to its tile."""
    boxes = np.asarray(xyxy, np.float64).reshape(-1, 4)
    if len(boxes) == 0:
        return np.zeros((0, 4), np.float32), np.zeros(0, np.int64)
    cx, cy = (boxes[:, 0] + boxes[:, 2]) / 2, (boxes[:, 1] + boxes[:, 3]) / 2
    t = plan.tiles.astype(np.float64)
    inside = (
        (cx[:, None] >= t[None, :, 0]) & (cx[:, None] < t[None, :, 0] + t[None, :, 2])
        & (cy[:, None] >= t[None, :, 1]) & (cy[:, None] < t[None, :, 1] + t[None, :, 3])
    )  # fmt: skip
    rows = np.flatnonzero(inside.any(axis=1))
    tile = inside[rows].argmax(axis=1)
    tx, ty, tw, th = (t[tile, i] for i in range(4))
    w = plan.windows[tile].astype(np.float64)
    sx, sy = (w[:, 2] - w[:, 0]) / tw, (w[:, 3] - w[:, 1]) / th
    b = boxes[rows]
    x1 = (b[:, 0].clip(tx, tx + tw) - tx) * sx + w[:, 0]
    x2 = (b[:, 2].clip(tx, tx + tw) - tx) * sx + w[:, 0]
    y1 = (b[:, 1].clip(ty, ty + th) - ty) * sy + w[:, 1]
    y2 = (b[:, 3].clip(ty, ty + th) - ty) * sy + w[:, 1]
    return np.stack([x1, y1, x2, y2], 1).astype(np.float32), rows.astype(np.int64)
