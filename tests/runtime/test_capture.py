"""Camera capture: reconnects, health, watchdog, drops, pacing. Waits on conditions with deadlines, no sleeps."""

from __future__ import annotations

import itertools
import queue
import random
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import numpy as np
import pytest

from storewatch.core import CameraId, FrameMeta
from storewatch.runtime.backoff import Backoff
from storewatch.runtime.camera import CameraCapture, LiveFileSource
from storewatch.runtime.health import Health
from storewatch.runtime.queues import DropOldestQueue
from storewatch.video.source import Frame
from tests.helpers import wait_for

CAM = CameraId("s1/c1")


def make_frame(seq: int) -> Frame:
    meta = FrameMeta(CAM, seq, float(seq), datetime.now(UTC), 8, 8)
    return Frame(np.zeros((8, 8, 3), np.uint8), meta)


class FakeSource:
    def __init__(self, n: int, block: threading.Event | None = None, fail_after: int | None = None) -> None:
        self.n, self.block, self.fail_after = n, block, fail_after
        self.closed = False

    def frames(self) -> Iterator[Frame]:
        for i in range(self.n):
            if self.fail_after is not None and i == self.fail_after:
                raise OSError("connection reset")
            yield make_frame(i)
        if self.block is not None:
            self.block.wait()  # a frozen stream: the socket stays open, nothing arrives

    def close(self) -> None:
        self.closed = True


def fast_backoff() -> Backoff:
    return Backoff(initial_s=0.01, max_s=0.05, jitter=0.1, rng=random.Random(0))


def test_frames_flow_and_a_broken_stream_reconnects():
    opened: list[FakeSource] = []

    def factory() -> FakeSource:
        opened.append(FakeSource(5, fail_after=3 if len(opened) == 0 else None, block=threading.Event()))
        return opened[-1]

    q: DropOldestQueue[Frame] = DropOldestQueue(100)
    cap = CameraCapture(CAM, factory, q, backoff=fast_backoff())
    cap.start()
    try:
        wait_for(lambda: cap.stats().frames == 3 + 5)
        assert cap.health.state == Health.OK
        assert cap.stats().reconnects == 1 and opened[0].closed
    finally:
        opened[-1].block.set()  # type: ignore[union-attr]
        cap.stop()
    assert not cap.alive


def test_repeated_failures_go_offline_not_crash_looping():
    attempts = []

    def factory() -> FakeSource:
        attempts.append(time.monotonic())
        raise ConnectionRefusedError("camera 192.0.2.1:554 refused")

    cap = CameraCapture(CAM, factory, DropOldestQueue(4), offline_after_failures=3, backoff=fast_backoff())
    cap.start()
    try:
        wait_for(lambda: cap.health.state == Health.OFFLINE)
        assert "refused" in cap.health.reason and len(attempts) >= 3
        gaps = np.diff(attempts[:3])
        assert (gaps > 0.005).all()  # it waited between attempts
    finally:
        cap.stop()


def test_watchdog_detects_a_frozen_stream():
    freeze = threading.Event()
    cap = CameraCapture(CAM, lambda: FakeSource(3, block=freeze), DropOldestQueue(4), frame_timeout_s=0.2)
    cap.start()
    try:
        wait_for(lambda: cap.stats().frames == 3)
        assert not cap.check_watchdog()
        wait_for(cap.check_watchdog, timeout_s=2.0)
        assert cap.health.state == Health.DEGRADED and "frozen" in cap.health.reason
    finally:
        freeze.set()
        cap.stop()


def test_slow_consumer_drops_oldest_and_counts():
    freeze = threading.Event()
    q: DropOldestQueue[Frame] = DropOldestQueue(2)
    cap = CameraCapture(CAM, lambda: FakeSource(10, block=freeze), q)
    cap.start()
    try:
        wait_for(lambda: cap.stats().frames == 10)
        assert cap.stats().dropped_frames == 8
        assert [q.get(0).meta.seq, q.get(0).meta.seq] == [8, 9]
        with pytest.raises(queue.Empty):
            q.get(timeout=0.01)
    finally:
        freeze.set()
        cap.stop()


def test_live_file_source_paces_restamps_and_loops(make_video):
    path = make_video(frames=6, fps=10)
    src = LiveFileSource(path, CAM, loop=True, speed=2.0)
    t0 = time.monotonic()
    frames = []
    for f in src.frames():
        frames.append(f)
        if len(frames) == 9:
            src.close()
    elapsed = time.monotonic() - t0
    assert [f.meta.seq for f in frames] == list(range(9))  # continues across the loop
    assert elapsed >= (5 / 10) / 2 * 0.9  # the first pass of 6 frames spans 0.5 s of video at 2x
    assert all(b.meta.mono_s >= a.meta.mono_s for a, b in itertools.pairwise(frames))


def test_backoff_bounds_and_jitter():
    b = Backoff(initial_s=1.0, max_s=10.0, jitter=0.2, rng=random.Random(1))
    delays = [b.next_delay() for _ in range(8)]
    assert 0.8 <= delays[0] <= 1.2 and all(d <= 12.0 for d in delays) and delays[-1] >= 8.0
    with pytest.raises(ValueError):
        Backoff(initial_s=0)
