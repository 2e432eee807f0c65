"""Many cameras, one detector: the live pipeline of a store.

Each camera is captured in its own thread into a small drop-oldest queue. One detector thread serves every camera
in turn: it takes a camera's newest frame when the camera's detection is due (``detect_fps``), runs the gated
detector and the camera's tracker, and hands the result to the subscriber. Frames older than the newest are
skipped by design (the detection rate is lower than the camera's), which is counted apart from overflow drops.
"""

from __future__ import annotations

import queue
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Protocol

from storewatch.analysis.tracking import FrameResult, analyse_live_frame
from storewatch.appearance.color import ColorDescriber
from storewatch.config.schema import SiteConfig
from storewatch.core.ids import CameraId, camera_key
from storewatch.detect.coco import PERSON
from storewatch.detect.gated import GatedDetector, WindowDetector
from storewatch.privacy.masks import PrivacyMask, apply_masks, masks_for_camera
from storewatch.runtime.camera import CameraCapture, CaptureStats, SourceFactory, open_camera_source
from storewatch.runtime.health import HealthStatus
from storewatch.runtime.queues import DropOldestQueue
from storewatch.track.bytetrack import ByteTracker
from storewatch.track.config import TrackerConfig
from storewatch.video.source import Frame

if TYPE_CHECKING:
    from storewatch.runtime.supervisor import Supervisor
    from storewatch.runtime.workers import CaptureSpec

Subscriber = Callable[[CameraId, FrameResult], None]


class Capture(Protocol):
    """A camera's capture, in a thread (``CameraCapture``) or a supervised process (``ProcessCapture``)."""

    camera_id: CameraId

    def start(self) -> None: ...

    def stop(self, timeout_s: float = 5.0) -> None: ...

    @property
    def health(self) -> HealthStatus: ...

    def stats(self) -> CaptureStats: ...

    def check_watchdog(self, now_mono: float | None = None) -> bool: ...


RECENT_FRAMES = 10_000
WATCHDOG_INTERVAL_S = 0.5


@dataclass(slots=True)
class CameraLane:
    camera_id: CameraId
    capture: Capture
    frames: DropOldestQueue[Frame]
    gate: GatedDetector
    tracker: ByteTracker
    interval_s: float
    masks: tuple[PrivacyMask, ...] = ()
    """Privacy zones blacked out of every frame before the detector, the tracker or anyone downstream sees it."""
    next_due: float = 0.0
    processed: int = 0
    skipped_by_rate: int = 0
    latencies_s: deque[float] = field(default_factory=lambda: deque(maxlen=RECENT_FRAMES))
    """Capture-to-result latency of the recent frames."""
    detector_s: deque[float] = field(default_factory=lambda: deque(maxlen=RECENT_FRAMES))
    """Time the detector (the gate and the network) took on the recent frames."""
    detect_s: float = 0.0
    """Total time spent on this camera's frames (detection, descriptors, tracking)."""


