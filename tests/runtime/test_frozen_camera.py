"""A camera process frozen with SIGSTOP keeps its socket open and sends nothing: detected within 5 s, and the
capture recovers after SIGCONT. The camera is a separate process (an endless MJPEG stream on 127.0.0.1)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time

import pytest

from storewatch.core import CameraId
from storewatch.runtime.backoff import Backoff
from storewatch.runtime.camera import CameraCapture
from storewatch.runtime.health import Health
from storewatch.runtime.queues import DropOldestQueue
from storewatch.video.source import VideoSource, stream_options
from tests.helpers import wait_for

SERVER = """
import sys, time, cv2, numpy as np
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
class H(BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Type", "multipart/x-mixed-replace; boundary=frame")
        self.end_headers()
        i = 0
        try:
            while True:
                img = np.full((120, 160, 3), 40, np.uint8); img[40:80, (4 * i) % 150:(4 * i) % 150 + 10] = 250
                jpg = cv2.imencode(".jpg", img)[1].tobytes()
                self.wfile.write(b"--frame\\r\\nContent-Type: image/jpeg\\r\\n")
                self.wfile.write(b"Content-Length: %d\\r\\n\\r\\n" % len(jpg))
                self.wfile.write(jpg + b"\\r\\n"); i += 1; time.sleep(0.05)
        except (BrokenPipeError, ConnectionResetError):
            pass
    def log_message(self, *a): pass
ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def camera_process():
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-c", SERVER, str(port)])
    deadline = time.monotonic() + 10
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            if time.monotonic() > deadline:
                proc.kill()
                raise
            time.sleep(0.05)
    yield proc, f"http://127.0.0.1:{port}/video"
    os.kill(proc.pid, signal.SIGCONT)
    proc.kill()
    proc.wait(5)


def test_frozen_camera_is_detected_and_recovers(camera_process):
    proc, url = camera_process
    cam = CameraId("s1/aisle")

    def factory() -> VideoSource:
        return VideoSource(url, cam, live=True, options=stream_options(url), timeout_s=(2, 2))

    cap = CameraCapture(cam, factory, DropOldestQueue(8), frame_timeout_s=2.0, backoff=Backoff(0.2, 1.0))
    cap.start()
    try:
        wait_for(lambda: cap.stats().frames >= 10)
        os.kill(proc.pid, signal.SIGSTOP)
        frozen_at = time.monotonic()
        wait_for(lambda: cap.check_watchdog() or cap.health.state != Health.OK, timeout_s=10)
        assert time.monotonic() - frozen_at < 5.0
        assert cap.health.state != Health.OK
        seen = cap.stats().frames
        os.kill(proc.pid, signal.SIGCONT)
        wait_for(lambda: cap.stats().frames > seen + 5, timeout_s=10)
        wait_for(lambda: cap.health.state == Health.OK)
    finally:
        cap.stop()
