"""Pipeline metrics: a status snapshot of every camera and the detector, and the same numbers in Prometheus text.

The hot path only increments plain counters on the lanes; everything here is read when someone asks (a Prometheus
scrape, ``GET /status``), so nothing runs on a timer. ``PipelineSampler.status()`` reads the lanes into one
``PipelineStatus``; ``PipelineCollector`` renders that snapshot as metric families, and the status server serves
it as JSON, so both views always agree.

Rates (input fps, detect fps, the detector's busy share) come from ``CounterWindow``: every read samples the
counters and differences them against the newest sample that is at least ``window_s`` old (or the oldest kept;
at first the one taken when the sampler was made). A frequently polled sampler thus reports the last ~``window_s``
seconds, and one polled rarely (a 15 s scrape) still reports the average since its previous poll. Long-lived
readers must share one sampler: ``metrics_text`` makes a fresh one, so its rates are unknown (NaN).

Detector latency: the lanes keep only the total time spent per frame in detection, description and tracking
(``detect_s``), not per-frame times, so the detector is reported as a mean over the rate window
(``storewatch_detect_mean_seconds``) and as a lifetime ``storewatch_detect_seconds_total``; the quantiles
(p50/p95) are of the capture-to-result latency the lanes do record (their last 500 frames).

prometheus_client (the standard library for the exposition format) renders the families; its
``ProcessCollector`` reads resident memory and start time from /proc (Linux; elsewhere RSS is unknown and uptime
counts from the sampler's creation).
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from typing import TYPE_CHECKING

import numpy as np
from prometheus_client import CollectorRegistry, ProcessCollector, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, InfoMetricFamily, Metric
from prometheus_client.registry import Collector
from pydantic import TypeAdapter, ValidationError

from storewatch.errors import StorewatchError
from storewatch.ingest.report import SourceStatus
from storewatch.runtime.health import Health

if TYPE_CHECKING:
    from storewatch.runtime.pipeline import CameraLane, Pipeline

LATENCY_FRAMES = 500
"""Capture-to-result latency quantiles are over each camera's last this many frames."""


class CounterWindow:
    """Increases of a few growing counters over roughly the last ``window_s`` seconds, sampled when read.

    ``delta(now, values)`` returns (seconds, increases) against the newest earlier sample at least ``window_s``
    old, or the oldest kept; None while that is younger than ``min_step_s`` (too short to be a rate). Samples
    closer than ``min_step_s`` are not kept, which bounds memory however often it is read. A counter that goes
    back (a restart) starts the window afresh.

    >>> w = CounterWindow(window_s=10.0)
    >>> w.delta(0.0, (0, 0.0)) is None
    True
    >>> w.delta(4.0, (20, 1.0))
    (4.0, (20, 1.0))
    >>> w.delta(20.0, (100, 2.0))  # the sample at 4 s is the newest one at least 10 s old
    (16.0, (80, 1.0))
    """

    def __init__(self, window_s: float, min_step_s: float | None = None) -> None:
        if window_s <= 0:
            raise ValueError("window_s must be positive")
        self.window_s = window_s
        self.min_step_s = window_s / 20 if min_step_s is None else min_step_s
        self._samples: deque[tuple[float, tuple[float, ...]]] = deque()

    def delta(self, now: float, values: tuple[float, ...]) -> tuple[float, tuple[float, ...]] | None:
        samples = self._samples
        if samples and any(v < b for v, b in zip(values, samples[-1][1], strict=True)):
            samples.clear()
        if not samples or now - samples[-1][0] >= self.min_step_s:
            samples.append((now, values))
        while len(samples) > 1 and samples[1][0] <= now - self.window_s:
            samples.popleft()
        start, base = samples[0]
        if now - start < self.min_step_s:
            return None
        return now - start, tuple(v - b for v, b in zip(values, base, strict=True))


@dataclass(frozen=True, slots=True)
class CameraStatus:
    """One camera at one moment. Rates and means are over the sampler's window; None when not yet known."""

    camera: str
    health: Health
    reason: str
    since_utc: datetime
    input_fps: float | None
    detect_fps: float | None
    frames_captured: int
    frames_detected: int
    frames_dropped: int
    """Dropped because the queue to the detector was full (not the frames skipped by the detection rate)."""
    frames_skipped_by_rate: int
    queue_depth: int
    queue_capacity: int
    reconnects: int
    consecutive_failures: int
    last_frame_age_s: float | None
    frame_latency_p50_s: float | None
    frame_latency_p95_s: float | None
    """Capture to result (queue wait, detection, tracking) over the last ``LATENCY_FRAMES`` frames."""
    detect_mean_s: float | None
    """Mean time per frame in detection, description and tracking over the window."""
    detector_latency_p50_s: float | None
    detector_latency_p95_s: float | None
    """Time the detector (gate and network) took per frame, over the last ``LATENCY_FRAMES`` frames."""
    detect_total_s: float
    gate: dict[str, int]
    """The motion gate's counters (``GateStats``) by field name."""