class Pipeline:
    """``start()``, ``stop()``; results go to ``subscriber``; ``lanes`` hold per-camera counters."""

    def __init__(
        self,
        sources: dict[CameraId, SourceFactory],
        detector: WindowDetector,
        *,
        detect_fps: float | Mapping[CameraId, float] = 5.0,
        naive: bool = False,
        tracker_config: TrackerConfig | None = None,
        subscriber: Subscriber | None = None,
        queue_size: int = 4,
        processes: Mapping[CameraId, CaptureSpec] | None = None,
        masks: Mapping[CameraId, Sequence[PrivacyMask]] | None = None,
    ) -> None:
        """``sources`` open each camera for capture in a thread; cameras in ``processes`` are captured by
        supervised worker processes instead (``sources`` may then leave them out). ``masks``: each camera's
        privacy zones, black in every frame before it is analysed."""
        cameras = [*sources, *(processes or {})]
        rates = detect_fps if isinstance(detect_fps, Mapping) else dict.fromkeys(cameras, detect_fps)
        if any(rates.get(c, 0) <= 0 for c in cameras):
            raise ValueError("detect_fps must be positive for every camera")
        self.subscriber = subscriber
        self._describer = ColorDescriber((PERSON,))
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.lanes: list[CameraLane] = []
        self.supervisor: Supervisor | None = None
        if processes:
            from storewatch.runtime.supervisor import Supervisor

            self.supervisor = Supervisor()
        for camera_id in [*sources, *(c for c in processes or {} if c not in sources)]:
            frames: DropOldestQueue[Frame] = DropOldestQueue(queue_size)
            capture: Capture
            if processes and camera_id in processes:
                assert self.supervisor is not None
                capture = self.supervisor.add(processes[camera_id], frames)
            else:
                capture = CameraCapture(camera_id, sources[camera_id], frames)
            self.lanes.append(
                CameraLane(
                    camera_id,
                    capture,
                    frames,
                    GatedDetector(detector, naive=naive),
                    ByteTracker(tracker_config, camera_id),
                    1.0 / rates[camera_id],
                    tuple((masks or {}).get(camera_id, ())),
                )
            )

    @classmethod
    def from_site(cls, site: SiteConfig, detector: WindowDetector, **kwargs: Any) -> Pipeline:
        """A pipeline for every enabled camera of a site file, each at its own detect rate; a camera with a
        sub-stream is analysed on it."""
        sources: dict[CameraId, SourceFactory] = {}
        rates: dict[CameraId, float] = {}
        masks: dict[CameraId, tuple[PrivacyMask, ...]] = {}
        for store in site.stores:
            for cam in store.cameras:
                if cam.enabled:
                    cid = camera_key(store.id, cam.id)
                    sources[cid] = _site_source(cam.sub_source or cam.source, cid, cam.rtsp_transport)
                    rates[cid] = cam.detect_fps
                    masks[cid] = masks_for_camera(cam)
        kwargs.setdefault("detect_fps", rates)
        kwargs.setdefault("masks", masks)
        kwargs.setdefault("tracker_config", site.tracker)
        return cls(sources, detector, **kwargs)

    def set_masks(self, camera_id: CameraId, masks: Sequence[PrivacyMask]) -> None:
        """New privacy zones for a camera (a reconfiguration): the next frame it analyses is masked by them."""
        for lane in self.lanes:
            if lane.camera_id == camera_id:
                lane.masks = tuple(masks)

    def start(self) -> None:
        for lane in self.lanes:
            if self.supervisor is None or lane.camera_id not in self.supervisor.workers:
                lane.capture.start()
        if self.supervisor is not None:
            self.supervisor.start()
        self._thread = threading.Thread(target=self._serve, name="detector", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10)
        if self.supervisor is not None:
            self.supervisor.stop()
        for lane in self.lanes:
            lane.capture.stop()

    def _newest(self, lane: CameraLane) -> Frame | None:
        frame = None
        while True:
            try:
                newer = lane.frames.get(timeout=0)
            except queue.Empty:
                return frame
            if frame is not None:
                lane.skipped_by_rate += 1
            frame = newer

    def _serve(self) -> None:
        next_watch = 0.0
        while not self._stop.is_set():
            if time.monotonic() >= next_watch:  # frozen streams that keep their socket open
                next_watch = time.monotonic() + WATCHDOG_INTERVAL_S
                for lane in self.lanes:
                    lane.capture.check_watchdog()
            worked = False
            for lane in self.lanes:
                now = time.monotonic()
                if now < lane.next_due:
                    continue
                frame = self._newest(lane)
                if frame is None:
                    continue
                lane.next_due = max(lane.next_due + lane.interval_s, now)
                self._process(lane, frame)
                worked = True
            if not worked:
                self._stop.wait(0.005)

    def _process(self, lane: CameraLane, frame: Frame) -> None:
        t0 = time.perf_counter()
        if lane.masks:
            frame = replace(frame, image=apply_masks(frame.image, lane.masks))
        result = analyse_live_frame(frame, lane.gate, lane.tracker, self._describer)
        lane.detect_s += time.perf_counter() - t0
        lane.detector_s.append(result.detect_s)
        lane.processed += 1
        if self.subscriber is not None:
            self.subscriber(lane.camera_id, result)
        lane.latencies_s.append(time.monotonic() - frame.meta.mono_s)


def _site_source(location: str, camera_id: CameraId, rtsp_transport: str = "tcp") -> SourceFactory:
    return lambda: open_camera_source(location, camera_id, rtsp_transport=rtsp_transport)
