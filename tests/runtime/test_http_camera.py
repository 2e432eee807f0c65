"""A real HTTP MJPEG camera on 127.0.0.1: frames flow, the camera goes away and comes back, capture recovers."""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import cv2
import numpy as np
import pytest

from storewatch.core import CameraId
from storewatch.errors import VideoError
from storewatch.runtime.backoff import Backoff
from storewatch.runtime.camera import CameraCapture
from storewatch.runtime.health import Health
from storewatch.runtime.queues import DropOldestQueue
from storewatch.video.source import VideoSource, stream_options
from tests.helpers import wait_for


class MjpegHandler(BaseHTTPRequestHandler):
    frames_per_connection = 40

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "multipart/x-mixed-replace; boundary=frame")
        self.end_headers()
        try:
            for i in range(self.frames_per_connection):
                img = np.full((120, 160, 3), 40, np.uint8)
                img[40:80, 4 * i % 150 : 4 * i % 150 + 10] = 250
                jpg = cv2.imencode(".jpg", img)[1].tobytes()
                head = b"--frame\r\nContent-Type: image/jpeg\r\nContent-Length: %d\r\n\r\n" % len(jpg)
                self.wfile.write(head + jpg + b"\r\n")
                time.sleep(0.02)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def log_message(self, *args: object) -> None:
        pass


class Camera:
    """An MJPEG server that can be stopped and started again on the same port."""

    def __init__(self) -> None:
        self.port = 0
        self.server: ThreadingHTTPServer | None = None
        self.running = False

    def start(self) -> None:
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), MjpegHandler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.running = True

    def stop(self) -> None:
        assert self.server is not None and self.running
        self.server.shutdown()
        self.server.server_close()
        self.running = False

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/video"


@pytest.fixture
def camera():
    cam = Camera()
    cam.start()
    yield cam
    if cam.running:
        cam.stop()


def test_mjpeg_frames_are_live_stamped(camera):
    with VideoSource(camera.url, "s1/door", live=True, options=stream_options(camera.url)) as src:
        frames = list(src.frames())
    # the last part may be lost: the MJPEG demuxer knows a part is whole only when the next boundary arrives
    assert len(frames) >= MjpegHandler.frames_per_connection - 1
    assert frames[0].image.shape == (120, 160, 3)
    assert abs(frames[-1].meta.mono_s - time.monotonic()) < 5  # capture time, not stream time


def test_camera_going_away_and_coming_back(camera):
    cam_id = CameraId("s1/door")

    def factory() -> VideoSource:
        return VideoSource(camera.url, cam_id, live=True, options=stream_options(camera.url), timeout_s=(2, 2))

    cap = CameraCapture(cam_id, factory, DropOldestQueue(8), backoff=Backoff(initial_s=0.1, max_s=0.5))
    cap.start()
    try:
        wait_for(lambda: cap.stats().frames >= 10)
        assert cap.health.state == Health.OK
        camera.stop()
        wait_for(lambda: cap.health.state != Health.OK and "cannot open" in cap.health.reason, timeout_s=10)
        seen = cap.stats().frames
        down_at = time.monotonic()
        camera.start()
        wait_for(lambda: cap.stats().frames > seen + 5, timeout_s=10)
        assert time.monotonic() - down_at < 5.0  # frames resume within 5 s of the camera returning
        assert cap.health.state == Health.OK and cap.stats().reconnects >= 1
    finally:
        cap.stop()


def test_unreachable_camera_is_a_clear_error():
    with pytest.raises(VideoError, match=r"127\.0\.0\.1:9/x: cannot be opened"):
        VideoSource("http://127.0.0.1:9/x", live=True, timeout_s=(1, 1))


def test_broken_cameras_do_not_disturb_the_others(camera, make_video, tmp_path):
    """One pipeline: an MJPEG camera, a good file, a file of garbage and a truncated file. The broken ones report
    a clear reason in their health; the others keep their detection rate."""
    from storewatch.runtime.camera import open_camera_source
    from storewatch.runtime.pipeline import Pipeline
    from tests.helpers import CountingDetector

    good = make_video("good.avi", frames=40, fps=20)
    garbage = tmp_path / "garbage.mp4"
    garbage.write_bytes(bytes(range(256)) * 64)
    truncated = make_video("truncated.avi", frames=40, fps=20)
    truncated.write_bytes(truncated.read_bytes()[:300])  # the header and hardly a frame
    locations = {"mjpeg": camera.url, "good": str(good), "garbage": str(garbage), "truncated": str(truncated)}
    cams = {CameraId(f"s1/{name}"): loc for name, loc in locations.items()}
    pipeline = Pipeline(
        {c: (lambda c=c, loc=loc: open_camera_source(loc, c)) for c, loc in cams.items()},
        CountingDetector(),
        detect_fps=5.0,
    )
    lanes = {str(lane.camera_id): lane for lane in pipeline.lanes}
    pipeline.start()
    try:
        time.sleep(3.0)
        health = {name: lanes[f"s1/{name}"].capture.health for name in locations}
        rates = {name: lanes[f"s1/{name}"].processed / 3.0 for name in locations}
    finally:
        pipeline.stop()
    assert health["garbage"].state != Health.OK and "garbage.mp4" in health["garbage"].reason
    assert "cannot be" in health["garbage"].reason  # opened / read: says what is wrong
    assert health["truncated"].state != Health.OK and "truncated.avi" in health["truncated"].reason
    assert rates["good"] >= 4.0 and rates["mjpeg"] >= 3.5  # the healthy cameras keep their 5 fps
