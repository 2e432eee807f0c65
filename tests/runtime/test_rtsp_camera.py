"""A real RTSP camera on 127.0.0.1 (GStreamer's RTSP server serving the sample video as H.264): the pipeline reads
it over TCP and over UDP; the server is killed and restarted, then frozen and thawed, and capture recovers.

Times are measured with ``time.monotonic`` and printed (``pytest -s`` shows them). Most of a reconnect is FFmpeg
probing the stream when it opens it (about 3 s at the sample's 10 fps), not the server or the backoff.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from storewatch.analysis.tracking import FrameResult
from storewatch.core import CameraId
from storewatch.runtime.backoff import Backoff
from storewatch.runtime.camera import CameraCapture
from storewatch.runtime.health import Health
from storewatch.runtime.pipeline import Pipeline
from storewatch.runtime.queues import DropOldestQueue
from storewatch.video.source import VideoSource, stream_options
from tests.helpers import CountingDetector, wait_for
from tests.runtime.conftest_rtsp import RtspCamera, rtsp_camera_serving

pytestmark = pytest.mark.shared
CAM = CameraId("s1/entrance")
SERVED_SHAPE = (288, 384, 3)  # the server scales the 768x576 sample down by two


@pytest.fixture
def rtsp_camera(pets_video: Path, tmp_path: Path) -> Iterator[RtspCamera]:
    with rtsp_camera_serving(pets_video, tmp_path) as camera:
        yield camera


def rtsp_factory(url: str, transport: str = "tcp") -> VideoSource:
    return VideoSource(url, CAM, live=True, options=stream_options(url, rtsp_transport=transport), timeout_s=(2, 2))


def capture(camera: RtspCamera, transport: str = "tcp") -> CameraCapture:
    """A capture that retries quickly (at most 0.6 s between attempts) and calls a 1.5 s silence frozen.

    The watchdog's limit is below the 2 s read timeout on purpose: when a read times out FFmpeg still hands over
    the last frame it held (its H.264 parser waits for the next frame's start), which would reset an equal limit.
    """
    return CameraCapture(
        CAM,
        lambda: rtsp_factory(camera.url, transport),
        DropOldestQueue(8),
        frame_timeout_s=1.5,
        backoff=Backoff(initial_s=0.2, max_s=0.5),
    )


def not_ok(cap: CameraCapture) -> bool:
    """What a supervisor sees: the watchdog run, then the health."""
    cap.check_watchdog()
    return cap.health.state != Health.OK


def disconnected(cap: CameraCapture) -> bool:
    """The capture has given up its connection (and may be retrying)."""
    return cap.health.state != Health.OK and cap.health.reason.startswith(("stream ended", "read error", "cannot"))


def report(what: str, seconds: float) -> None:
    print(f"rtsp: {what}: {seconds:.2f} s")


@pytest.mark.parametrize("transport", ["tcp", "udp"])
def test_pipeline_reads_the_rtsp_camera(rtsp_camera: RtspCamera, transport: str) -> None:
    results: list[FrameResult] = []
    pipeline = Pipeline(
        {CAM: lambda: rtsp_factory(rtsp_camera.url, transport)},
        CountingDetector(),
        detect_fps=5.0,
        subscriber=lambda camera, result: results.append(result),
    )
    t0 = time.monotonic()
    pipeline.start()
    try:
        wait_for(lambda: len(results) >= 5, timeout_s=10)
        report(f"{transport}: first 5 frames detected after start", time.monotonic() - t0)
        assert pipeline.lanes[0].capture.health.state == Health.OK
    finally:
        pipeline.stop()
    frame = results[-1].frame
    assert frame.meta.camera_id == CAM and frame.image.shape == SERVED_SHAPE
    assert frame.image.std() > 20  # the street scene, not a blank frame
    assert abs(frame.meta.mono_s - time.monotonic()) < 5  # stamped at capture time
    transports = rtsp_camera.transports()
    assert transports and all(t.startswith(f"RTP/AVP/{transport.upper()};") for t in transports), transports


@pytest.mark.parametrize("transport", ["tcp", "udp"])
def test_server_killed_and_restarted(rtsp_camera: RtspCamera, transport: str) -> None:
    cap = capture(rtsp_camera, transport)
    cap.start()
    try:
        wait_for(lambda: cap.stats().frames >= 5, timeout_s=10)
        killed_at = rtsp_camera.kill()
        wait_for(lambda: not_ok(cap), timeout_s=5)
        report(f"{transport}: killed server noticed after ({cap.health.reason})", time.monotonic() - killed_at)
        wait_for(lambda: "cannot open" in cap.health.reason, timeout_s=10)  # reconnecting, refused
        down = cap.health
        assert down.state in (Health.DEGRADED, Health.OFFLINE), down
        seen = cap.stats().frames
        back_at = rtsp_camera.start()
        wait_for(lambda: cap.stats().frames > seen, timeout_s=10)
        resumed_s = time.monotonic() - back_at
        report(f"{transport}: frames resumed after the server came back", resumed_s)
        assert resumed_s < 5.0
        wait_for(lambda: cap.stats().frames > seen + 5, timeout_s=5)
        assert cap.health.state == Health.OK and cap.stats().reconnects >= 1
    finally:
        cap.stop()


def test_server_frozen_is_detected_and_recovers(rtsp_camera: RtspCamera) -> None:
    cap = capture(rtsp_camera)
    cap.start()
    try:
        wait_for(lambda: cap.stats().frames >= 5, timeout_s=10)
        frozen_at = rtsp_camera.freeze()
        wait_for(lambda: not_ok(cap), timeout_s=10)
        detected_s = time.monotonic() - frozen_at
        report(f"tcp: frozen server detected after ({cap.health.reason})", detected_s)
        assert detected_s < 5.0
        wait_for(lambda: disconnected(cap), timeout_s=10)  # the read timed out: reconnecting to a frozen server
        report(f"tcp: frozen connection given up after ({cap.health.reason})", time.monotonic() - frozen_at)
        seen = cap.stats().frames
        thawed_at = rtsp_camera.thaw()
        wait_for(lambda: cap.stats().frames > seen, timeout_s=10)
        report("tcp: frames resumed after SIGCONT", time.monotonic() - thawed_at)
        wait_for(lambda: cap.stats().frames > seen + 5, timeout_s=5)
        wait_for(lambda: cap.health.state == Health.OK)
    finally:
        cap.stop()
