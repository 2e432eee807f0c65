"""Detection and tracking over a video, frame by frame: decode -> detect -> track.

Used by ``storewatch track``, the tracking benchmark and the demo. Decoding runs ahead in a thread; nothing is
dropped (this is analysis of a recording, not a live camera).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
from numpy.typing import NDArray

from storewatch.appearance.color import ColorDescriber
from storewatch.core.detections import Detections
from storewatch.core.track import TrackState
from storewatch.detect.coco import PERSON
from storewatch.detect.config import DetectorConfig
from storewatch.detect.gated import GatedDetector, Tracked
from storewatch.detect.nanodet import NanoDetDetector
from storewatch.track.bytetrack import ByteTracker
from storewatch.track.config import TrackerConfig
from storewatch.video.prefetch import prefetch
from storewatch.video.source import Frame, VideoSource


class Detector(Protocol):
    def detect(self, image: NDArray[np.uint8]) -> Detections: ...


@dataclass(frozen=True, slots=True)
class FrameResult:
    frame: Frame
    detections: Detections
    """All detections of the frame (frame pixels)."""
    tracks: Detections
    """Tracked objects reported this frame, ``track_id`` set."""
    detect_s: float
    """Wall time the detector took on this frame."""


@dataclass(slots=True)
class RunStats:
    frames: int = 0
    detect_s: list[float] = field(default_factory=list)
    track_ids: set[int] = field(default_factory=set)
    started: float = field(default_factory=time.perf_counter)

    def add(self, result: FrameResult) -> None:
        self.frames += 1
        self.detect_s.append(result.detect_s)
        self.track_ids.update(int(t) for t in result.tracks.track_id)

    @property
    def elapsed_s(self) -> float:
        return time.perf_counter() - self.started

    def detect_ms(self, q: float) -> float:
        return float(np.percentile(self.detect_s, q) * 1000) if self.detect_s else 0.0


def open_detector(config: DetectorConfig) -> NanoDetDetector:
    """The configured detector, loaded from the model cache (a clear error names the fix if it is missing)."""
    from storewatch.inference.backend import open_backend
    from storewatch.models.registry import model_path

    backend = open_backend(model_path(config.model), config.backend, config.threads)
    return NanoDetDetector(backend, config)


def track_frames(
    frames: Iterator[Frame],
    detector: Detector,
    tracker: ByteTracker,
    *,
    first_seq: int = 0,
    last_seq: int | None = None,
) -> Iterator[FrameResult]:
    """Detect and track every frame with ``first_seq <= seq <= last_seq`` (0-based).

    People's boxes get a colour descriptor (cheap) so the tracker can keep crossing people apart."""
    describer = ColorDescriber((PERSON,))
    for frame in frames:
        seq = frame.meta.seq
        if seq < first_seq:
            continue
        if last_seq is not None and seq > last_seq:
            break
        t0 = time.perf_counter()
        dets = detector.detect(frame.image)
        dt = time.perf_counter() - t0
        dets = describer.describe(frame.image, dets)
        yield FrameResult(frame, dets, tracker.update(dets, frame.meta), dt)


def analyse_live_frame(
    frame: Frame, gate: GatedDetector, tracker: ByteTracker, describer: ColorDescriber
) -> FrameResult:
    """One live camera frame through the cost cascade: the gate decides where the detector looks (tracks matched
    a moment ago excuse their own motion), people get colour descriptors, and the tracker learns which tracks
    were looked for. The one step both the live pipeline and its offline replay (``bench.gate_recall``) run."""
    t0 = time.perf_counter()
    tracks = tracker.tracks(at_s=frame.meta.mono_s)
    tracked = Tracked(
        np.array([t.box_xyxy for t in tracks], np.float32).reshape(-1, 4),
        np.array([t.last_seen_s for t in tracks], np.float64),
        np.array([t.state == TrackState.CONFIRMED for t in tracks], np.bool_),
    )
    look = gate.look(frame.image, frame.meta.mono_s, tracked)
    detect_s = time.perf_counter() - t0
    dets = describer.describe(frame.image, look.detections)
    return FrameResult(frame, dets, tracker.update(dets, frame.meta, looked_at=look.windows), detect_s)


def track_source(
    source: VideoSource,
    detector: Detector,
    tracker_config: TrackerConfig,
    *,
    first_seq: int = 0,
    last_seq: int | None = None,
) -> Iterator[FrameResult]:
    """Per-frame results for an open ``source`` (the caller owns it and reads its decode stats afterwards)."""
    tracker = ByteTracker(tracker_config, source.camera_id)
    frames = prefetch(source.frames(), depth=8, name="decode")
    yield from track_frames(frames, detector, tracker, first_seq=first_seq, last_seq=last_seq)
