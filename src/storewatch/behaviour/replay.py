"""Rules over a recorded track file, as if it came from the tracker live: ``replay_events``.

Frame ``n`` (1-based) is at ``(n - 1) / fps`` seconds of the file (or at its ``t_s`` when the file records it)
and at ``start_utc`` plus that on the clock (schedules, opening hours). Each episode is reported once, complete:
its ended event, with ``start_s`` and ``end_s`` in seconds since the start of the file.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from storewatch.behaviour.engine import BehaviourEngine
from storewatch.core.events import Event, EventState
from storewatch.io.tracks import read_track_frames


@dataclass
class ReplayStats:
    frames: int = 0
    track_points: int = 0
    events: Counter[str] = field(default_factory=Counter)


def replay_events(
    engine: BehaviourEngine,
    tracks: Path,
    fps: float,
    start_utc: datetime,
    *,
    stats: ReplayStats | None = None,
    on_frame: Callable[[int], None] | None = None,
) -> Iterator[Event]:
    """Every complete episode (its ``ended`` event) the rules find in the track file, in the order they end."""
    if fps <= 0:
        raise ValueError("fps must be positive")
    stats = stats if stats is not None else ReplayStats()
    for frame in read_track_frames(tracks):
        t = frame.t_s if frame.t_s is not None else (frame.frame - 1) / fps
        stats.frames += 1
        stats.track_points += len(frame.tracks)
        for event in engine.process(t, start_utc + timedelta(seconds=t), frame.tracks):
            if event.state == EventState.ENDED:
                stats.events[event.type] += 1
                yield event
        if on_frame is not None:
            on_frame(frame.frame)
    for event in engine.close():
        stats.events[event.type] += 1
        yield event


def event_line(event: Event) -> dict[str, object]:
    """The JSON line of one replayed event."""
    return {
        "type": event.type,
        "start_s": None if event.start_s is None else round(event.start_s, 3),
        "end_s": None if event.end_s is None else round(event.end_s, 3),
        "track_ids": list(event.track_ids),
        "severity": event.severity.value,
        "zone": event.zone,
        "explanation": event.explanation,
        "values": event.values,
        "camera": str(event.camera),
        "id": event.id,
        "start_utc": event.start_utc.isoformat(),
        "end_utc": None if event.end_utc is None else event.end_utc.isoformat(),
    }