@dataclass(frozen=True, slots=True)
class DetectorStatus:
    """The one detector thread serving every camera."""

    detect_fps: float | None
    busy_ratio: float | None
    """Share of wall time spent on frames (1.0: the detector is saturated)."""
    detect_mean_s: float | None
    frames_detected: int
    detect_total_s: float


@dataclass(frozen=True, slots=True)
class ProcessStatus:
    uptime_s: float
    cpu_s: float
    rss_bytes: int | None


@dataclass(frozen=True, slots=True)
class PipelineStatus:
    """What ``GET /status`` returns and ``storewatch status`` shows."""

    version: str
    taken_utc: datetime
    rate_window_s: float
    cameras: list[CameraStatus]
    detector: DetectorStatus
    process: ProcessStatus
    sources: list[SourceStatus] = dataclasses.field(default_factory=list)
    """The ingest sources the runner supervises (drop folders, NATS): ``storewatch.ingest``."""


@cache
def _status_adapter() -> TypeAdapter[PipelineStatus]:
    return TypeAdapter(PipelineStatus)


def status_json(status: PipelineStatus) -> bytes:
    """The snapshot as JSON (unknown values as null, times as ISO 8601 UTC)."""
    return _status_adapter().dump_json(status, indent=2)


def parse_status_json(body: bytes | str, source: str = "status") -> PipelineStatus:
    """Read a ``/status`` body; a ``StorewatchError`` naming ``source`` when it is not one."""
    try:
        return _status_adapter().validate_json(body)
    except ValidationError as exc:
        raise StorewatchError(
            f"{source} did not return storewatch status: {exc.error_count()} problem(s), first: "
            f"{exc.errors()[0]['msg']}",
            fix="point the URL at the status address of `storewatch run` (host:port, without a path)",
        ) from None


def _quantiles(values: list[float]) -> tuple[float | None, float | None]:
    if not values:
        return None, None
    p50, p95 = np.percentile(values, [50, 95])
    return float(p50), float(p95)


def _process_status(fallback_start_wall: float) -> ProcessStatus:
    rss, start = None, fallback_start_wall
    for family in ProcessCollector(registry=None).collect():
        for sample in family.samples:
            if sample.name == "process_resident_memory_bytes":
                rss = int(sample.value)
            elif sample.name == "process_start_time_seconds":
                start = sample.value
    return ProcessStatus(uptime_s=max(0.0, time.time() - start), cpu_s=time.process_time(), rss_bytes=rss)


def _counters(lane: CameraLane) -> tuple[float, ...]:
    return (lane.capture.stats().frames, lane.processed, lane.detect_s)


class PipelineSampler:
    """Reads a pipeline into ``PipelineStatus`` snapshots; thread-safe, one per server so rates share a window."""

    def __init__(
        self,
        pipeline: Pipeline,
        *,
        window_s: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
        sources: Callable[[], list[SourceStatus]] | None = None,
    ) -> None:
        """``sources``: the ingest sources' statuses, read with each snapshot."""
        self.pipeline = pipeline
        self.sources = sources
        self.window_s = window_s
        self._clock = clock
        self._lock = threading.Lock()
        self._started_wall = time.time()
        self._windows = {lane.camera_id: CounterWindow(window_s) for lane in pipeline.lanes}
        now = clock()
        for lane in pipeline.lanes:
            self._windows[lane.camera_id].delta(now, _counters(lane))

    def status(self) -> PipelineStatus:
        from storewatch import __version__

        with self._lock:
            now = self._clock()
            cameras, deltas = [], []
            for lane in self.pipeline.lanes:
                delta = self._windows[lane.camera_id].delta(now, _counters(lane))
                cameras.append(self._camera(lane, delta))
                deltas.append(delta)
        return PipelineStatus(
            version=__version__,
            taken_utc=datetime.now(UTC),
            rate_window_s=self.window_s,
            cameras=cameras,
            detector=_detector(cameras, deltas),
            process=_process_status(self._started_wall),
            sources=self.sources() if self.sources is not None else [],
        )

    @staticmethod
    def _camera(lane: CameraLane, delta: tuple[float, tuple[float, ...]] | None) -> CameraStatus:
        stats = lane.capture.stats()
        health = lane.capture.health
        p50, p95 = _quantiles(list(lane.latencies_s)[-LATENCY_FRAMES:])
        d50, d95 = _quantiles(list(lane.detector_s)[-LATENCY_FRAMES:])
        input_fps = detect_fps = detect_mean = None
        if delta is not None:
            dt, (d_frames, d_processed, d_detect_s) = delta
            input_fps, detect_fps = d_frames / dt, d_processed / dt
            detect_mean = d_detect_s / d_processed if d_processed else None
        return CameraStatus(
            camera=str(lane.camera_id),
            health=health.state,
            reason=health.reason,
            since_utc=health.since_utc,
            input_fps=input_fps,
            detect_fps=detect_fps,
            frames_captured=stats.frames,
            frames_detected=lane.processed,
            frames_dropped=lane.frames.dropped,
            frames_skipped_by_rate=lane.skipped_by_rate,
            queue_depth=len(lane.frames),
            queue_capacity=lane.frames.maxsize,
            reconnects=stats.reconnects,
            consecutive_failures=stats.consecutive_failures,
            last_frame_age_s=stats.last_frame_age_s,
            frame_latency_p50_s=p50,
            frame_latency_p95_s=p95,
            detect_mean_s=detect_mean,
            detector_latency_p50_s=d50,
            detector_latency_p95_s=d95,
            detect_total_s=lane.detect_s,
            gate=dataclasses.asdict(lane.gate.stats),
        )


