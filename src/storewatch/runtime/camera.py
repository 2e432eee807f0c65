"""Capturing one camera in its own thread: reconnects with backoff, a frame-age watchdog, health, counted drops.

The capture thread opens the camera's source, pushes every frame into a ``DropOldestQueue`` (so a slow consumer
costs the oldest frames, counted, never memory or latency), and when the source fails or ends it waits an
exponentially growing, jittered delay and opens it again. Consecutive failures mark the camera ``degraded``, then
``offline``; the first frame after a failure marks it ``ok`` again. ``check_watchdog`` (called periodically by the
supervisor) marks a camera whose last frame is older than ``frame_timeout_s`` as degraded: a frozen stream that
keeps its socket open. Network sources must also set a read timeout so a blocked read ends (PyAV's ``timeout``).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from storewatch.core.ids import CameraId
from storewatch.runtime.backoff import Backoff
from storewatch.runtime.health import Health, HealthStatus, HealthTracker
from storewatch.runtime.queues import DropOldestQueue
from storewatch.video.source import Frame, VideoSource


class FrameSource(Protocol):
    def frames(self) -> Iterator[Frame]: ...

    def close(self) -> None: ...


SourceFactory = Callable[[], FrameSource]
RECOVERY_FRAMES = 3
"""Frames in a row that show a frozen stream flows again."""
PacketHook = Callable[[Any], None]
HookedSourceFactory = Callable[[PacketHook], FrameSource]
"""Opens a camera's source, handing every encoded packet to the hook (the camera's recording ring)."""


def open_camera_source(
    location: str, camera_id: CameraId, on_packet: PacketHook | None = None, *, rtsp_transport: str = "tcp"
) -> FrameSource:
    """A live source for a camera: network streams (RTSP over ``rtsp_transport``, HTTP MJPEG/MPEG-TS/HLS) and
    USB/V4L2 devices with capture-time stamps and timeouts; a file played as a live camera, looped."""
    from storewatch.video.source import is_url, stream_options, v4l2_device

    if v4l2_device(location) is not None:
        return VideoSource(location, camera_id, live=True, on_packet=on_packet)
    if is_url(location):
        options = stream_options(location, rtsp_transport=rtsp_transport)
        return VideoSource(location, camera_id, live=True, options=options, on_packet=on_packet)
    return LiveFileSource(location, camera_id, loop=True, on_packet=on_packet)


@dataclass(frozen=True, slots=True)
class CaptureStats:
    frames: int
    reconnects: int
    consecutive_failures: int
    dropped_frames: int
    last_frame_age_s: float | None


def _utc_now() -> datetime:
    return datetime.now(UTC)


class CameraCapture:
    """One camera's capture thread. ``start()``, ``stop()``, and read ``health`` / ``stats()`` at any time."""

    def __init__(
        self,
        camera_id: CameraId | str,
        open_source: SourceFactory,
        out: DropOldestQueue[Frame],
        *,
        frame_timeout_s: float = 4.0,
        offline_after_failures: int = 5,
        backoff: Backoff | None = None,
    ) -> None:
        self.camera_id = CameraId(str(camera_id))
        self._open = open_source
        self.out = out
        self.frame_timeout_s = frame_timeout_s
        self.offline_after_failures = offline_after_failures
        self._backoff = backoff or Backoff()
        self._health = HealthTracker(_utc_now())
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._frames = 0
        self._reconnects = 0
        self._failures = 0
        self._stalled_frames: int | None = None
        """Frames seen since the watchdog found the stream frozen (None: it has not, or it recovered)."""
        self._last_frame_mono: float | None = None

    # --- lifecycle -------------------------------------------------------------------------------------------
    def start(self) -> None:
        if self._thread is not None:
            raise RuntimeError(f"camera {self.camera_id} already started")
        self._thread = threading.Thread(target=self._run, name=f"capture:{self.camera_id}", daemon=True)
        self._thread.start()

    def stop(self, timeout_s: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout_s)

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    # --- views -----------------------------------------------------------------------------------------------
    @property
    def health(self) -> HealthStatus:
        return self._health.status

    def stats(self) -> CaptureStats:
        with self._lock:
            age = None if self._last_frame_mono is None else time.monotonic() - self._last_frame_mono
            return CaptureStats(self._frames, self._reconnects, self._failures, self.out.dropped, age)

    def check_watchdog(self, now_mono: float | None = None) -> bool:
        """Mark the camera degraded when its last frame is too old; True when it is."""
        now = time.monotonic() if now_mono is None else now_mono
        with self._lock:
            last = self._last_frame_mono
        if last is None or now - last <= self.frame_timeout_s:
            return False
        with self._lock:
            self._stalled_frames = 0
        if self._health.status.state == Health.OK:
            self._health.set(
                Health.DEGRADED, f"no frame for over {self.frame_timeout_s:g} s (stream frozen?)", _utc_now()
            )
        return True

    # --- the thread ------------------------------------------------------------------------------------------
    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                source = self._open()
            except Exception as exc:  # any failure to open is a reason to retry, reported in health
                self._failed(f"cannot open: {exc}")
                continue
            try:
                for frame in source.frames():
                    self._on_frame(frame)
                    if self._stop.is_set():
                        break
                else:
                    self._failed("stream ended")
            except Exception as exc:  # a broken stream: reconnect
                self._failed(f"read error: {exc}")
            finally:
                source.close()

    def _on_frame(self, frame: Frame) -> None:
        with self._lock:
            self._frames += 1
            self._last_frame_mono = time.monotonic()
            self._failures = 0
            if self._stalled_frames is not None:
                # After a freeze the stream is ok again only when frames flow: one stale frame, which a decoder
                # hands over when its read times out, must not clear the alarm.
                self._stalled_frames += 1
                if self._stalled_frames < RECOVERY_FRAMES:
                    self.out.put(frame)
                    return
                self._stalled_frames = None
        self._backoff.reset()
        self._health.set(Health.OK, "streaming", _utc_now())
        self.out.put(frame)

    def _failed(self, reason: str) -> None:
        if self._stop.is_set():
            return
        with self._lock:
            self._failures += 1
            self._reconnects += 1
            failures = self._failures
        state = Health.OFFLINE if failures >= self.offline_after_failures else Health.DEGRADED
        delay = self._backoff.next_delay()
        # The reason stays the same from one retry to the next (the count is in ``stats()``), so "since" tells how
        # long the camera has been in trouble, not when the last retry was.
        self._health.set(state, f"{reason}; reconnecting", _utc_now())
        self._stop.wait(delay)


