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