def _detector(cameras: list[CameraStatus], deltas: list[tuple[float, tuple[float, ...]] | None]) -> DetectorStatus:
    fps = busy = mean = None
    known = [d for d in deltas if d is not None]
    if known and len(known) == len(deltas):
        fps = sum(d_processed / dt for dt, (_, d_processed, _) in known)
        busy = sum(d_detect_s / dt for dt, (_, _, d_detect_s) in known)
        processed = sum(d_processed for _, (_, d_processed, _) in known)
        mean = sum(d_detect_s for _, (_, _, d_detect_s) in known) / processed if processed else None
    return DetectorStatus(
        detect_fps=fps,
        busy_ratio=busy,
        detect_mean_s=mean,
        frames_detected=sum(c.frames_detected for c in cameras),
        detect_total_s=sum(c.detect_total_s for c in cameras),
    )


CameraValue = Callable[[CameraStatus], float | None]

_CAMERA_COUNTERS: tuple[tuple[str, str, CameraValue], ...] = (
    ("storewatch_frames_captured", "Frames decoded from the camera.", lambda c: c.frames_captured),
    ("storewatch_frames_detected", "Frames the detector processed.", lambda c: c.frames_detected),
    ("storewatch_frames_dropped", "Frames dropped because the queue was full.", lambda c: c.frames_dropped),
    (
        "storewatch_frames_skipped_by_rate",
        "Frames not needed at the configured detection rate.",
        lambda c: c.frames_skipped_by_rate,
    ),
    ("storewatch_camera_reconnects", "Reconnects after failures.", lambda c: c.reconnects),
    (
        "storewatch_detect_seconds",
        "Time spent on the camera's frames in detection, description and tracking.",
        lambda c: c.detect_total_s,
    ),
)
_CAMERA_GAUGES: tuple[tuple[str, str, CameraValue], ...] = (
    ("storewatch_input_frames_per_second", "Frames decoded per second over the rate window.", lambda c: c.input_fps),
    ("storewatch_detect_frames_per_second", "Frames detected per second over the rate window.", lambda c: c.detect_fps),
    ("storewatch_queue_depth", "Frames waiting for the detector.", lambda c: c.queue_depth),
    ("storewatch_queue_capacity", "Size of the drop-oldest queue to the detector.", lambda c: c.queue_capacity),
    ("storewatch_camera_consecutive_failures", "Failures since the last frame.", lambda c: c.consecutive_failures),
    ("storewatch_last_frame_age_seconds", "Seconds since the camera's last frame.", lambda c: c.last_frame_age_s),
    (
        "storewatch_frame_latency_p50_seconds",
        f"Capture-to-result latency, median of the last {LATENCY_FRAMES} frames.",
        lambda c: c.frame_latency_p50_s,
    ),
    (
        "storewatch_frame_latency_p95_seconds",
        f"Capture-to-result latency, 95th percentile of the last {LATENCY_FRAMES} frames.",
        lambda c: c.frame_latency_p95_s,
    ),
    (
        "storewatch_detector_latency_p50_seconds",
        f"Detector time per frame (gate and network), median of the last {LATENCY_FRAMES} frames.",
        lambda c: c.detector_latency_p50_s,
    ),
    (
        "storewatch_detector_latency_p95_seconds",
        f"Detector time per frame (gate and network), 95th percentile of the last {LATENCY_FRAMES} frames.",
        lambda c: c.detector_latency_p95_s,
    ),
    (
        "storewatch_detect_mean_seconds",
        "Mean time per frame in detection, description and tracking over the rate window.",
        lambda c: c.detect_mean_s,
    ),
    (
        "storewatch_camera_health_since_timestamp_seconds",
        "When the camera's health state or reason last changed, Unix time.",
        lambda c: c.since_utc.timestamp(),
    ),
)


