"""How fast the behaviour engine is: a synthetic day of a busy camera (people walking between shelves, a queue,
the tills and the door, some lingering) through every rule, with the time and the memory it takes.

The movement is generated, not recorded (no day-long ground truth exists to replay), but it exercises every
rule's bookkeeping the way a store does: people arrive, visit zones, stand, leave; tracks end and are forgotten.
"""

from __future__ import annotations

import resource
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np

from storewatch.behaviour.engine import BehaviourEngine
from storewatch.behaviour.geometry import LineGeometry, ZoneGeometry
from storewatch.core.detections import Detections

W, H = 1280, 720


def _zones() -> list[ZoneGeometry]:
    def rect(id: str, kind: str, x1: float, y1: float, x2: float, y2: float) -> ZoneGeometry:
        return ZoneGeometry.from_normalised(id, kind, [(x1, y1), (x2, y1), (x2, y2), (x1, y2)], W, H)

    return [
        rect("shelf-a", "shelf", 0.05, 0.2, 0.3, 0.6), rect("electronics", "high_value", 0.35, 0.2, 0.6, 0.5),
        rect("queue", "queue", 0.65, 0.3, 0.8, 0.8), rect("till", "checkout", 0.8, 0.3, 0.95, 0.8),
        rect("staff", "staff_only", 0.0, 0.0, 0.15, 0.15), rect("exit", "exit", 0.4, 0.85, 0.6, 1.0),
        rect("fire", "fire_exit", 0.9, 0.0, 1.0, 0.2),
    ]  # fmt: skip


def _frames(points: int, people: int, fps: float, seed: int) -> Iterator[tuple[float, Detections]]:
    """Frames of ``people`` walkers (each with a few waypoints and pauses) until ``points`` boxes are made."""
    rng = np.random.default_rng(seed)
    pos = rng.uniform([0, 130], [W, H], (people, 2))  # feet low enough for the whole person to be in view
    goal = rng.uniform([0, 130], [W, H], (people, 2))
    pause = np.zeros(people)
    ids = np.arange(1, people + 1)
    next_id = people + 1
    made, i = 0, 0
    while made < points:
        t = i / fps
        step = goal - pos
        dist = np.linalg.norm(step, axis=1, keepdims=True)
        moving = pause <= 0
        speed = 90.0 / fps  # ~0.75 body heights per second for 120-px people
        pos[moving] += step[moving] / np.maximum(dist[moving], 1e-6) * np.minimum(dist[moving], speed)
        arrived = moving & (dist[:, 0] < speed)
        pause[arrived] = rng.exponential(20.0, int(arrived.sum()))
        goal[arrived] = rng.uniform([0, 130], [W, H], (int(arrived.sum()), 2))
        pause -= 1 / fps
        leave = rng.random(people) < 1 / (fps * 600)  # a visit lasts ~10 min: someone new arrives
        ids[leave] = np.arange(next_id, next_id + int(leave.sum()))
        next_id += int(leave.sum())
        boxes = np.stack([pos[:, 0] - 20, pos[:, 1] - 120, pos[:, 0] + 20, pos[:, 1]], 1).clip(0, [W, H, W, H])
        yield t, Detections(boxes, np.full(people, 0.9), np.zeros(people, np.int64), ids.copy())
        made += people
        i += 1


def run_rules_benchmark(points: int = 1_000_000, people: int = 8, fps: float = 5.0, seed: int = 0) -> dict[str, Any]:
    engine = BehaviourEngine("bench/cam", _zones(), [LineGeometry.from_normalised(
        "door", "exit", [(0.4, 0.85), (0.6, 0.85)], "left", W, H)], width=W, height=H)  # fmt: skip
    t0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
    events: dict[str, int] = {}
    rss_samples: list[float] = []
    elapsed = 0.0
    frames = 0
    sample_every = max(points // people // 20, 50)
    for t, dets in _frames(points, people, fps, seed):
        utc = t0 + timedelta(seconds=t)
        start = time.perf_counter()  # the engine's time only, not the generator's
        found = engine.process(t, utc, dets)
        elapsed += time.perf_counter() - start
        for e in found:
            if e.state.value == "started":
                events[e.type] = events.get(e.type, 0) + 1
        frames += 1
        if frames % sample_every == 0:
            rss_samples.append(_rss_mb())
    half = len(rss_samples) // 2
    return {
        "track_points": frames * people,
        "frames": frames,
        "simulated_hours": round(frames / fps / 3600, 2),
        "seconds": round(elapsed, 1),
        "points_per_second": round(frames * people / elapsed),
        "rss_mb_first_half_max": round(max(rss_samples[:half], default=0.0), 1),
        "rss_mb_second_half_max": round(max(rss_samples[half:], default=0.0), 1),
        "events_started": dict(sorted(events.items())),
        "rules": [rule.type for rule, _ in engine.rules],
    }


def _rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize() / 2**20
