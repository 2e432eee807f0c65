"""Core data types that flow between stages: detections, tracks, frame metadata and ids."""

from storewatch.core.detections import Detections
from storewatch.core.frame import FrameMeta
from storewatch.core.ids import CameraId, StoreId, TrackId, track_key
from storewatch.core.track import Track, TrackState

__all__ = ["CameraId", "Detections", "FrameMeta", "StoreId", "Track", "TrackId", "TrackState", "track_key"]
