"""Privacy for a running site: ``SitePrivacy(site)(camera, image, people)`` is the picture of a camera's frame a
person may see — its privacy zones black, faces blurred (``protect``).

The face detector is loaded on first use (on the thread that writes evidence, never the detector's), once; when
it cannot be loaded the reason is logged once and every person's head area is blurred instead (coarser, never
weaker). With ``privacy.enabled: false`` only the masks are applied: privacy zones are never shown.
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from storewatch.core.detections import Detections
from storewatch.errors import StorewatchError
from storewatch.privacy.config import PrivacyConfig
from storewatch.privacy.masks import PrivacyMask, apply_masks, masks_for_camera
from storewatch.privacy.protect import protect

if TYPE_CHECKING:
    from storewatch.config.schema import SiteConfig
    from storewatch.privacy.faces import CenterFaceDetector

log = logging.getLogger(__name__)


class SitePrivacy:
    def __init__(self, site: SiteConfig | None, config: PrivacyConfig | None = None) -> None:
        """``site`` None: no privacy zones known (a dashboard started without the site file), faces still blurred."""
        self.config = config or (site.privacy if site is not None else PrivacyConfig())
        stores = site.stores if site is not None else []
        self.masks: dict[str, tuple[PrivacyMask, ...]] = {
            f"{store.id}/{cam.id}": masks_for_camera(cam) for store in stores for cam in store.cameras
        }
        self._faces: CenterFaceDetector | None = None
        self._tried = False
        self._lock = threading.Lock()

    def faces(self) -> CenterFaceDetector | None:
        with self._lock:
            if not self._tried:
                self._tried = True
                try:
                    from storewatch.privacy.faces import open_face_detector

                    self._faces = open_face_detector(self.config)
                except (StorewatchError, OSError) as exc:
                    log.warning("face detector not available (%s): blurring every person's head area instead", exc)
            return self._faces

    def __call__(self, camera: str, image: NDArray[np.uint8], people: Detections) -> NDArray[np.uint8]:
        masks = self.masks.get(camera, ())
        if not self.config.enabled:
            return apply_masks(image, masks)
        return protect(image, people, masks, faces=self.faces(), config=self.config)
