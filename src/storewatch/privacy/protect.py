"""``protect``: a frame as a person may see it, for live view, snapshots, clips and evidence packs.

Masks first (black, so nothing behind them is searched or shown), then faces in the head area of each person
(and, as configured, over the whole frame at a small size), then every face and the head area of every person
without a trustworthy face blurred, and the masks once more (a blurred area reaching into a mask stays black).
Without a face detector (``faces=None``) every person's head area is blurred: privacy never depends on the
model being there, only the tightness of the blur does.

Cost on the 2-core reference machine (``storewatch bench privacy``): see ``benchmarks/privacy-pets09.json``.

>>> img = np.full((100, 80, 3), 200, np.uint8)
>>> img[::2, ::2] = 0  # fine detail everywhere
>>> person = Detections(np.array([[20, 10, 60, 95]]), class_id=[0])
>>> out = protect(img, person, [PrivacyMask("top", ((0, 0), (1, 0), (1, 0.05), (0, 0.05)))])
>>> detail = lambda a: int(np.abs(np.diff(a[10:36, 20:60].astype(int), axis=1)).max())  # the head's checks
>>> int(out[:5].max()), detail(img), detail(out), bool((out[60:] == img[60:]).all())
(0, 200, 0, True)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from storewatch.core.detections import Detections
from storewatch.detect.coco import PERSON
from storewatch.privacy.blur import blur_faces
from storewatch.privacy.config import PrivacyConfig
from storewatch.privacy.masks import PrivacyMask, apply_masks

if TYPE_CHECKING:
    from storewatch.privacy.faces import CenterFaceDetector


def protect(
    image: NDArray[np.uint8],
    people: Detections,
    masks: Sequence[PrivacyMask],
    *,
    faces: CenterFaceDetector | None = None,
    config: PrivacyConfig | None = None,
) -> NDArray[np.uint8]:
    """A copy of ``image`` with ``masks`` black and faces blurred: every face ``faces`` finds and the head area of
    every person in ``people`` (class person; e.g. the tracker's boxes for this frame) without a trustworthy
    face. The input is never changed."""
    cfg = config or (faces.config if faces is not None else PrivacyConfig())
    masked = apply_masks(image, masks)
    found = faces.find(masked, people) if faces is not None else Detections.empty()
    # Masked again after blurring: a blurred area reaching into a mask must not grey its black.
    return apply_masks(blur_faces(masked, found, people, cfg), masks)


def people_to_protect(tracks: Detections, detections: Detections, min_score: float = 0.2) -> Detections:
    """Everyone a picture of this frame must hide: the tracked people, and person detections of at least
    ``min_score`` that overlap no tracked person (IoU < 0.3) — e.g. someone half behind a pole the tracker never
    followed. Costs a few blurred patches of background when a weak detection is wrong.

    >>> t = Detections(np.array([[0, 0, 10, 30]]), class_id=[0])
    >>> d = Detections(np.array([[1, 0, 11, 30], [50, 0, 60, 30], [80, 0, 90, 30]]), [0.9, 0.25, 0.1], [0, 0, 0])
    >>> people_to_protect(t, d).xyxy[:, 0].tolist()
    [0.0, 50.0]
    """
    people = tracks[tracks.class_id == PERSON]
    weak = detections[(detections.class_id == PERSON) & (detections.confidence >= min_score)]
    if not len(weak):
        return people
    if len(people):
        overlap = _iou(weak.xyxy, people.xyxy).max(axis=1)
        weak = weak[overlap < 0.3]
    return Detections.merge([people, weak]) if len(weak) else people


def _iou(a: NDArray[np.floating], b: NDArray[np.floating]) -> NDArray[np.float64]:
    x1 = np.maximum(a[:, None, 0], b[None, :, 0])
    y1 = np.maximum(a[:, None, 1], b[None, :, 1])
    x2 = np.minimum(a[:, None, 2], b[None, :, 2])
    y2 = np.minimum(a[:, None, 3], b[None, :, 3])
    inter = np.clip(x2 - x1, 0, None) * np.clip(y2 - y1, 0, None)
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    return np.asarray(inter / np.maximum(area_a[:, None] + area_b[None, :] - inter, 1e-9), np.float64)
