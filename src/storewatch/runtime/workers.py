"""Capturing a camera in a worker process; frames reach the parent through a ring of shared-memory slots.

Why a process: decoding in a thread holds the same GIL as the detector thread, so on a small machine capture and
detection slow each other down; in a process, decoding runs beside them. The worker runs the same capture logic as
the thread version (``CameraCapture`` over ``open_camera_source``: reconnects, backoff, health). ``ProcessCapture``
has the public surface of ``CameraCapture`` so the pipeline can use either; a ``Supervisor``
(``runtime/supervisor.py``) restarts dead workers within a restart budget.

The hand-over is written here because no library passes numpy frames between two processes without pickling them
(``multiprocessing.shared_memory`` only gives raw segments):

* The parent creates every segment (named ``storewatch-<parent pid>-<random>``) when the worker asks for a ring
  (first frame, or the resolution changed), and the parent alone unlinks it: a worker killed at any moment leaks
  nothing. A pipe carries the per-frame metadata, health changes and a heartbeat.
* Each slot starts with an int64 stamp: the worker writes -1, the pixels, then the frame's write number; the
  parent checks the stamp before and after copying the pixels out (one copy: the slot is reused). A frame the
  worker overwrote before the parent read it (the ring lapped a stalled parent) is dropped and counted
  (``ring_drops``): the ring is drop-oldest too. The worker's capture thread writes each frame straight into the
  ring (no queue, no extra thread hop); if the parent stops reading and the pipe fills, the worker drops the new
  frame rather than stall capture (``worker_drops``). Every drop is counted.

Workers start with "forkserver" (default, fast restarts: modules are preloaded) or "spawn", never "fork": the
parent runs onnxruntime threads.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import secrets
import select
import signal
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from functools import partial
from multiprocessing.connection import Connection
from multiprocessing.context import ForkServerContext, SpawnContext
from multiprocessing.process import BaseProcess
from multiprocessing.shared_memory import SharedMemory
from typing import NamedTuple

import numpy as np
from numpy.typing import NDArray

from storewatch.core.frame import FrameMeta
from storewatch.core.ids import CameraId
from storewatch.runtime.backoff import Backoff
from storewatch.runtime.camera import CameraCapture, CaptureStats, open_camera_source
from storewatch.runtime.health import Health, HealthStatus, HealthTracker
from storewatch.runtime.queues import DropOldestQueue
from storewatch.video.source import Frame

log = logging.getLogger(__name__)

SHM_PREFIX = "storewatch-"
"""Shared-memory segments are named ``storewatch-<parent pid>-<random>`` (``/dev/shm`` on Linux)."""
EXIT_FAULT = 70
"""Exit code of a worker started with ``WorkerFault.EXIT_ON_START``."""
_HEADER_BYTES = 64


class WorkerFault(StrEnum):
    """Faults a worker injects on purpose, for tests and drills only."""

    NONE = "none"
    EXIT_ON_START = "exit_on_start"
    """The worker process exits (code ``EXIT_FAULT``) as soon as it starts, like a decoder that crashes."""


@dataclass(frozen=True, slots=True)
class CaptureSpec:
    """Everything a worker needs, picklable: the camera, where to read it, and capture options."""

    camera_id: str
    location: str
    """A stream URL or a file path (a file is played as a live camera, looped)."""
    rtsp_transport: str = "tcp"
    frame_timeout_s: float = 4.0
    offline_after_failures: int = 5
    reconnect_initial_s: float = 0.5
    reconnect_max_s: float = 30.0
    ring_slots: int = 4
    heartbeat_s: float = 1.0
    fault: WorkerFault = WorkerFault.NONE

    def __post_init__(self) -> None:
        if self.ring_slots < 2:
            raise ValueError(f"ring_slots must be >= 2, got {self.ring_slots}")
        if min(self.frame_timeout_s, self.reconnect_initial_s, self.heartbeat_s) <= 0:
            raise ValueError("frame_timeout_s, reconnect_initial_s and heartbeat_s must be positive")


@dataclass(frozen=True, slots=True)
class WorkerStats(CaptureStats):
    """``CaptureStats`` plus the process's own counters; ``dropped_frames`` counts every kind of drop."""

    restarts: int = 0
    ring_drops: int = 0
    """Frames overwritten in the shared ring before the parent read them."""
    worker_drops: int = 0
    """Frames dropped in the worker while the pipe to the parent was full."""
    pid: int | None = None
    last_heard_age_s: float | None = None
    """Seconds since the worker last sent anything (frame or heartbeat)."""


