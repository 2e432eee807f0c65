"""What a door's camera saw, from its recorded tracks: people crossing the door's line inwards and people
entering its restricted zone, with the span the recording covers. Built once per door and time span
(``load_door_view``); the rules only ask it questions.

A crossing is a person's anchor point (foot: the bottom centre of the box) moving across the line between two
consecutive recorded frames of the same track (``LineGeometry.crossing``); an entry is the anchor moving from
outside the zone to inside it. A track's last point is forgotten once the track is gone for ``forget_s``.

>>> from storewatch.behaviour.geometry import LineGeometry
>>> from storewatch.core.detections import NO_TRACK, Detections
>>> import numpy as np
>>> line = LineGeometry("door", "entrance", (0.0, 100.0), (200.0, 100.0), "right")
>>> def person(y):
...     return Detections(xyxy=np.array([[90.0, y - 50, 110, y]], np.float32), class_id=np.array([0]),
...                       confidence=np.ones(1, np.float32), track_id=np.array([7]))
>>> view = DoorView.from_frames([(0.0, person(80)), (1.0, person(120))], line, None)
>>> view.crossings_in.tolist(), view.covers(0.0, 1.0)
([1.0], True)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from storewatch.behaviour.geometry import LineGeometry, ZoneGeometry
from storewatch.core.detections import NO_TRACK, Detections
from storewatch.detect.coco import PERSON
from storewatch.pos.tills import frame_size, load_till_view

FORGET_S = 5.0


@dataclass
class DoorView:
    times: NDArray[np.float64]
    """Unix seconds of every recorded frame (sorted)."""
    crossings_in: NDArray[np.float64] = field(default_factory=lambda: np.zeros(0))
    """When someone crossed the door's line inwards."""
    entries: NDArray[np.float64] = field(default_factory=lambda: np.zeros(0))
    """When someone entered the restricted zone."""

    @classmethod
    def from_frames(
        cls, frames: Sequence[tuple[float, Detections]], line: LineGeometry | None, zone: ZoneGeometry | None
    ) -> DoorView:
        last: dict[int, tuple[float, tuple[float, float], bool]] = {}  # track -> (t, anchor, inside the zone)
        crossings: list[float] = []
        entries: list[float] = []
        for t, dets in sorted(frames, key=lambda f: f[0]):
            for row in range(len(dets)):
                if int(dets.class_id[row]) != PERSON or int(dets.track_id[row]) == NO_TRACK:
                    continue
                x1, _, x2, y2 = (float(v) for v in dets.xyxy[row])
                point = ((x1 + x2) / 2, y2)
                inside = zone is not None and zone.contains(*point)
                track = int(dets.track_id[row])
                before = last.get(track)
                if before is not None and t - before[0] <= FORGET_S:
                    if line is not None and line.crossing(before[1], point) == "in":
                        crossings.append(t)
                    if inside and not before[2]:
                        entries.append(t)
                last[track] = (t, point, inside)
            last = {k: v for k, v in last.items() if t - v[0] <= FORGET_S}
        times = np.array(sorted(t for t, _ in frames), np.float64)
        return cls(times, np.array(sorted(crossings), np.float64), np.array(sorted(entries), np.float64))

    def covers(self, start_s: float, end_s: float) -> bool:
        """Whether the recording has frames at or before ``start_s`` and at or after ``end_s``."""
        return bool(len(self.times)) and bool(self.times[0] <= start_s <= end_s <= self.times[-1])


def load_door_view(
    root: Path,
    camera: str,
    line: tuple[str, Sequence[tuple[float, float]], str] | None,
    zone: object | None,
    start: datetime,
    end: datetime,
) -> DoorView:
    """The door camera's recorded tracks from ``start`` to ``end``. ``line``: (id, normalised points, inside
    side) of the site's line; ``zone``: the site's ``Zone`` (normalised, made pixels with the recorded size)."""
    store, _, cam = camera.partition("/")
    if not (root / store / cam).is_dir():
        return DoorView(np.zeros(0))
    zones = [zone] if zone is not None else []
    view = load_till_view(root, camera, zones, start, end, margin_s=0.0)  # type: ignore[arg-type]
    geometry = None
    if line is not None:
        width, height = frame_size(root / store / cam)
        geometry = LineGeometry.from_normalised(line[0], "entrance", line[1], line[2], width, height)
    frames = list(zip(view.times.tolist(), view.frames, strict=True))
    zone_geom = next(iter(view.zones.values()), None)
    return DoorView.from_frames(frames, geometry, zone_geom)
