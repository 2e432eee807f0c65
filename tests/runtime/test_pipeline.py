"""The live pipeline: several cameras served by one detector at the configured rate."""

from __future__ import annotations

import time

from storewatch.core import CameraId
from storewatch.runtime.camera import LiveFileSource
from storewatch.runtime.pipeline import Pipeline
from tests.helpers import CountingDetector, wait_for


def test_two_cameras_share_one_detector_at_their_rate(make_video):
    path = make_video(frames=40, fps=20)
    cams = [CameraId("s1/a"), CameraId("s1/b")]
    seen: dict[str, int] = {c: 0 for c in cams}

    def subscriber(camera, result):
        seen[camera] += 1
        assert result.frame.meta.camera_id == camera

    pipeline = Pipeline(
        {c: (lambda c=c: LiveFileSource(path, c, loop=True)) for c in cams},
        CountingDetector(),
        detect_fps=5.0,
        subscriber=subscriber,
    )
    t0 = time.monotonic()
    pipeline.start()
    try:
        wait_for(lambda: min(seen.values()) >= 6, timeout_s=10)
    finally:
        pipeline.stop()
    elapsed = time.monotonic() - t0
    for lane in pipeline.lanes:
        assert lane.processed <= 5.0 * elapsed + 2  # never faster than detect_fps
        assert lane.skipped_by_rate > 0  # the camera runs at 20 fps, detection at 5
        assert lane.latencies_s and max(lane.latencies_s) < 1.0


def test_metrics_are_exposed_in_prometheus_text(make_video):
    from prometheus_client.parser import text_string_to_metric_families

    from storewatch.runtime.metrics import metrics_text

    path = make_video(frames=20, fps=20)
    cam = CameraId("s1/a")
    pipeline = Pipeline({cam: lambda: LiveFileSource(path, cam)}, CountingDetector(), detect_fps=5.0)
    pipeline.start()
    try:
        wait_for(lambda: pipeline.lanes[0].processed >= 3)
    finally:
        pipeline.stop()
    families = {f.name: f for f in text_string_to_metric_families(metrics_text(pipeline).decode())}
    detected = families["storewatch_frames_detected"].samples[0]
    assert detected.labels == {"camera": "s1/a"} and detected.value >= 3
    health = {s.labels["state"]: s.value for s in families["storewatch_camera_health"].samples}
    assert sorted(health) == ["degraded", "offline", "ok"] and sum(health.values()) == 1.0
    assert "storewatch_frames_dropped" in families and "storewatch_frame_latency_p95_seconds" in families


def test_pipeline_from_a_site_file(tmp_path):
    import yaml

    from storewatch.config import SiteConfig
    from tests.conftest import write_video

    video = tmp_path / "door.mp4"
    write_video(video, frames=40, size=(320, 240), fps=20, codec="libx264")
    text = f"""
site: {{id: demo}}
stores:
  - id: s1
    cameras:
      - {{id: door, source: "{video}", detect_fps: 4}}
      - {{id: spare, source: "{video}", enabled: false}}
"""
    site = SiteConfig.model_validate(yaml.safe_load(text))
    seen = []
    pipeline = Pipeline.from_site(site, CountingDetector(), subscriber=lambda cam, r: seen.append(cam))
    assert [lane.camera_id for lane in pipeline.lanes] == ["s1/door"]
    assert pipeline.lanes[0].interval_s == 0.25
    pipeline.start()
    try:
        wait_for(lambda: len(seen) >= 3)
    finally:
        pipeline.stop()
    assert set(seen) == {"s1/door"}


def test_privacy_zones_are_black_before_anything_is_analysed(tmp_path):
    import yaml

    from storewatch.config import SiteConfig
    from tests.conftest import write_video

    video = tmp_path / "door.mp4"
    write_video(video, frames=40, size=(320, 240), fps=20, codec="libx264")
    text = f"""
site: {{id: demo}}
stores:
  - id: s1
    cameras:
      - id: door
        source: "{video}"
        zones: [{{id: street, kind: privacy, polygon: [[0, 0], [0.5, 0], [0.5, 1], [0, 1]]}}]
"""
    site = SiteConfig.model_validate(yaml.safe_load(text))
    looked_at = []

    class Looking(CountingDetector):
        def detect(self, image):
            looked_at.append(image.copy())
            return super().detect(image)

    seen = []
    pipeline = Pipeline.from_site(site, Looking(), naive=True, subscriber=lambda cam, r: seen.append(r.frame.image))
    pipeline.start()
    try:
        wait_for(lambda: len(seen) >= 3)
    finally:
        pipeline.stop()
    for image in [*looked_at, *seen]:
        assert int(image[:, :150].max()) == 0 and int(image[:, 170:].max()) > 0  # left half black, right half not
