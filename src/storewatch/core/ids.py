"""Namespaced identifiers.

Ids are made by their owner and namespaced ``store/camera/track`` so that two cameras (or two stores) can never
hand out the same id.  There are no process-global counters: a tracker numbers its own tracks from 1 and the
camera that owns the tracker namespaces them.

>>> track_key(CameraId("store-1/cam-2"), 17)
'store-1/cam-2/17'
"""

from __future__ import annotations

import re
from typing import NewType

StoreId = NewType("StoreId", str)
CameraId = NewType("CameraId", str)
TrackId = NewType("TrackId", str)

_SLUG = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")


def is_slug(value: str) -> bool:
    """Whether ``value`` is a valid id segment: lower-case letters, digits, ``-`` and ``_``; 1-63 characters."""
    return bool(_SLUG.match(value))


def camera_key(store: StoreId | str, camera: str) -> CameraId:
    """The namespaced id of a camera within a store.

    >>> camera_key("store-1", "entrance")
    'store-1/entrance'
    """
    return CameraId(f"{store}/{camera}")


def track_key(camera: CameraId | str, local_id: int) -> TrackId:
    """The namespaced id of a track, from the camera that owns the tracker and the tracker's own number."""
    if local_id < 0:
        raise ValueError(f"track number must be >= 0, got {local_id}")
    return TrackId(f"{camera}/{local_id}")
