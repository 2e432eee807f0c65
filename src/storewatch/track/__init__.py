"""Multi-object tracking: ByteTrack-family, time-aware, ids owned by the camera."""

from storewatch.track.bytetrack import ByteTracker
from storewatch.track.config import ReportBox, TrackerConfig

__all__ = ["ByteTracker", "ReportBox", "TrackerConfig"]
