"""Thumbnails for the hub: a small JPEG of an event's snapshot, made at the edge and sent with the event.

The snapshot the evidence writer wrote is already what a person may see (privacy zones black, faces blurred), so
the thumbnail is that picture scaled down to ``WIDTH`` pixels wide (never up) and encoded at falling qualities until
it fits ``payloads.MAX_THUMBNAIL_BYTES``; a picture that does not fit even at the lowest quality is not sent (the
hub then says the snapshot is kept at the store). Nothing here ever fails the event: an unreadable file is None.

>>> import tempfile, cv2, numpy as np
>>> from pathlib import Path
>>> path = Path(tempfile.mkdtemp()) / "e1.jpg"
>>> _ = cv2.imwrite(str(path), np.full((480, 640, 3), 120, np.uint8))
>>> t = thumbnail("e1", path)
>>> (t.width, t.height, len(t.data()) < MAX_THUMBNAIL_BYTES)
(320, 240, True)
>>> thumbnail("e2", path.with_name("missing.jpg")) is None
True
"""

from __future__ import annotations

import base64
import logging
from pathlib import Path

import cv2
import numpy as np

from storewatch.sync.payloads import MAX_THUMBNAIL_BYTES, ThumbnailPayload

log = logging.getLogger(__name__)

WIDTH = 320
QUALITIES = (75, 60, 45, 30)


def thumbnail(event_id: str, snapshot: Path, width: int = WIDTH) -> ThumbnailPayload | None:
    """The thumbnail of ``snapshot`` for event ``event_id``; None when the file cannot be read or will not fit."""
    try:
        data = np.fromfile(snapshot, dtype=np.uint8)
    except OSError:
        return None
    image = cv2.imdecode(data, cv2.IMREAD_COLOR) if data.size else None
    if image is None:
        return None
    h, w = image.shape[:2]
    if w > width:
        image = cv2.resize(image, (width, max(1, round(h * width / w))), interpolation=cv2.INTER_AREA)
    for quality in QUALITIES:
        ok, encoded = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
        if ok and encoded.size <= MAX_THUMBNAIL_BYTES:
            return ThumbnailPayload(event_id=event_id, width=image.shape[1], height=image.shape[0],
                                    jpeg=base64.b64encode(encoded.tobytes()).decode())  # fmt: skip
    log.warning("sync: thumbnail of event %s over %d bytes even at quality %d: not sent", event_id,
                MAX_THUMBNAIL_BYTES, QUALITIES[-1])  # fmt: skip
    return None
