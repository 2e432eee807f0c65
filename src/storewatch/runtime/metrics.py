"""Pipeline metrics in the Prometheus text format, read from the live pipeline at scrape time.

A custom collector (prometheus_client's, the standard library for this) reads the lanes' counters when scraped,
so the hot path only increments plain integers and never touches a metrics library.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from storewatch.runtime.health import Health
from storewatch.runtime.pipeline import Pipeline


class PipelineCollector(Collector):
    def __init__(self, pipeline: Pipeline) -> None:
        self.pipeline = pipeline

    def collect(self) -> Iterator[GaugeMetricFamily | CounterMetricFamily]:
        labels = ["camera"]
        captured = CounterMetricFamily("storewatch_frames_captured", "Frames decoded from the camera.", labels=labels)
        detected = CounterMetricFamily("storewatch_frames_detected", "Frames the detector processed.", labels=labels)
        dropped = CounterMetricFamily(
            "storewatch_frames_dropped", "Frames dropped because the queue was full.", labels=labels
        )
        skipped = CounterMetricFamily(
            "storewatch_frames_skipped_by_rate", "Frames not needed at the configured detection rate.", labels=labels
        )
        reconnects = CounterMetricFamily("storewatch_camera_reconnects", "Reconnects after failures.", labels=labels)
        depth = GaugeMetricFamily("storewatch_queue_depth", "Frames waiting for the detector.", labels=labels)
        latency = GaugeMetricFamily(
            "storewatch_frame_latency_p95_seconds", "Capture-to-result latency, 95th percentile.", labels=labels
        )
        health = GaugeMetricFamily(
            "storewatch_camera_health", "1 for the camera's current health state.", labels=["camera", "state"]
        )
        for lane in self.pipeline.lanes:
            cam = [str(lane.camera_id)]
            stats = lane.capture.stats()
            captured.add_metric(cam, stats.frames)
            detected.add_metric(cam, lane.processed)
            dropped.add_metric(cam, lane.frames.dropped)
            skipped.add_metric(cam, lane.skipped_by_rate)
            reconnects.add_metric(cam, stats.reconnects)
            depth.add_metric(cam, len(lane.frames))
            recent = lane.latencies_s[-500:]
            latency.add_metric(cam, float(np.percentile(recent, 95)) if recent else float("nan"))
            state = lane.capture.health.state
            for s in Health:
                health.add_metric([*cam, s.value], 1.0 if s == state else 0.0)
        yield from (captured, detected, dropped, skipped, reconnects, depth, latency, health)


def metrics_text(pipeline: Pipeline) -> bytes:
    """The pipeline's metrics as a Prometheus scrape body."""
    registry = CollectorRegistry()
    registry.register(PipelineCollector(pipeline))
    return generate_latest(registry)
