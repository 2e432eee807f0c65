"""Supervising capture workers: restart a dead worker with backoff, within a restart budget.

One monitor thread waits on every worker's process sentinel, so a crash (any exit the supervisor did not ask for,
SIGKILL included) is seen at once. A dead worker is restarted after a jittered, growing delay (reset once a
worker has delivered frames). A worker that crashes more than ``max_restarts`` times within ``window_s`` is not
crash-looped: its camera goes ``offline`` with the reason ("worker crashed 6 times in 60 s (exit code 70); next
try in 300 s") and it is tried again only after ``cooldown_s``, with a fresh budget. A live worker that sends
nothing (no frame, no heartbeat) for ``hung_after_s`` is killed and counts as a crash. Other cameras are never
affected: each worker has its own budget.

>>> policy = RestartPolicy(max_restarts=5, window_s=60, cooldown_s=300)
>>> policy.offline_reason(6, "exit code 70")
'worker crashed 6 times in 60 s (exit code 70); next try in 300 s'
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from multiprocessing.connection import wait

from storewatch.core.ids import CameraId
from storewatch.runtime.backoff import Backoff
from storewatch.runtime.health import Health
from storewatch.runtime.queues import DropOldestQueue
from storewatch.runtime.workers import CaptureSpec, ProcessCapture
from storewatch.video.source import Frame

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class RestartPolicy:
    max_restarts: int = 5
    """Restarts allowed within ``window_s``; one more crash in the window takes the camera offline."""
    window_s: float = 60.0
    cooldown_s: float = 300.0
    """How long an over-budget camera stays offline before one more try."""
    restart_initial_s: float = 0.5
    restart_max_s: float = 30.0
    hung_after_s: float = 15.0
    """A live worker silent (no frame, no heartbeat) this long is killed and counted as a crash."""

    def __post_init__(self) -> None:
        if self.max_restarts < 0 or min(self.window_s, self.cooldown_s, self.restart_initial_s) <= 0:
            raise ValueError("need max_restarts >= 0 and positive window_s, cooldown_s and restart_initial_s")
        if self.hung_after_s <= 0:
            raise ValueError("hung_after_s must be positive")

    def offline_reason(self, crashes: int, cause: str) -> str:
        return f"worker crashed {crashes} times in {self.window_s:g} s ({cause}); next try in {self.cooldown_s:g} s"


@dataclass(slots=True)
class _Watch:
    worker: ProcessCapture
    backoff: Backoff
    crashes: deque[float] = field(default_factory=deque)
    restart_at: float | None = None
    killed_silent_s: float | None = None
    """Set when the supervisor killed the worker for its silence (the cause of that crash)."""


def describe_exit(code: int | None) -> str:
    """'exit code 3', 'killed by SIGKILL'.

    >>> describe_exit(-9), describe_exit(70)
    ('killed by SIGKILL', 'exit code 70')
    """
    if code is None:
        return "unknown exit"
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit code {code}"


class Supervisor:
    """Owns capture workers: ``add()`` them, ``start()``, ``stop()``; ``workers`` by camera id.

    ``stop()`` ends every worker within ``timeout_s`` (ask, then terminate, then kill) and unlinks their shared
    memory.
    """

    def __init__(
        self, policy: RestartPolicy | None = None, *, start_method: str = "forkserver", poll_s: float = 0.1
    ) -> None:
        self.policy = policy or RestartPolicy()
        self.start_method = start_method
        self.poll_s = poll_s
        self._watches: dict[CameraId, _Watch] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def add(self, spec: CaptureSpec, out: DropOldestQueue[Frame]) -> ProcessCapture:
        """A worker for ``spec`` (not started); ``start()`` starts it, or start it yourself."""
        worker = ProcessCapture(spec, out, start_method=self.start_method)
        backoff = Backoff(self.policy.restart_initial_s, max(self.policy.restart_max_s, self.policy.restart_initial_s))
        with self._lock:
            if worker.camera_id in self._watches:
                raise ValueError(f"camera {worker.camera_id} already supervised")
            self._watches[worker.camera_id] = _Watch(worker, backoff)
        return worker

    @property
    def workers(self) -> dict[CameraId, ProcessCapture]:
        with self._lock:
            return {cid: w.worker for cid, w in self._watches.items()}

    def start(self) -> None:
        """Start the workers not started yet, and the monitor."""
        if self._thread is not None:
            raise RuntimeError("supervisor already started")
        for worker in self.workers.values():
            if not worker.started:
                worker.start()
        self._thread = threading.Thread(target=self._monitor, name="supervisor", daemon=True)
        self._thread.start()

    def stop(self, timeout_s: float = 5.0) -> None:
        """Stop the monitor, then every worker: all are asked at once, so the whole stop takes ~``timeout_s``."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout_s)
        workers = list(self.workers.values())
        for worker in workers:
            worker.request_stop()
        deadline = time.monotonic() + timeout_s
        for worker in workers:
            worker.stop(max(deadline - time.monotonic(), 1.0))

    def check(self, now: float | None = None) -> None:
        """One supervision pass: reap dead workers, schedule or perform restarts, kill hung workers."""
        now = time.monotonic() if now is None else now
        with self._lock:
            watches = list(self._watches.values())
        for watch in watches:
            worker = watch.worker
            if not worker.wanted:
                continue
            if worker.sentinel is not None and not worker.alive:
                delivered = worker.frames_this_worker() > 0
                code = worker.reap()
                if code is not None:
                    silent, watch.killed_silent_s = watch.killed_silent_s, None
                    cause = describe_exit(code) if silent is None else f"silent for {silent:.0f} s, killed"
                    self._crashed(watch, cause, delivered, now)
            elif worker.alive:
                worker.check_watchdog(now)
                self._check_hung(watch, now)
            if watch.restart_at is not None and now >= watch.restart_at:
                watch.restart_at = None
                if worker.respawn():
                    log.info("camera %s: worker restarted (pid %s)", worker.camera_id, worker.stats().pid)

    def _crashed(self, watch: _Watch, cause: str, delivered: bool, now: float) -> None:
        p, worker = self.policy, watch.worker
        if delivered:
            watch.backoff.reset()
        watch.crashes.append(now)
        while watch.crashes and watch.crashes[0] < now - p.window_s:
            watch.crashes.popleft()
        crashes = len(watch.crashes)
        if crashes > p.max_restarts:
            watch.crashes.clear()
            watch.backoff.reset()
            watch.restart_at = now + p.cooldown_s
            worker.mark(Health.OFFLINE, p.offline_reason(crashes, cause))
            log.error("camera %s: %s", worker.camera_id, worker.health.reason)
            return
        delay = watch.backoff.next_delay()
        watch.restart_at = now + delay
        worker.mark(Health.DEGRADED, f"worker {cause}; restart {crashes}/{p.max_restarts} in {delay:.1f} s")
        log.warning("camera %s: %s", worker.camera_id, worker.health.reason)

    def _check_hung(self, watch: _Watch, now: float) -> None:
        heard = watch.worker.stats().last_heard_age_s
        if heard is not None and heard > self.policy.hung_after_s and watch.killed_silent_s is None:
            watch.killed_silent_s = heard
            log.error("camera %s: worker silent for %.1f s, killing it", watch.worker.camera_id, heard)
            watch.worker.kill()

    def _monitor(self) -> None:
        while not self._stop.is_set():
            sentinels = [s for w in self.workers.values() if w.wanted and (s := w.sentinel) is not None]
            try:
                if sentinels:
                    wait(sentinels, timeout=self.poll_s)
                else:
                    self._stop.wait(self.poll_s)
            except (OSError, ValueError):
                pass  # a sentinel closed under us (a worker stopped directly): look again
            if not self._stop.is_set():
                try:
                    self.check()
                except Exception:  # the top of the monitor loop: keep supervising the other cameras
                    log.exception("supervisor pass failed")
