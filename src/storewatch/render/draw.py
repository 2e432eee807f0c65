"""Drawing results on frames: pure functions of (frame, data) that return a new image."""

from __future__ import annotations

import cv2
import numpy as np
from numpy.typing import NDArray

from storewatch.core.detections import Detections
from storewatch.detect.coco import COCO_CLASSES, PERSON


def track_colour(track_id: int) -> tuple[int, int, int]:
    """A stable, distinct BGR colour per track id (golden-ratio hue steps).

    >>> track_colour(1) == track_colour(1), track_colour(1) != track_colour(2)
    (True, True)
    """
    hue = int((track_id * 0.61803398875 % 1.0) * 180)
    hsv = np.array([[[hue, 200, 255]]], np.uint8)
    b, g, r = np.asarray(cv2.cvtColor(hsv, cv2.COLOR_HSV2BGR))[0, 0]
    return int(b), int(g), int(r)


def draw_tracks(image: NDArray[np.uint8], tracks: Detections, caption: str | None = None) -> NDArray[np.uint8]:
    """A copy of ``image`` with each tracked box, its id and class, and an optional caption at the top left."""
    out = image.copy()
    for (x1, y1, x2, y2), tid, cls in zip(tracks.xyxy.astype(int), tracks.track_id, tracks.class_id, strict=True):
        colour = track_colour(int(tid)) if tid >= 0 else (200, 200, 200)
        cv2.rectangle(out, (x1, y1), (x2, y2), colour, 2)
        label = f"{tid}" if cls == PERSON else f"{tid} {COCO_CLASSES[int(cls)]}"
        (tw, th), _ = cv2.getTextSize(label, cv2.FONT_HERSHEY_SIMPLEX, 0.45, 1)
        cv2.rectangle(out, (x1, max(0, y1 - th - 6)), (x1 + tw + 6, y1), colour, -1)
        cv2.putText(out, label, (x1 + 3, y1 - 4), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (20, 20, 20), 1, cv2.LINE_AA)
    if caption:
        (tw, th), _ = cv2.getTextSize(caption, cv2.FONT_HERSHEY_SIMPLEX, 0.5, 1)
        overlay = out.copy()
        cv2.rectangle(overlay, (0, 0), (tw + 16, th + 14), (0, 0, 0), -1)
        out = np.asarray(cv2.addWeighted(overlay, 0.55, out, 0.45, 0), np.uint8)
        cv2.putText(out, caption, (8, th + 6), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (255, 255, 255), 1, cv2.LINE_AA)
    return out


def draw_paths(
    image: NDArray[np.uint8], paths: dict[int, NDArray[np.float64]], caption: str | None = None
) -> NDArray[np.uint8]:
    """A copy of ``image`` with each track's path (``paths[track id]``: N x 2 points, oldest first, e.g. the
    feet) drawn as a line that darkens towards its start, a ring where it began and a dot where it was last seen.

    >>> out = draw_paths(np.zeros((60, 80, 3), np.uint8), {3: np.array([[10.0, 50], [40, 40], [70, 20]])})
    >>> out.shape, int(out.sum() > 0)
    ((60, 80, 3), 1)
    """
    out = image.copy()
    for tid, points in paths.items():
        if len(points) == 0:
            continue
        colour = track_colour(tid)
        pts = np.round(points).astype(np.int32)
        n = len(pts)
        for i in range(1, n):
            fade = 0.35 + 0.65 * i / max(1, n - 1)  # older segments dimmer: the direction reads at a glance
            cv2.line(out, tuple(pts[i - 1]), tuple(pts[i]), tuple(int(c * fade) for c in colour), 3, cv2.LINE_AA)
        cv2.circle(out, tuple(pts[0]), 7, colour, 2, cv2.LINE_AA)
        cv2.circle(out, tuple(pts[-1]), 6, colour, -1, cv2.LINE_AA)
        cv2.putText(out, str(tid), (int(pts[-1][0]) + 8, int(pts[-1][1]) - 8), cv2.FONT_HERSHEY_SIMPLEX, 0.5,
                    colour, 1, cv2.LINE_AA)  # fmt: skip
    return draw_tracks(out, Detections.empty(), caption) if caption else out


ZONE_COLOUR = (40, 170, 255)  # BGR amber: stands apart from the track colours' full saturation


def draw_zone(image: NDArray[np.uint8], polygon: NDArray[np.float32], label: str) -> NDArray[np.uint8]:
    """A copy of ``image`` with a zone (``polygon``: K x 2 corners in pixels) shaded, outlined and labelled, so a
    snapshot shows where the rule looked.

    >>> out = draw_zone(np.zeros((60, 80, 3), np.uint8), np.array([[10, 10], [70, 10], [70, 50], [10, 50]]), "z")
    >>> int(out[30, 40].sum() > 0), int(out[5, 5].sum())
    (1, 0)
    """
    pts = np.round(np.asarray(polygon, np.float32).reshape(-1, 2)).astype(np.int32)
    shade = image.copy()
    cv2.fillPoly(shade, [pts], ZONE_COLOUR)
    out = np.asarray(cv2.addWeighted(shade, 0.18, image, 0.82, 0), np.uint8)
    cv2.polylines(out, [pts], True, ZONE_COLOUR, 2, cv2.LINE_AA)
    x, y = int(pts[:, 0].min()), int(pts[:, 1].min())
    (tw, th), _ = cv2.getTextSize(label, cv2.FONT_HERSHEY_SIMPLEX, 0.45, 1)
    y = max(y, th + 6)
    cv2.rectangle(out, (x, y - th - 6), (x + tw + 6, y), ZONE_COLOUR, -1)
    cv2.putText(out, label, (x + 3, y - 4), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (20, 20, 20), 1, cv2.LINE_AA)
    return out
