"""Decoding a video file or stream into frames with identity and time.

PyAV (FFmpeg) does the decoding: it reads every container and codec a store's cameras and recorders produce, and
ships its own FFmpeg, so nothing else is installed.  This module adds what a product needs on top of it:

* clear errors for a missing, unreadable, empty or non-video file (``VideoError`` naming the file);
* corrupt frames are *skipped and counted*, not passed on: a frame is corrupt when the decoder raises while
  decoding its packet, flags the frame as corrupt, or logs an error while decoding it (many decoders conceal
  damage silently and only say so in their log);
* each frame carries ``FrameMeta``: camera id, sequence number (decode order, skipped frames included), source
  time in seconds and a wall-clock UTC time.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from storewatch.core.frame import FrameMeta
from storewatch.core.ids import CameraId
from storewatch.errors import VideoError

_URL_SCHEMES = ("rtsp://", "rtsps://", "http://", "https://", "rtmp://", "udp://", "tcp://", "srt://")
_AV_LOG_ERROR = 16


@dataclass(frozen=True, slots=True)
class Frame:
    """A decoded BGR image (H x W x 3, uint8) and its metadata."""

    image: NDArray[np.uint8]
    meta: FrameMeta


@dataclass(slots=True)
class DecodeStats:
    """What happened while decoding: frames delivered and frames skipped as corrupt (by sequence number)."""

    delivered: int = 0
    corrupt: int = 0
    corrupt_seqs: list[int] = field(default_factory=list)
    """Sequence numbers of skipped frames (the first 1000)."""

    def skip(self, seq: int) -> None:
        self.corrupt += 1
        if len(self.corrupt_seqs) < 1000:
            self.corrupt_seqs.append(seq)


def is_url(location: str) -> bool:
    return location.lower().startswith(_URL_SCHEMES)


def check_video_file(path: Path) -> None:
    """Raise ``VideoError`` naming ``path`` if it is missing, not a file, unreadable or empty."""
    if not path.exists():
        raise VideoError(f"{path}: no such file")
    if not path.is_file():
        raise VideoError(f"{path}: not a file")
    if not os.access(path, os.R_OK):
        raise VideoError(f"{path}: not readable (permission denied)")
    if path.stat().st_size == 0:
        raise VideoError(f"{path}: the file is empty")


class VideoSource:
    """Frames of one video file or stream, in decode order.

    Iterate once with ``frames()``; ``stats`` tells how many frames were delivered and skipped.  ``start_utc``
    is the wall-clock time of the first frame (for files; default: now).
    """

    def __init__(
        self,
        location: str | Path,
        camera_id: CameraId | str = "local/cam",
        *,
        start_utc: datetime | None = None,
        decoder_threads: int = 1,
        live: bool = False,
        options: dict[str, str] | None = None,
        timeout_s: tuple[float, float] = (10.0, 5.0),
        on_packet: Callable[[Any], None] | None = None,
    ) -> None:
        """``live``: stamp frames with the capture time (monotonic and UTC now) instead of the stream's time;
        ``options``: FFmpeg options (e.g. ``rtsp_transport=tcp``); ``timeout_s``: (open, read) timeouts, so a
        stalled network read ends instead of blocking forever; ``on_packet`` sees every encoded packet before it is
        decoded (for the recording ring)."""
        import av

        self.location = str(location)
        self.camera_id = CameraId(str(camera_id))
        self.start_utc = start_utc or datetime.now(UTC)
        self.stats = DecodeStats()
        self.live = live
        self._on_packet = on_packet
        device = v4l2_device(self.location)
        if device is not None:
            if not Path(device).exists():
                raise VideoError(f"{device}: no such camera device (is the USB camera plugged in?)")
            self.location = device
        elif not is_url(self.location):
            check_video_file(Path(self.location))
        try:
            self._container: Any = av.open(
                self.location, format="v4l2" if device else None, options=options or {}, timeout=timeout_s
            )
        except av.error.FFmpegError as exc:
            raise VideoError(f"{self.location}: cannot be opened as video ({_reason(exc)})") from exc
        if not self._container.streams.video:
            self._container.close()
            raise VideoError(f"{self.location}: has no video stream")
        self._stream = self._container.streams.video[0]
        # Frame threading reorders decoder log messages relative to packets; slice threading does not.
        self._stream.thread_type = "SLICE"
        self._stream.codec_context.thread_count = decoder_threads
        self.width = int(self._stream.codec_context.width)
        self.height = int(self._stream.codec_context.height)
        rate = self._stream.average_rate or self._stream.guessed_rate
        self.fps = float(rate) if rate else 0.0
        self.frame_count = int(self._stream.frames or 0)
        """Frames the container declares (0 when unknown, as for live streams)."""

    def __enter__(self) -> VideoSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._container.close()

    def frames(self) -> Iterator[Frame]:
        """Decode and yield frames; corrupt ones are skipped and counted in ``stats``."""
        import av
        import av.logging

        seq = 0
        previous_level = av.logging.get_level()
        av.logging.set_level(av.logging.ERROR)
        try:
            for packet in self._demux():
                if self._on_packet is not None:
                    self._on_packet(packet)
                with av.logging.Capture() as logs:
                    try:
                        decoded = packet.decode()
                        failed = False
                    except av.error.FFmpegError:
                        decoded, failed = [], True
                damaged = failed or any(
                    lvl <= _AV_LOG_ERROR and name != self._container.format.name for lvl, name, _ in logs
                )
                if failed and not decoded:
                    self.stats.skip(seq)
                    seq += 1
                    continue
                for frame in decoded:
                    if damaged or frame.is_corrupt:
                        self.stats.skip(seq)
                    else:
                        yield self._to_frame(frame, seq)
                    seq += 1
        finally:
            av.logging.set_level(previous_level)
        if self.stats.delivered == 0:
            raise VideoError(f"{self.location}: contains no decodable video frames")

    def _demux(self) -> Iterator[Any]:
        import av

        try:
            yield from self._container.demux(self._stream)
        except av.error.FFmpegError as exc:
            # A damaged container (e.g. a truncated file): keep what was decoded, stop reading.
            if self.stats.delivered == 0:
                raise VideoError(f"{self.location}: cannot be read ({_reason(exc)})") from exc

    def _to_frame(self, frame: Any, seq: int) -> Frame:
        t = frame.time
        if t is None:
            t = seq / self.fps if self.fps > 0 else float(seq)
        image: NDArray[np.uint8] = frame.to_ndarray(format="bgr24")
        self.stats.delivered += 1
        mono, utc = (
            (time.monotonic(), datetime.now(UTC))
            if self.live
            else (float(t), self.start_utc + timedelta(seconds=float(t)))
        )
        meta = FrameMeta(
            camera_id=self.camera_id,
            seq=seq,
            mono_s=mono,
            utc=utc,
            width=image.shape[1],
            height=image.shape[0],
            pts_s=float(frame.time) if frame.time is not None else None,
        )
        return Frame(image, meta)


def _reason(exc: Exception) -> str:
    text = getattr(exc, "strerror", None) or str(exc)
    return str(text).strip()


PROBE_US = "500000"
"""How long FFmpeg studies a live stream before the first frame (microseconds): its default (5 s of analysis,
about 2.8 s in practice) made every reconnect slow; half a second finds a camera's one video stream."""