def _value(v: float | None) -> float:
    return float("nan") if v is None else float(v)


def camera_families(cameras: list[CameraStatus]) -> Iterator[Metric]:
    """Per-camera families (label ``camera``): counters, gauges, health as a state set and an info metric."""
    label = ["camera"]
    for name, doc, get in _CAMERA_COUNTERS:
        counter = CounterMetricFamily(name, doc, labels=label)
        for c in cameras:
            counter.add_metric([c.camera], _value(get(c)))
        yield counter
    for name, doc, get in _CAMERA_GAUGES:
        gauge = GaugeMetricFamily(name, doc, labels=label)
        for c in cameras:
            gauge.add_metric([c.camera], _value(get(c)))
        yield gauge
    health = GaugeMetricFamily(
        "storewatch_camera_health", "1 for the camera's current health state.", labels=["camera", "state"]
    )
    reason = InfoMetricFamily(
        "storewatch_camera_health_reason", "The camera's health state and why.", labels=["camera"]
    )
    for c in cameras:
        for s in Health:
            health.add_metric([c.camera, s.value], 1.0 if s == c.health else 0.0)
        reason.add_metric([c.camera], {"state": c.health.value, "reason": c.reason})
    yield from (health, reason)
    gate_names = sorted({name for c in cameras for name in c.gate})
    for name in gate_names:
        counter = CounterMetricFamily(f"storewatch_gate_{name}", f"Motion gate counter {name}.", labels=label)
        for c in cameras:
            counter.add_metric([c.camera], c.gate.get(name, 0))
        yield counter


def source_families(sources: list[SourceStatus]) -> Iterator[Metric]:
    """Per ingest source (labels ``source``, ``kind``): documents and records by outcome, failures, health."""
    labels = ["source", "kind"]
    docs = CounterMetricFamily("storewatch_ingest_documents", "Documents (files, messages) ingested, by outcome: "
                               "done (every record read) or quarantined (some records quarantined).",
                               labels=[*labels, "outcome"])  # fmt: skip
    records = CounterMetricFamily(
        "storewatch_ingest_records",
        "Records ingested, by outcome: accepted or quarantined.",
        labels=[*labels, "outcome"],
    )
    failures = CounterMetricFamily(
        "storewatch_ingest_failures", "Ingest steps failed for a reason outside the documents (retried).", labels=labels
    )
    health = GaugeMetricFamily("storewatch_ingest_health", "1 for the source's current health state.",
                               labels=[*labels, "state"])  # fmt: skip
    for s in sources:
        docs.add_metric([s.source, s.kind, "done"], s.done)
        docs.add_metric([s.source, s.kind, "quarantined"], s.quarantined)
        records.add_metric([s.source, s.kind, "accepted"], s.records_accepted)
        records.add_metric([s.source, s.kind, "quarantined"], s.records_quarantined)
        failures.add_metric([s.source, s.kind], s.failures)
        for state in Health:
            health.add_metric([s.source, s.kind, state.value], 1.0 if state == s.health else 0.0)
    yield from (docs, records, failures, health)


def process_families(status: PipelineStatus) -> Iterator[Metric]:
    """Process-wide families: the detector summary, uptime, CPU, memory and the build."""
    d, p = status.detector, status.process
    gauges = (
        ("storewatch_detector_frames_per_second", "Frames detected per second, all cameras.", d.detect_fps),
        ("storewatch_detector_busy_ratio", "Share of time the detector thread spends on frames.", d.busy_ratio),
        ("storewatch_process_uptime_seconds", "Seconds since the process started.", p.uptime_s),
        ("storewatch_process_resident_memory_bytes", "Resident memory of the process.", p.rss_bytes),
    )
    for name, doc, value in gauges:
        yield GaugeMetricFamily(name, doc, value=_value(value))
    yield CounterMetricFamily("storewatch_process_cpu_seconds", "CPU time of the process, all threads.", p.cpu_s)
    yield InfoMetricFamily("storewatch_build", "The storewatch version.", value={"version": status.version})


class PipelineCollector(Collector):
    """A prometheus_client collector reading the pipeline at scrape time (through a shared sampler if given)."""

    def __init__(self, pipeline: Pipeline, sampler: PipelineSampler | None = None) -> None:
        self.pipeline = pipeline
        self.sampler = sampler or PipelineSampler(pipeline)

    def collect(self) -> Iterator[Metric]:
        status = self.sampler.status()
        yield from camera_families(status.cameras)
        yield from source_families(status.sources)
        yield from process_families(status)


def metrics_text(pipeline: Pipeline) -> bytes:
    """The pipeline's metrics as a one-off Prometheus scrape body (rates unknown: no earlier sample)."""
    registry = CollectorRegistry()
    registry.register(PipelineCollector(pipeline))
    return generate_latest(registry)
