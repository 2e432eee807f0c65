"""Reading a camera's main (high-resolution) stream without decoding it: packets for the ring and the recorder.

When a camera offers a sub-stream, detection decodes only that; the main stream is kept as it arrives (encoded),
which costs almost no CPU however large it is. The reader reconnects with jittered exponential backoff like the
frame capture does, and a file is played at real time and looped (the demo and tests' stand-in for a camera).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from storewatch.core.ids import CameraId
from storewatch.runtime.backoff import Backoff
from storewatch.video.source import is_url, stream_options

log = logging.getLogger(__name__)


class MainStreamReader:
    """``start()``/``stop()``; every demuxed video packet goes to ``on_packet`` (e.g. a ``PacketCapture``)."""

    def __init__(
        self,
        location: str,
        camera_id: CameraId | str,
        on_packet: Callable[[Any], None],
        *,
        backoff: Backoff | None = None,
        timeout_s: tuple[float, float] = (10.0, 5.0),
        rtsp_transport: str = "tcp",
    ) -> None:
        self.location, self.camera_id = location, CameraId(str(camera_id))
        self._on_packet = on_packet
        self._backoff = backoff or Backoff()
        self._timeout_s = timeout_s
        self._options = stream_options(location, rtsp_transport=rtsp_transport)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.packets = 0
        self.reconnects = 0
        self.last_error = ""

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name=f"main-stream:{self.camera_id}", daemon=True)
        self._thread.start()

    def stop(self, timeout_s: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout_s)

    def _run(self) -> None:
        import av

        live = is_url(self.location)
        while not self._stop.is_set():
            try:
                with av.open(self.location, options=self._options, timeout=self._timeout_s) as c:
                    stream = c.streams.video[0]
                    start, first = time.monotonic(), None
                    for packet in c.demux(stream):
                        if self._stop.is_set():
                            return
                        if packet.size == 0:
                            continue
                        if not live and packet.pts is not None:  # a file: at real time
                            t = float(packet.pts * packet.time_base)
                            first = t if first is None else first
                            delay = start + (t - first) - time.monotonic()
                            if delay > 0 and self._stop.wait(delay):
                                return
                        self._on_packet(packet)
                        self.packets += 1
                        self._backoff.reset()
                self.last_error = "stream ended"
            except (av.error.FFmpegError, OSError, IndexError) as exc:
                self.last_error = str(exc) or type(exc).__name__
            if self._stop.is_set():
                return
            self.reconnects += 1
            delay = 0.0 if not live and self.last_error == "stream ended" else self._backoff.next_delay()
            log.info("%s main stream: %s; reopening in %.1f s", self.camera_id, self.last_error, delay)
            self._stop.wait(delay)
