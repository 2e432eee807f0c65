"""The live side of the camera pages when the dashboard runs in the process of a ``SiteRunner`` (``storewatch
demo``): each camera's newest frame and the tracks on it.

Frames come from the runner's public-view monitors (``runtime.pvm``): encoded at most twice a second and only
while someone asks, privacy zones masked. Tracks are taken on the detector thread, on the way to the runner's own
handler (``Pipeline.subscriber`` is wrapped once, before the runner starts): a few seconds of them per camera in a
bounded deque, so the tracks sent with a frame are those of the detection closest in time to that frame.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from storewatch.analysis.tracking import FrameResult
from storewatch.core.ids import CameraId
from storewatch.detect.coco import COCO_CLASSES
from storewatch.runtime.runner import SiteRunner
from storewatch.web.camera_service import LiveFrame
from storewatch.web.config_schemas import TrackPublic

KEEP = 24
"""Detections remembered per camera (about five seconds at 5 detections a second)."""


@dataclass(frozen=True, slots=True)
class _Tracked:
    mono_s: float
    tracks: tuple[TrackPublic, ...]


class RunnerCameras:
    """``web.camera_service.LiveCameras`` over a runner; make it before ``runner.start()``."""

    def __init__(self, runner: SiteRunner, clock: Callable[[], float] = time.monotonic) -> None:
        self.monitors = runner.monitors
        self._clock = clock
        self._lock = threading.Lock()
        self._recent: dict[str, deque[_Tracked]] = {str(c): deque(maxlen=KEEP) for c in runner.cameras}
        handler = runner.pipeline.subscriber

        def tap(camera_id: CameraId, result: FrameResult) -> None:
            self.record(str(camera_id), result)
            if handler is not None:
                handler(camera_id, result)

        runner.pipeline.subscriber = tap

    def record(self, camera: str, result: FrameResult) -> None:
        """On the detector thread: a few hundred nanoseconds per track."""
        meta, tracks = result.frame.meta, result.tracks
        w, h = float(meta.width or 1), float(meta.height or 1)
        found = tuple(
            TrackPublic(
                id=int(tid),
                label=COCO_CLASSES[int(cls)] if 0 <= int(cls) < len(COCO_CLASSES) else str(int(cls)),
                box=(
                    _unit(x1 / w), _unit(y1 / h), _unit(x2 / w), _unit(y2 / h)
                ),
                confidence=round(float(conf), 2),
            )
            for (x1, y1, x2, y2), tid, cls, conf in zip(
                tracks.xyxy.tolist(), tracks.track_id.tolist(), tracks.class_id.tolist(),
                tracks.confidence.tolist(), strict=True,
            )
        )  # fmt: skip
        with self._lock:
            self._recent.setdefault(camera, deque(maxlen=KEEP)).append(_Tracked(self._clock(), found))

    def has(self, camera: str) -> bool:
        return camera in self._recent

    def frame(self, camera: str) -> bytes | None:
        return self.monitors.frame(CameraId(camera))

    def tracks(self, camera: str) -> LiveFrame:
        age = self.monitors.state(CameraId(camera)).frame_age_s
        with self._lock:
            recent = list(self._recent.get(camera, ()))
        if not recent:
            return LiveFrame((), age)
        at = self._clock() - age if age is not None else recent[-1].mono_s
        closest = min(recent, key=lambda t: abs(t.mono_s - at))
        return LiveFrame(closest.tracks, age)


def _unit(value: float) -> float:
    return round(min(1.0, max(0.0, value)), 4)
