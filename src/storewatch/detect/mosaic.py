"""Many detector windows in one network run: the windows' crops packed side by side on one canvas.

Each network run has a fixed cost (a millisecond or two on a small CPU: the graph's launch, per-layer set-up,
allocations for a new input size) on top of the cost per pixel, and each window is padded to a multiple of 32.
With a handful of windows per frame (the motion gate's, one per moving person) that overhead is as large as the
work. Packing the crops (scaled as the full frame would be, so people look the same size to the network) into one
canvas, with gaps of padding between them, pays it once. The frame is scaled once, as for a full-frame pass (the
same interpolation, so a person looks the same to the network in a window as in the whole frame), and the crops
are cut from it. Detections are assigned to the crop their centre falls in,
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
    """(K, 4) x1, y1, x2, y2 of each window in the *scaled* frame (integer pixels, inside it)."""
    scale: float
    """Scaled-frame pixels per frame pixel."""


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


def pack(
    windows: Sequence[Sequence[float]] | NDArray[np.floating],
    scale: float,
    gap: int = GAP,
    scaled_size: tuple[int, int] | None = None,
) -> MosaicPlan:
    """Lay out ``windows`` (frame pixels, x1 y1 x2 y2) of the frame scaled by ``scale`` (to ``scaled_size``,
    width and height, when given: the windows are clipped to it) on the smallest canvas found."""
    win = np.asarray(windows, np.float64).reshape(-1, 4) * scale
    scaled = np.stack([np.floor(win[:, 0]), np.floor(win[:, 1]), np.ceil(win[:, 2]), np.ceil(win[:, 3])], 1)
    scaled = scaled.astype(np.int64).clip(0)
    if scaled_size is not None:
        scaled[:, [0, 2]] = scaled[:, [0, 2]].clip(0, scaled_size[0])
        scaled[:, [1, 3]] = scaled[:, [1, 3]].clip(0, scaled_size[1])
    sizes = np.maximum(scaled[:, 2:] - scaled[:, :2], 1)
    scaled[:, 2:] = scaled[:, :2] + sizes
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
    return MosaicPlan(best[0], best[1], best[2], scaled, scale)


def compose(scaled_image: NDArray[np.uint8], plan: MosaicPlan, pad_bgr: tuple[int, int, int]) -> NDArray[np.uint8]:
    """The canvas: each window cut from the frame already scaled by ``plan.scale`` (the same pixels a full-frame
    pass sees), padding everywhere else."""
    canvas = np.empty((plan.height, plan.width, 3), np.uint8)
    canvas[:] = pad_bgr
    for (x1, y1, x2, y2), (tx, ty, _, _) in zip(plan.windows.tolist(), plan.tiles.tolist(), strict=True):
        crop = scaled_image[y1:y2, x1:x2]
        canvas[ty : ty + crop.shape[0], tx : tx + crop.shape[1]] = crop
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
    b = boxes[rows]
    x1 = (b[:, 0].clip(tx, tx + tw) - tx + w[:, 0]) / plan.scale
    x2 = (b[:, 2].clip(tx, tx + tw) - tx + w[:, 0]) / plan.scale
    y1 = (b[:, 1].clip(ty, ty + th) - ty + w[:, 1]) / plan.scale
    y2 = (b[:, 3].clip(ty, ty + th) - ty + w[:, 1]) / plan.scale
    return np.stack([x1, y1, x2, y2], 1).astype(np.float32), rows.astype(np.int64)