def stream_options(location: str, *, rtsp_transport: str = "tcp") -> dict[str, str]:
    """FFmpeg options that make a camera stream behave: RTSP over TCP (or UDP), little input buffering, a short
    stream analysis (fast reconnects).

    >>> stream_options("rtsp://192.0.2.1/live", rtsp_transport="udp")
    {'rtsp_transport': 'udp', 'fflags': 'nobuffer', 'analyzeduration': '500000'}
    >>> stream_options("/recordings/cam1.mp4")
    {}
    """
    if rtsp_transport not in ("tcp", "udp"):
        raise ValueError(f"rtsp_transport must be tcp or udp, got {rtsp_transport!r}")
    lower = location.lower()
    if lower.startswith(("rtsp://", "rtsps://")):
        return {"rtsp_transport": rtsp_transport, "fflags": "nobuffer", "analyzeduration": PROBE_US}
    if lower.endswith(".m3u8") or ".m3u8?" in lower:
        return {}  # HLS: segments arrive whole; no-buffer flags only make the demuxer poll
    if is_url(location):
        return {"fflags": "nobuffer", "analyzeduration": PROBE_US}
    return {}


def v4l2_device(location: str) -> str | None:
    """The device path of a USB/V4L2 camera location (``/dev/video0`` or ``v4l2:///dev/video0``), else None.

    >>> v4l2_device("v4l2:///dev/video2"), v4l2_device("/dev/video0"), v4l2_device("rtsp://x/y")
    ('/dev/video2', '/dev/video0', None)
    """
    if location.lower().startswith("v4l2://"):
        return location[len("v4l2://") :]
    if location.startswith("/dev/video"):
        return location
    return None
