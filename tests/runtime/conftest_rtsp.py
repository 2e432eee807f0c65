"""A real RTSP camera for tests: ``tests/runtime/rtsp_server.py`` run by Debian's python3 on a free 127.0.0.1 port.

``rtsp_camera_serving`` is what a test module's fixture wraps. ``RtspCamera`` starts the server, can kill it (SIGKILL),
start it again on the same port, freeze it (SIGSTOP) and thaw it (SIGCONT); it is killed at teardown.
Without GStreamer's RTSP server (``tools/system-packages.sh`` installs it; ``make setup`` runs that) the tests skip
naming the missing package, unless we are root, where the set-up should have installed it: then they fail.
"""

from __future__ import annotations

import contextlib
import functools
import os
import select
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

SYSTEM_PYTHON = Path("/usr/bin/python3")
SERVER_SCRIPT = Path(__file__).with_name("rtsp_server.py")
READY_TIMEOUT_S = 10.0

PROBE = """
import sys
try:
    import gi
except ImportError:
    sys.exit("python3-gi")
try:
    gi.require_version("Gst", "1.0")
    gi.require_version("GstRtspServer", "1.0")
    from gi.repository import Gst, GstRtspServer
except (ImportError, ValueError):
    sys.exit("gir1.2-gst-rtsp-server-1.0")
Gst.init(None)
plugins = {
    "decodebin": "gstreamer1.0-plugins-base", "videoscale": "gstreamer1.0-plugins-base",
    "avidemux": "gstreamer1.0-plugins-good", "rtph264pay": "gstreamer1.0-plugins-good",
    "intervideosrc": "gstreamer1.0-plugins-bad", "x264enc": "gstreamer1.0-plugins-ugly",
    "avdec_msmpeg4": "gstreamer1.0-libav",
}
missing = sorted({pkg for element, pkg in plugins.items() if Gst.ElementFactory.find(element) is None})
if missing:
    sys.exit(" ".join(missing))
"""


@functools.cache
def missing_packages() -> str | None:
    """The Debian packages the RTSP server lacks (space-separated), or None when it can run."""
    if not SYSTEM_PYTHON.exists():
        return "python3"
    probe = subprocess.run([str(SYSTEM_PYTHON), "-c", PROBE], capture_output=True, text=True, timeout=60)
    if probe.returncode == 0:
        return None
    return probe.stderr.strip().splitlines()[-1] if probe.stderr.strip() else "python3-gi"


def require_rtsp_server() -> None:
    """Skip (or, as root, fail) the calling test when GStreamer's RTSP server cannot run here."""
    missing = missing_packages()
    if missing is None:
        return
    message = f"the RTSP camera needs the Debian package(s) {missing} (tools/system-packages.sh installs them)"
    if os.geteuid() == 0:
        pytest.fail(f"{message}; as root `make setup` should have installed them", pytrace=False)
    pytest.skip(message)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class RtspCamera:
    """The server process: ``start()``, ``kill()``, ``freeze()``, ``thaw()``; ``url`` stays the same throughout."""

    def __init__(self, video: Path, log_dir: Path) -> None:
        self.video = video
        self.port = free_port()
        self.log_dir = log_dir
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0

    @property
    def url(self) -> str:
        return f"rtsp://127.0.0.1:{self.port}/cam"

    @property
    def log(self) -> Path:
        """The server's stderr, this start."""
        return self.log_dir / f"rtsp-server-{self.starts}.log"

    def transports(self) -> list[str]:
        """The transport of every stream clients set up since the server started (``RTP/AVP/TCP;unicast;...``)."""
        lines = self.log.read_text(errors="replace").splitlines()
        return [line.removeprefix("setup transport=") for line in lines if line.startswith("setup transport=")]

    def start(self) -> float:
        """Start the server and wait for its ready line; returns the monotonic time it was ready."""
        assert self.proc is None, "the server is running"
        self.starts += 1
        log = self.log
        with log.open("wb") as stderr:
            proc = subprocess.Popen(
                [str(SYSTEM_PYTHON), str(SERVER_SCRIPT), str(self.video), str(self.port)],
                stdout=subprocess.PIPE,
                stderr=stderr,
            )
        self.proc = proc
        assert proc.stdout is not None
        deadline = time.monotonic() + READY_TIMEOUT_S
        line = b""
        while not line.endswith(b"\n"):
            left = deadline - time.monotonic()
            if left <= 0 or proc.poll() is not None or not select.select([proc.stdout], [], [], left)[0]:
                self.kill()
                raise AssertionError(f"the RTSP server did not get ready: {log.read_text(errors='replace')[-2000:]}")
            chunk = os.read(proc.stdout.fileno(), 256)
            if not chunk:
                continue
            line += chunk
        assert line.startswith(b"ready rtsp://"), line
        return time.monotonic()

    def kill(self) -> float:
        """SIGKILL the server (as a crash or a power cut would); returns the monotonic time it was dead."""
        assert self.proc is not None, "the server is not running"
        self.proc.send_signal(signal.SIGCONT)  # a frozen process dies only once it runs
        self.proc.kill()
        self.proc.wait(10)
        assert self.proc.stdout is not None
        self.proc.stdout.close()
        self.proc = None
        return time.monotonic()

    def freeze(self) -> float:
        """SIGSTOP: the sockets stay open and nothing is sent or answered."""
        assert self.proc is not None, "the server is not running"
        self.proc.send_signal(signal.SIGSTOP)
        return time.monotonic()

    def thaw(self) -> float:
        assert self.proc is not None, "the server is not running"
        self.proc.send_signal(signal.SIGCONT)
        return time.monotonic()


@contextlib.contextmanager
def rtsp_camera_serving(video: Path, log_dir: Path) -> Iterator[RtspCamera]:
    """The video served over RTSP on 127.0.0.1 (started), killed on exit; skips when the server cannot run.

    A test module makes it a fixture (a fixture imported from another module trips the linters)::

        @pytest.fixture
        def rtsp_camera(pets_video, tmp_path):
            with rtsp_camera_serving(pets_video, tmp_path) as camera:
                yield camera
    """
    require_rtsp_server()
    camera = RtspCamera(video, log_dir)
    camera.start()
    try:
        yield camera
    finally:
        if camera.proc is not None:
            camera.kill()
