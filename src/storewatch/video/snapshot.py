"""Event snapshots: one frame as a JPEG file, optionally with the boxes that explain the event drawn on it.

OpenCV encodes (it is already here for drawing); the file is written atomically (a temporary file in the same
directory, renamed), so a reader never sees half a JPEG.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import cv2
import numpy as np
from numpy.typing import NDArray

from storewatch.core.detections import Detections
from storewatch.errors import VideoError
from storewatch.render.draw import draw_tracks, draw_zone


def save_snapshot(
    image_bgr: NDArray[np.uint8],
    path: Path,
    *,
    quality: int = 85,
    boxes: Detections | None = None,
    zone: tuple[str, NDArray[np.float32]] | None = None,
) -> int:
    """Write ``image_bgr`` (H x W x 3, uint8) as a JPEG of ``quality`` (1-100) to ``path``; with ``boxes`` and a
    ``zone`` (label, K x 2 corners in pixels), a copy with them drawn (the input is not changed). Returns the
    bytes written.

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     save_snapshot(np.zeros((48, 64, 3), np.uint8), Path(d) / "a.jpg") > 0
    True
    """
    if not 1 <= quality <= 100:
        raise ValueError(f"quality must be 1-100, got {quality}")
    if image_bgr.ndim != 3 or image_bgr.shape[2] != 3 or image_bgr.dtype != np.uint8 or image_bgr.size == 0:
        raise ValueError(f"expected an H x W x 3 uint8 image, got shape {image_bgr.shape} {image_bgr.dtype}")
    if zone is not None:
        image_bgr = draw_zone(image_bgr, zone[1], zone[0])
    if boxes is not None and len(boxes):
        image_bgr = draw_tracks(image_bgr, boxes)
    ok, encoded = cv2.imencode(".jpg", image_bgr, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise VideoError(f"{path}: the image could not be encoded as JPEG")
    data = encoded.tobytes()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.partial")  # unique: writers may race
    try:
        with tmp.open("xb") as f:  # created with the process umask, like any file
            f.write(data)
            f.flush()
            os.fsync(f.fileno())  # the rename must not reach the disk before the data
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return len(data)