# --- wire messages (worker <-> parent) -----------------------------------------------------------------------------
class _RingRequest(NamedTuple):
    shape: tuple[int, ...]


class _RingReply(NamedTuple):
    name: str


class _FrameMsg(NamedTuple):
    slot: int
    wno: int
    seq: int
    mono_s: float
    utc_s: float
    pts_s: float | None


class _StatusMsg(NamedTuple):
    changed: bool
    """The health changed (else a heartbeat with counters)."""
    state: str
    reason: str
    since_utc_s: float
    frames: int
    reconnects: int
    failures: int
    drops: int


class _Stop(NamedTuple):
    pass


class _Ring:
    """Views on a segment of ``slots`` slots, each a 64-byte header (int64 stamp) and one HxWx3 uint8 image."""

    def __init__(self, shm: SharedMemory, shape: tuple[int, ...], slots: int, *, owner: bool) -> None:
        self.shm, self.shape, self.owner = shm, shape, owner
        stride = _slot_bytes(shape)
        self.stamps: NDArray[np.int64] = np.ndarray((slots,), np.int64, shm.buf, 0, (stride,))
        self.images: list[NDArray[np.uint8]] = [
            np.ndarray(shape, np.uint8, shm.buf, i * stride + _HEADER_BYTES) for i in range(slots)
        ]

    @classmethod
    def create(cls, shape: tuple[int, ...], slots: int) -> _Ring:
        name = f"{SHM_PREFIX}{os.getpid()}-{secrets.token_hex(6)}"
        ring = cls(SharedMemory(name, create=True, size=slots * _slot_bytes(shape)), shape, slots, owner=True)
        ring.stamps[:] = -1
        return ring

    def read(self, slot: int, wno: int) -> NDArray[np.uint8] | None:
        """A copy of the slot's image if it still holds frame ``wno`` (None when it was overwritten)."""
        if self.stamps[slot] != wno:
            return None
        image = self.images[slot].copy()
        return image if self.stamps[slot] == wno else None

    def write(self, slot: int, wno: int, image: NDArray[np.uint8]) -> None:
        self.stamps[slot] = -1
        np.copyto(self.images[slot], image)
        self.stamps[slot] = wno

    def close(self) -> None:
        """Drop the views, unmap; the owner also unlinks the segment."""
        del self.stamps, self.images
        self.shm.close()
        if self.owner:
            self.shm.unlink()


