"""Capture in supervised worker processes: real processes replaying the PETS sample video as a live camera.

Needs ../shared/data/pets09-s2l1/vtest.avi. Waits on conditions with deadlines; measured times are printed
(run with ``-s`` to see them).
"""

from __future__ import annotations

import multiprocessing
import os
import re
import signal
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from storewatch.core import CameraId, FrameMeta
from storewatch.runtime.health import Health
from storewatch.runtime.queues import DropOldestQueue
from storewatch.runtime.supervisor import RestartPolicy, Supervisor
from storewatch.runtime.workers import SHM_PREFIX, CaptureSpec, ProcessCapture, WorkerFault, _Ring, _RingSink
from storewatch.video.source import Frame, VideoSource
from tests.helpers import wait_for

FAST = RestartPolicy(max_restarts=2, window_s=30, cooldown_s=60, restart_initial_s=0.1, restart_max_s=0.2)


def our_segments() -> list[str]:
    shm = Path("/dev/shm")
    return sorted(p.name for p in shm.glob(f"{SHM_PREFIX}{os.getpid()}-*")) if shm.is_dir() else []


def gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


@pytest.fixture(autouse=True)
def no_leaked_segments() -> Iterator[None]:
    yield
    assert our_segments() == []


def test_frames_flow_through_shared_memory_unchanged(pets_video):
    q: DropOldestQueue[Frame] = DropOldestQueue(16)
    cap = ProcessCapture(CaptureSpec("s1/c1", str(pets_video)), q)
    cap.start()
    try:
        first = q.get(timeout=10)
        frames = [first] + [q.get(timeout=5) for _ in range(4)]
        assert cap.health.state == Health.OK and cap.alive
        assert len(our_segments()) == 1  # one ring while streaming
        stats = cap.stats()
    finally:
        cap.stop()
    with VideoSource(pets_video) as video:
        expected = next(iter(video.frames()))
    assert first.meta.seq == 0 and np.array_equal(first.image, expected.image)  # pixel-exact hand-over
    assert [f.meta.seq for f in frames] == list(range(5))
    assert all(f.meta.camera_id == CameraId("s1/c1") and f.meta.size == (768, 576) for f in frames)
    assert stats.frames >= 5 and stats.dropped_frames == 0 and stats.restarts == 0
    assert not cap.alive and stats.pid is not None and gone(stats.pid)
    assert cap.health.state == Health.OFFLINE and cap.health.reason == "stopped"


def test_a_killed_worker_is_restarted_and_frames_resume(pets_video):
    sup = Supervisor(FAST)
    q: DropOldestQueue[Frame] = DropOldestQueue(4)
    cap = sup.add(CaptureSpec("s1/c1", str(pets_video)), q)
    sup.start()
    try:
        wait_for(lambda: cap.stats().frames >= 3, timeout_s=10)
        old_pid, frames_before = cap.stats().pid, cap.stats().frames
        assert old_pid is not None
        killed = time.monotonic()
        os.kill(old_pid, signal.SIGKILL)
        reasons = set()
        deadline = killed + 5.0
        while not (cap.stats().frames > frames_before + 1 and cap.stats().pid != old_pid):
            reasons.add(cap.health.reason)
            assert time.monotonic() < deadline, f"frames did not resume within 5 s; health: {cap.health}"
            time.sleep(0.005)
        resumed_s = time.monotonic() - killed
        print(f"\nSIGKILL -> frames resume: {resumed_s:.2f} s")
        assert resumed_s < 3.0
        assert any("killed by SIGKILL" in r for r in reasons), reasons
        assert cap.stats().restarts == 1 and cap.health.state == Health.OK
        assert gone(old_pid)
    finally:
        sup.stop()


def test_a_crashing_worker_goes_offline_while_another_camera_streams(pets_video):
    sup = Supervisor(FAST)
    good_q: DropOldestQueue[Frame] = DropOldestQueue(4)
    good = sup.add(CaptureSpec("s1/good", str(pets_video)), good_q)
    bad = sup.add(CaptureSpec("s1/bad", str(pets_video), fault=WorkerFault.EXIT_ON_START), DropOldestQueue(4))
    sup.start()
    try:
        wait_for(lambda: bad.health.state == Health.OFFLINE and bad.stats().restarts == 2, timeout_s=10)
        assert re.fullmatch(r"worker crashed 3 times in 30 s \(exit code 70\); next try in 60 s", bad.health.reason)
        # Not crash-looped: while the good camera delivers 10 more frames (~1 s), the bad one is not restarted.
        seen = good.stats().frames
        wait_for(lambda: good.stats().frames >= seen + 10, timeout_s=5)
        assert bad.stats().restarts == 2 and not bad.alive and bad.health.state == Health.OFFLINE
        assert good.health.state == Health.OK and good.stats().restarts == 0
        # After the cool-down it is tried once more, with a fresh budget.
        sup.check(time.monotonic() + 61)
        wait_for(lambda: bad.stats().restarts == 3)
    finally:
        sup.stop()


