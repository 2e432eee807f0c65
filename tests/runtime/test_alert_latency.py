"""The alert-latency benchmark's wiring: a blinking camera's alerts reach the webhook, their latency measured."""

from __future__ import annotations

from pathlib import Path

from storewatch.bench.alerts import run_alerts_benchmark
from tests.helpers import CountingDetector


def test_alerts_are_timed_from_capture_to_webhook(tmp_path: Path, make_video):
    video = make_video("cam.avi", frames=40, fps=10)
    result = run_alerts_benchmark(video, CountingDetector(), cameras=1, seconds=12.0, work_dir=tmp_path)
    assert result["alerts"] >= 1
    assert 0 < result["capture_to_webhook_p50_s"] < 1.5
    assert len(result["per_camera_detect_fps"]) == 1