class LiveFileSource:
    """A video file played as a live camera: paced at real time (times ``speed``), re-stamped with capture
    times, looped if asked. Used for the demo, tests and benchmarks."""

    def __init__(
        self,
        path: Path | str,
        camera_id: CameraId | str,
        *,
        loop: bool = True,
        speed: float = 1.0,
        on_packet: Callable[[Any], None] | None = None,
    ) -> None:
        if speed <= 0:
            raise ValueError("speed must be positive")
        self.path, self.camera_id, self.loop, self.speed = str(path), CameraId(str(camera_id)), loop, speed
        self._on_packet = on_packet
        self._seq = 0
        self._closed = False

    def frames(self) -> Iterator[Frame]:
        while not self._closed:
            with VideoSource(self.path, self.camera_id, on_packet=self._on_packet) as video:
                start_mono, first_t = time.monotonic(), None
                for frame in video.frames():
                    first_t = frame.meta.mono_s if first_t is None else first_t
                    due = start_mono + (frame.meta.mono_s - first_t) / self.speed
                    delay = due - time.monotonic()
                    if delay > 0:
                        time.sleep(delay)
                    if self._closed:
                        return
                    now = time.monotonic()
                    meta = replace(frame.meta, seq=self._seq, mono_s=now, utc=_utc_now(), pts_s=frame.meta.pts_s)
                    self._seq += 1
                    yield Frame(frame.image, meta)
            if not self.loop:
                return

    def close(self) -> None:
        self._closed = True