def test_stop_ends_every_worker_even_a_frozen_one(pets_video):
    sup = Supervisor(FAST)
    caps = [sup.add(CaptureSpec(f"s1/c{i}", str(pets_video)), DropOldestQueue(4)) for i in range(2)]
    sup.start()
    wait_for(lambda: all(c.stats().frames >= 2 for c in caps), timeout_s=10)
    pids = [c.stats().pid for c in caps]
    assert all(pids) and len(our_segments()) == 2
    os.kill(pids[0], signal.SIGSTOP)  # it cannot answer "stop" nor SIGTERM: only the kill ends it
    t0 = time.monotonic()
    sup.stop(timeout_s=2.0)
    took = time.monotonic() - t0
    print(f"\nstop with one frozen worker: {took:.2f} s")
    assert took < 4.0
    assert all(gone(p) for p in pids if p is not None)
    assert not [p for p in multiprocessing.active_children() if p.pid in pids]
    assert our_segments() == [] and all(c.health.reason == "stopped" for c in caps)


def test_a_silent_worker_is_killed_and_restarted(pets_video):
    policy = RestartPolicy(max_restarts=2, window_s=30, cooldown_s=60, restart_initial_s=0.1, hung_after_s=1.0)
    sup = Supervisor(policy)
    cap = sup.add(CaptureSpec("s1/c1", str(pets_video)), DropOldestQueue(4))
    sup.start()
    try:
        wait_for(lambda: cap.stats().frames >= 2, timeout_s=10)
        old_pid = cap.stats().pid
        assert old_pid is not None
        os.kill(old_pid, signal.SIGSTOP)
        wait_for(lambda: cap.stats().restarts == 1, timeout_s=5)
        assert "silent for" in cap.health.reason or cap.health.state == Health.OK
        wait_for(lambda: cap.stats().pid != old_pid and cap.health.state == Health.OK, timeout_s=5)
        assert gone(old_pid)
    finally:
        sup.stop()


def test_a_frame_overwritten_before_it_was_read_is_dropped_not_torn():
    ring = _Ring.create((4, 6, 3), slots=2)
    try:
        image = np.arange(72, dtype=np.uint8).reshape(4, 6, 3)
        ring.write(0, 0, image)
        got = ring.read(0, 0)
        assert got is not None and np.array_equal(got, image)
        ring.write(0, 2, image + 1)  # the writer lapped the reader: frame 0's slot now holds frame 2
        assert ring.read(0, 0) is None
        assert ring.read(1, 1) is None  # never written
    finally:
        ring.close()


def test_a_new_resolution_gets_a_new_ring_and_the_old_one_is_unlinked():
    """Both ends of the hand-over in one process (threads stand in for the worker's main thread)."""
    parent_conn, child_conn = multiprocessing.Pipe()
    out: DropOldestQueue[Frame] = DropOldestQueue(8)
    cap = ProcessCapture(CaptureSpec("s1/c1", "unused.avi"), out)
    receiver = threading.Thread(target=cap._receive, args=(parent_conn,))
    receiver.start()
    sink = _RingSink(child_conn, slots=2)

    def worker_main_thread() -> None:
        for _ in range(2):
            sink.offer_ring(child_conn.recv().name)

    replies = threading.Thread(target=worker_main_thread)
    replies.start()
    sizes = [(8, 6), (8, 6), (16, 12)]
    segments = []
    for seq, (w, h) in enumerate(sizes):
        image = np.full((h, w, 3), seq, np.uint8)
        sink.put(Frame(image, FrameMeta(CameraId("s1/c1"), seq, float(seq), datetime.now(UTC), w, h)))
        got = out.get(timeout=5)
        assert got.meta.size == (w, h) and (got.image == seq).all()
        segments.append(our_segments())
    replies.join(5)
    assert len(segments[0]) == 1 and segments[1] == segments[0]
    assert len(segments[2]) == 1 and segments[2] != segments[0]  # the old ring is gone
    sink.close()
    child_conn.close()
    receiver.join(5)  # the pipe's EOF ends the receiver, which unlinks its ring
    assert not receiver.is_alive() and our_segments() == []


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"ring_slots": 1}, "ring_slots"), ({"heartbeat_s": 0}, "positive"), ({"frame_timeout_s": -1}, "positive")],
)
def test_spec_rejects_bad_options(kwargs, message):
    with pytest.raises(ValueError, match=message):
        CaptureSpec("s1/c1", "x.avi", **kwargs)


def test_fork_is_refused():
    with pytest.raises(ValueError, match="never 'fork'"):
        ProcessCapture(CaptureSpec("s1/c1", "x.avi"), DropOldestQueue(1), start_method="fork")