def _slot_bytes(shape: tuple[int, ...]) -> int:
    return _HEADER_BYTES + -(-int(np.prod(shape)) // 64) * 64


# --- the worker process --------------------------------------------------------------------------------------------
class _StopRequestedError(Exception):
    pass


class _RingSink(DropOldestQueue[Frame]):
    """Where the worker's ``CameraCapture`` puts frames: straight into the shared ring, from the capture thread.

    ``put`` copies the frame into the next slot and sends its metadata; it never blocks on a stalled parent: when
    the pipe is full the frame is dropped and counted. Only the worker's main thread reads the pipe; it hands the
    parent's ring replies over through ``offer_ring``.
    """

    def __init__(self, conn: Connection, slots: int) -> None:
        super().__init__(1)
        self._conn, self._slots = conn, slots
        self._send_lock = threading.Lock()
        self._writable = select.poll()
        self._writable.register(conn.fileno(), select.POLLOUT)
        self._ring: _Ring | None = None
        self._reply: str | None = None
        self._replied = threading.Event()
        self._wno = 0
        self._drops = 0

    def put(self, item: Frame) -> bool:
        if self._ring is None or self._ring.shape != item.image.shape:
            self._attach(item.image.shape)
        if self._ring is None or not self._writable.poll(0):
            self._drops += 1
            return True
        slot = self._wno % self._slots
        self._ring.write(slot, self._wno, item.image)
        m = item.meta
        self.send(_FrameMsg(slot, self._wno, m.seq, m.mono_s, m.utc.timestamp(), m.pts_s))
        self._wno += 1
        return False

    @property
    def dropped(self) -> int:
        return self._drops

    def send(self, msg: object) -> None:
        with self._send_lock:
            self._conn.send(msg)

    def offer_ring(self, name: str | None) -> None:
        """The parent's reply to a ring request (None: stop waiting, the worker is stopping)."""
        self._reply = name
        self._replied.set()

    def _attach(self, shape: tuple[int, ...]) -> None:
        self.close()
        self._replied.clear()
        self.send(_RingRequest(shape))
        self._replied.wait(10.0)
        if self._reply is not None:
            self._ring = _Ring(SharedMemory(self._reply), shape, self._slots, owner=False)

    def close(self) -> None:
        if self._ring is not None:
            self._ring.close()
            self._ring = None


def _worker_main(spec: CaptureSpec, conn: Connection) -> None:
    """Entry point of a worker process: capture, hand frames over, report status; exits when told or orphaned."""
    if spec.fault is WorkerFault.EXIT_ON_START:
        os._exit(EXIT_FAULT)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole group: the parent decides
    cid = CameraId(spec.camera_id)
    sink = _RingSink(conn, spec.ring_slots)
    backoff = Backoff(spec.reconnect_initial_s, max(spec.reconnect_max_s, spec.reconnect_initial_s))
    capture = CameraCapture(
        cid,
        partial(open_camera_source, spec.location, cid, rtsp_transport=spec.rtsp_transport),
        sink,
        frame_timeout_s=spec.frame_timeout_s,
        offline_after_failures=spec.offline_after_failures,
        backoff=backoff,
    )
    capture.start()
    try:
        _serve_parent(spec, capture, sink, conn)
    except (_StopRequestedError, EOFError, BrokenPipeError, ConnectionResetError):
        pass  # asked to stop, or the parent is gone
    except Exception:  # the top of the worker: log with the camera, exit non-zero, the supervisor decides
        log.exception("camera %s: capture worker failed", cid)
        raise SystemExit(1) from None
    finally:
        sink.offer_ring(None)
        capture.stop(2.0)
        sink.close()


def _serve_parent(spec: CaptureSpec, capture: CameraCapture, sink: _RingSink, conn: Connection) -> None:
    """The worker's main thread: the only reader of the pipe; sends health changes and heartbeats."""
    initial = capture.health  # "not started": the parent knows better (e.g. why this worker was restarted)
    last_status, next_beat = (initial.state, initial.reason), 0.0
    while True:
        if conn.poll(0.05):
            msg = conn.recv()
            if isinstance(msg, _Stop):
                raise _StopRequestedError
            if isinstance(msg, _RingReply):
                sink.offer_ring(msg.name)
        health, now = capture.health, time.monotonic()
        changed = (health.state, health.reason) != last_status
        if changed or now >= next_beat:
            s = capture.stats()
            since = health.since_utc.timestamp()
            counts = (s.frames, s.reconnects, s.consecutive_failures, s.dropped_frames)
            sink.send(_StatusMsg(changed, health.state, health.reason, since, *counts))
            last_status, next_beat = (health.state, health.reason), now + spec.heartbeat_s


# --- the parent's side ---------------------------------------------------------------------------------------------
def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(slots=True)
class _Counters:
    frames: int = 0
    ring_drops: int = 0
    restarts: int = 0
    reconnects_done: int = 0
    """Reconnects of earlier worker processes."""
    worker_drops_done: int = 0
    reconnects: int = 0
    failures: int = 0
    worker_drops: int = 0
    frames_this_worker: int = 0
    last_frame_mono: float | None = None
    last_heard_mono: float | None = None


class ProcessCapture:
    """One camera captured in a worker process: ``start()``, ``stop()``; ``health`` and ``stats()`` at any time.

    Alone it does not restart a dead worker; add it to a ``Supervisor`` for that.
    """

    def __init__(self, spec: CaptureSpec, out: DropOldestQueue[Frame], *, start_method: str = "forkserver") -> None:
        if start_method not in ("forkserver", "spawn"):
            raise ValueError(f"start_method must be 'forkserver' or 'spawn' (never 'fork'), got {start_method!r}")
        self.spec = spec
        self.camera_id = CameraId(spec.camera_id)
        self.out = out
        self.frame_timeout_s = spec.frame_timeout_s
        self._ctx: SpawnContext | ForkServerContext
        if start_method == "forkserver":
            self._ctx = multiprocessing.get_context("forkserver")
            self._ctx.set_forkserver_preload([__name__, "av", "numpy"])
        else:
            self._ctx = multiprocessing.get_context("spawn")
        self._health = HealthTracker(_utc_now())
        self._lock = threading.Lock()
        self._life = threading.RLock()
        self._c = _Counters()
        self._proc: BaseProcess | None = None
        self._conn: Connection | None = None
        self._receiver: threading.Thread | None = None
        self._started = self._stopped = False

    # --- lifecycle -------------------------------------------------------------------------------------------
    def start(self) -> None:
        with self._life:
            if self._started:
                raise RuntimeError(f"camera {self.camera_id} already started")
            self._started = True
            self._spawn()

    def stop(self, timeout_s: float = 5.0) -> None:
        """Ask the worker to stop; terminate, then kill it if it has not within ``timeout_s``. Idempotent."""
        with self._life:
            self._stopped = True
            self.request_stop()
            self._halt(timeout_s)
            self._health.set(Health.OFFLINE, "stopped", _utc_now())

    @property
    def alive(self) -> bool:
        proc = self._proc
        return proc is not None and proc.is_alive()

    @property
    def started(self) -> bool:
        return self._started

    @property
    def wanted(self) -> bool:
        """Started and not stopped: a dead worker should be restarted."""
        return self._started and not self._stopped

    @property
    def sentinel(self) -> int | None:
        """A handle that becomes ready when the worker process ends (for ``multiprocessing.connection.wait``)."""
        proc = self._proc
        return None if proc is None else proc.sentinel

    # --- views -----------------------------------------------------------------------------------------------
    @property
    def health(self) -> HealthStatus:
        return self._health.status

    def stats(self) -> WorkerStats:
        now = time.monotonic()
        with self._lock:
            c = self._c
            age = None if c.last_frame_mono is None else now - c.last_frame_mono
            heard = None if c.last_heard_mono is None else now - c.last_heard_mono
            worker_drops = c.worker_drops_done + c.worker_drops
            dropped = self.out.dropped + c.ring_drops + worker_drops
            reconnects = c.reconnects_done + c.reconnects
            restarts, ring_drops = c.restarts, c.ring_drops
            frames, failures = c.frames, c.failures
        pid = self._proc.pid if self._proc is not None else None
        return WorkerStats(frames, reconnects, failures, dropped, age, restarts, ring_drops, worker_drops, pid, heard)

    def check_watchdog(self, now_mono: float | None = None) -> bool:
        """Mark the camera degraded when its last frame is too old; True when it is."""
        now = time.monotonic() if now_mono is None else now_mono
        with self._lock:
            last = self._c.last_frame_mono
        if last is None or now - last <= self.frame_timeout_s:
            return False
        if self._health.status.state == Health.OK:
            self._health.set(Health.DEGRADED, f"no frame for {now - last:.1f} s (stream frozen?)", _utc_now())
        return True

    # --- for the supervisor ----------------------------------------------------------------------------------
    def mark(self, state: Health, reason: str) -> None:
        """Set the health from outside (the supervisor's view of a dead worker); ignored once stopped."""
        with self._life:
            if self.wanted:
                self._health.set(state, reason, _utc_now())

    def frames_this_worker(self) -> int:
        with self._lock:
            return self._c.frames_this_worker

    def request_stop(self) -> None:
        conn = self._conn
        if conn is not None and self.alive:
            with contextlib.suppress(OSError):  # already gone
                conn.send(_Stop())

    def respawn(self) -> bool:
        """Start a new worker if this capture is still wanted and has none; True when it did."""
        with self._life:
            if not self.wanted or self._proc is not None:
                return False
            with self._lock:
                self._c.restarts += 1
            self._spawn()
            return True

    def reap(self) -> int | None:
        """After the worker ended: release its pipe, ring and receiver; returns its exit code (None: nothing to
        reap, the worker is alive or was already reaped)."""
        with self._life:
            proc = self._proc
            if proc is None or proc.is_alive():
                return None
            code = proc.exitcode
            self._cleanup()
            return code

    def kill(self) -> None:
        proc = self._proc
        if proc is not None and proc.is_alive():
            proc.kill()

    # --- internals -------------------------------------------------------------------------------------------
    def _spawn(self) -> None:
        parent_conn, child_conn = self._ctx.Pipe(duplex=True)
        proc = self._ctx.Process(
            target=_worker_main, args=(self.spec, child_conn), name=f"capture:{self.camera_id}", daemon=True
        )
        proc.start()
        child_conn.close()  # the worker holds the only other end: its death is an EOF here
        with self._lock:
            self._c.frames_this_worker = 0
            self._c.last_heard_mono = time.monotonic()
        self._proc, self._conn = proc, parent_conn
        self._receiver = threading.Thread(
            target=self._receive, args=(parent_conn,), name=f"receive:{self.camera_id}", daemon=True
        )
        self._receiver.start()

    def _halt(self, timeout_s: float) -> None:
        proc = self._proc
        if proc is None:
            return
        proc.join(max(timeout_s - 1.0, 0.1))
        if proc.is_alive():
            log.warning("camera %s: worker %s did not stop, terminating", self.camera_id, proc.pid)
            proc.terminate()
            proc.join(0.5)
        if proc.is_alive():
            proc.kill()
            proc.join(1.0)
        self._cleanup()

    def _cleanup(self) -> None:
        if self._receiver is not None:
            self._receiver.join(2.0)  # ends at the pipe's EOF, unlinking its ring
        if self._conn is not None:
            self._conn.close()
        with self._lock:
            c = self._c
            c.reconnects_done += c.reconnects
            c.worker_drops_done += c.worker_drops
            c.reconnects = c.failures = c.worker_drops = 0
        self._proc = self._conn = self._receiver = None

    def _receive(self, conn: Connection) -> None:
        ring: _Ring | None = None
        try:
            while True:
                try:
                    msg = conn.recv()
                except (EOFError, OSError):
                    return
                with self._lock:
                    self._c.last_heard_mono = time.monotonic()
                if isinstance(msg, _FrameMsg):
                    self._take(ring, msg)
                elif isinstance(msg, _StatusMsg):
                    self._on_status(msg)
                elif isinstance(msg, _RingRequest):
                    if ring is not None:
                        ring.close()
                        ring = None
                    ring = _Ring.create(msg.shape, self.spec.ring_slots)
                    conn.send(_RingReply(ring.shm.name))
        except Exception:
            log.exception("camera %s: receiver failed; killing the worker", self.camera_id)
            self.kill()
        finally:
            if ring is not None:
                ring.close()

    def _take(self, ring: _Ring | None, msg: _FrameMsg) -> None:
        image = None if ring is None else ring.read(msg.slot, msg.wno)
        if image is None:
            with self._lock:
                self._c.ring_drops += 1
            return
        utc = datetime.fromtimestamp(msg.utc_s, UTC)
        meta = FrameMeta(self.camera_id, msg.seq, msg.mono_s, utc, image.shape[1], image.shape[0], msg.pts_s)
        with self._lock:
            self._c.frames += 1
            self._c.frames_this_worker += 1
            self._c.last_frame_mono = time.monotonic()
        if self._health.status.state != Health.OK:
            self._health.set(Health.OK, "streaming", _utc_now())
        self.out.put(Frame(image, meta))

    def _on_status(self, msg: _StatusMsg) -> None:
        with self._lock:
            self._c.reconnects, self._c.failures, self._c.worker_drops = msg.reconnects, msg.failures, msg.drops
        if msg.changed:
            self._health.set(Health(msg.state), msg.reason, datetime.fromtimestamp(msg.since_utc_s, UTC))
