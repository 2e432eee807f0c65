"""HTTP cameras besides MJPEG, served for real on 127.0.0.1: H.264 in MPEG-TS over HTTP, and HLS playlists."""

from __future__ import annotations

import functools
import threading
from collections.abc import Iterator
from fractions import Fraction
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import av
import numpy as np
import pytest

from storewatch.core import CameraId
from storewatch.runtime.camera import CameraCapture, open_camera_source
from storewatch.runtime.health import Health
from storewatch.runtime.queues import DropOldestQueue
from storewatch.video.source import Frame
from tests.conftest import write_video
from tests.helpers import wait_for


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def http_dir(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(tmp_path)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield tmp_path, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _write_hls(folder: Path, frames: int = 40, fps: int = 10) -> None:
    with av.open(str(folder / "index.m3u8"), "w", format="hls", options={"hls_time": "1", "hls_list_size": "0"}) as out:
        stream = out.add_stream("libx264", rate=fps, options={"g": str(fps)})
        stream.width, stream.height, stream.pix_fmt = 160, 120, "yuv420p"
        for i in range(frames):
            img = np.full((120, 160, 3), 60, np.uint8)
            img[40:80, 3 * i % 140 : 3 * i % 140 + 12] = 240
            frame = av.VideoFrame.from_ndarray(img, format="bgr24")
            frame.pts, frame.time_base = i, Fraction(1, fps)
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)


def _capture(url: str) -> tuple[CameraCapture, DropOldestQueue[Frame]]:
    frames: DropOldestQueue[Frame] = DropOldestQueue(64)
    cid = CameraId("s/http")
    return CameraCapture(cid, lambda: open_camera_source(url, cid), frames), frames


@pytest.mark.parametrize("kind", ["mpegts", "hls"])
def test_h264_over_http_is_captured_live(http_dir: tuple[Path, str], kind: str):
    folder, base = http_dir
    if kind == "mpegts":
        write_video(folder / "cam.ts", frames=40, size=(160, 120), codec="libx264")
        url = f"{base}/cam.ts"
    else:
        _write_hls(folder)
        assert len(list(folder.glob("*.ts"))) >= 3  # a real multi-segment playlist
        url = f"{base}/index.m3u8"
    cap, frames = _capture(url)
    cap.start()
    try:
        wait_for(lambda: cap.stats().frames >= 20, timeout_s=10)
        assert cap.health.state in (Health.OK, Health.DEGRADED)  # DEGRADED once a finite stream has ended
        frame = frames.get(timeout=1)
        assert frame.image.shape == (120, 160, 3) and frame.meta.camera_id == "s/http"
    finally:
        cap.stop()
