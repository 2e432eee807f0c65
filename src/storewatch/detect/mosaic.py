"""Many detector windows in one network run: the windows' crops packed side by side on one canvas.

Each network run has a fixed cost (a millisecond or two on a small CPU: the graph's launch, per-layer set-up,
allocations for a new input size) on top of the cost per pixel, and each window is padded to a multiple of 32.
With a handful of windows per frame (the motion gate's, one per moving person) that overhead is as large as the
work. Packing the crops (scaled as the full frame would be, so people look the same size to the network) into one
canvas, with gaps of padding between them, pays it once. The frame is scaled once, as for a full-frame pass (the
same interpolation, so a person looks the same to the network in a window as in the whole frame), and the crops
are cut from it. Detections are assigned to the crop their centre falls in,
clipped to it and mapped back to frame pixels; a detection centred in a gap is dropped.

Packing is bottom-left "skyline" packing (each crop where its bottom edge is highest, then leftmost), tried for a
few canvas widths and crop orders; the smallest canvas is kept (a handful of crops: microseconds).

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
GAP = 8
"""Padding between crops on the canvas, canvas pixels (16 looked at 7 % more pixels for the same recall)."""
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


def _skyline(sizes: NDArray[np.int64], order: NDArray[np.int64], width: int, gap: int) -> tuple[NDArray[np.int64], int]:
    """Bottom-left skyline packing: each crop (in ``order``) goes where its bottom edge is highest (lowest
    ``y + h``), then leftmost. Each crop reserves ``gap`` pixels right of and below it."""
    tiles = np.zeros((len(sizes), 4), np.int64)
    sky: list[tuple[int, int, int]] = [(0, width + gap, 0)]  # segments (x, width, y of the top of what is below)
    for k in order:
        w, h = int(sizes[k, 0]) + gap, int(sizes[k, 1]) + gap
        best: tuple[int, int, int] | None = None  # (top, x, index)
        for i, (x, _, _) in enumerate(sky):
            if x + w > width + gap:
                break
            y, covered, j = 0, 0, i
            while covered < w:
                y = max(y, sky[j][2])
                covered += sky[j][1] - (x - sky[j][0] if j == i else 0)
                j += 1
            if best is None or (y + h, x) < (best[0], best[1]):
                best = (y + h, x, i)
        assert best is not None  # the canvas is at least as wide as the widest crop
        top, x, _ = best
        tiles[k] = (x, top - h, w - gap, h - gap)
        sky = _raise(sky, x, w, top)
    return tiles, max(int(t[1] + t[3]) for t in tiles)


def _raise(sky: list[tuple[int, int, int]], x: int, w: int, top: int) -> list[tuple[int, int, int]]:
    """The skyline with [x, x + w) raised to ``top`` (neighbouring segments at one height merged)."""
    out: list[tuple[int, int, int]] = []
    for sx, sw, sy in sky:
        end = sx + sw
        if end <= x or sx >= x + w:
            out.append((sx, sw, sy))
            continue
        if sx < x:
            out.append((sx, x - sx, sy))
        if end > x + w:
            out.append((x + w, end - x - w, sy))
    out.append((x, w, top))
    out.sort()
    merged: list[tuple[int, int, int]] = []
    for seg in out:
        if merged and merged[-1][2] == seg[2] and merged[-1][0] + merged[-1][1] == seg[0]:
            merged[-1] = (merged[-1][0], merged[-1][1] + seg[1], seg[2])
        else:
            merged.append(seg)
    return merged


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
    orders = [np.argsort(-key, kind="stable") for key in (sizes[:, 1], sizes[:, 0], sizes[:, 0] * sizes[:, 1])]
    best: tuple[int, int, NDArray[np.int64]] | None = None
    for width in sorted({*WIDTHS, _round_up(int(sizes[:, 0].max()))}):
        if width < sizes[:, 0].max():
            continue
        for order in orders:
            tiles, used_h = _skyline(sizes, order, width, gap)
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
