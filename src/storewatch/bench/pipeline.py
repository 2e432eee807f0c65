"""The live pipeline benchmark: the sample video replayed as N live cameras at real time on this machine.

Reports per-camera detection rate, frame-to-event latency (capture time of a frame to the moment its result
reaches the pipeline's subscriber, where the behaviour rules and alerts listen), drops, CPU and memory, for the
gated (motion-first) pipeline and the naive one (full frame every time), run one after the other in the same
process; their ratio of capacity (frames served per second of detector time) is ``speedup_vs_naive``.
"""

from __future__ import annotations

import os
import resource
import time
from pathlib import Path
from typing import Any

import numpy as np

from storewatch.core.ids import CameraId, camera_key
from storewatch.detect.gated import WindowDetector
from storewatch.progress import frame_progress
from storewatch.runtime.camera import LiveFileSource, SourceFactory
from storewatch.runtime.pipeline import Pipeline
from storewatch.runtime.workers import CaptureSpec


def _factory(video: Path, camera: CameraId) -> SourceFactory:
    return lambda: LiveFileSource(video, camera, loop=True)


def _cpu_s() -> float:
    """CPU seconds of this process and of its children that have ended (capture workers)."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def run_mode(video: Path, detector: WindowDetector, cameras: int, seconds: float, *, naive: bool,
             detect_fps: float = 5.0, processes: bool = False) -> dict[str, Any]:  # fmt: skip
    ids = [camera_key("bench", f"cam-{i + 1}") for i in range(cameras)]
    if processes:
        specs = {c: CaptureSpec(str(c), str(video)) for c in ids}
        pipeline = Pipeline({}, detector, detect_fps=detect_fps, naive=naive, processes=specs)
    else:
        pipeline = Pipeline({c: _factory(video, c) for c in ids}, detector, detect_fps=detect_fps, naive=naive)
    wall0, cpu0 = time.monotonic(), _cpu_s()
    pipeline.start()
    try:
        with frame_progress() as bar:  # the measurement window itself; the pipeline runs in its threads
            task = bar.add_task(f"{'naive' if naive else 'gated'} x{cameras} cameras", total=None)
            while (elapsed := time.monotonic() - wall0) < seconds:
                time.sleep(min(0.5, seconds - elapsed))
                bar.update(task, completed=sum(lane.processed for lane in pipeline.lanes))
    finally:
        pipeline.stop()
    wall, cpu = time.monotonic() - wall0, _cpu_s() - cpu0  # workers are reaped by stop(): their CPU counts
    latencies = np.concatenate([np.asarray(lane.latencies_s) for lane in pipeline.lanes] or [np.zeros(0)])
    busy = sum(lane.detect_s for lane in pipeline.lanes)
    processed = sum(lane.processed for lane in pipeline.lanes)
    return {
        "mode": "naive" if naive else "gated",
        "per_camera_detect_fps": [round(lane.processed / wall, 2) for lane in pipeline.lanes],
        "frame_to_event_latency_p50_s": round(float(np.percentile(latencies, 50)), 3) if latencies.size else None,
        "frame_to_event_latency_p95_s": round(float(np.percentile(latencies, 95)), 3) if latencies.size else None,
        "dropped_frames": sum(lane.frames.dropped for lane in pipeline.lanes),
        "skipped_by_rate": sum(lane.skipped_by_rate for lane in pipeline.lanes),
        "cpu_percent": round(100 * cpu / wall, 1),
        "capacity_frames_per_detector_s": round(processed / busy, 2) if busy else None,
        "full_frame_runs": sum(lane.gate.stats.full_frame_runs for lane in pipeline.lanes),
        "window_runs": sum(lane.gate.stats.window_runs for lane in pipeline.lanes),
    }


def run_pipeline_benchmark(
    video: Path,
    detector: WindowDetector,
    cameras: int,
    seconds: float,
    modes: tuple[str, ...] = ("gated", "naive"),
    *,
    detect_fps: float = 5.0,
    processes: bool = False,
) -> dict[str, Any]:
    results = {
        m: run_mode(video, detector, cameras, seconds, naive=(m == "naive"), detect_fps=detect_fps,
                    processes=processes)
        for m in modes
    }  # fmt: skip
    out: dict[str, Any] = {"cameras": cameras, "seconds": seconds, **results.get("gated", results.get("naive", {}))}
    out["modes"] = results
    if "gated" in results and "naive" in results:
        g, n = results["gated"]["capacity_frames_per_detector_s"], results["naive"]["capacity_frames_per_detector_s"]
        out["speedup_vs_naive"] = round(g / n, 2) if g and n else None
    out["capture"] = "process" if processes else "thread"
    out["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    if processes:
        children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        out["peak_rss_worker_mb"] = round(children, 1)  # the largest worker (getrusage keeps a maximum)
    return out
