"""What the till's camera saw around a transaction: its recorded tracks (the CSV files ``storewatch run`` writes
per camera and UTC day, ``<root>/<store>/<camera>/<date>.csv``, with ``camera.json`` giving the frame size) and
who was in which zone when.

The recorder writes only frames that had tracks, so an empty stretch means "nobody seen" *or* "camera not
recording". ``covers`` tells the two apart as well as the file can: the video rules judge a window only when
frames exist on both sides of it.

>>> import numpy as np
>>> from datetime import UTC, datetime, timedelta
>>> from storewatch.behaviour.geometry import ZoneGeometry
>>> from storewatch.core.detections import Detections
>>> t0 = datetime(2026, 1, 1, 12, tzinfo=UTC)
>>> person = Detections(np.array([[10, 10, 30, 90]], np.float32), np.ones(1, np.float32), np.zeros(1, np.int64),
...                     np.array([1]))
>>> zone = ZoneGeometry.from_normalised("cashier", "checkout", [(0, 0), (0.5, 0), (0.5, 1), (0, 1)], 100, 100)
>>> view = TillView.from_frames("s1/till", [(t0 + timedelta(seconds=s), person) for s in range(5)], [zone])
>>> view.presence_s("cashier", t0, t0 + timedelta(seconds=10), max_frame_s=1.0), view.covers(t0, t0)
(5.0, True)
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from storewatch.behaviour.geometry import ZoneGeometry
from storewatch.core.detections import Detections
from storewatch.detect.coco import PERSON
from storewatch.errors import StorewatchError
from storewatch.io.tracks import read_track_frames

if TYPE_CHECKING:
    from storewatch.config.schema import Zone


class TillView:
    """Frames (UTC times and tracks) of one camera in a time span, and its zones in pixels."""

    def __init__(self, camera: str, times: NDArray[np.float64], frames: list[Detections], zones: list[ZoneGeometry]):
        self.camera = camera
        self.times = times
        """Seconds since the epoch of each frame, ascending."""
        self.frames = frames
        self.zones = {z.id: z for z in zones}
        self._occupied: dict[tuple[str, bool], NDArray[np.bool_]] = {}

    @classmethod
    def from_frames(
        cls, camera: str, frames: Sequence[tuple[datetime, Detections]], zones: list[ZoneGeometry]
    ) -> TillView:
        ordered = sorted(frames, key=lambda f: f[0])
        times = np.array([t.timestamp() for t, _ in ordered], np.float64)
        return cls(camera, times, [d for _, d in ordered], zones)

    def covers(self, start: datetime, end: datetime) -> bool:
        """Whether the recording has frames at or before ``start`` and at or after ``end``."""
        return bool(len(self.times)) and bool(self.times[0] <= start.timestamp() <= end.timestamp() <= self.times[-1])

    def occupied(self, zone_id: str, persons_only: bool = True) -> NDArray[np.bool_]:
        """Per frame: whether a track (a person, or anything) had its anchor point in the zone."""
        key = (zone_id, persons_only)
        if key not in self._occupied:
            zone = self.zones.get(zone_id)
            if zone is None:
                raise StorewatchError(f"camera {self.camera} has no zone {zone_id!r} (zones: {sorted(self.zones)})")
            self._occupied[key] = np.array([_any_in(zone, d, persons_only) for d in self.frames], np.bool_)
        return self._occupied[key]

    def presence_s(
        self, zone_id: str, start: datetime, end: datetime, *, max_frame_s: float, persons_only: bool = True
    ) -> float:
        """Seconds within [start, end) that someone was in the zone; each frame counts until the next one, at most
        ``max_frame_s``."""
        if len(self.times) == 0:
            return 0.0
        a, b = start.timestamp(), end.timestamp()
        lo, hi = np.searchsorted(self.times, [a, b])
        if hi <= lo:
            return 0.0
        t = self.times[lo:hi]
        nxt = np.append(self.times[lo + 1 : hi + 1], np.inf)[: len(t)]
        dur = np.minimum(np.minimum(nxt, b) - t, max_frame_s)
        return float(dur[self.occupied(zone_id, persons_only)[lo:hi]].sum())


def _any_in(zone: ZoneGeometry, dets: Detections, persons_only: bool) -> bool:
    x1, y1, x2, y2 = zone.bbox
    for row in range(len(dets)):
        if persons_only and int(dets.class_id[row]) != PERSON:
            continue
        bx1, by1, bx2, by2 = (float(v) for v in dets.xyxy[row])
        x = (bx1 + bx2) / 2
        y = by2 if zone.anchor == "foot" else (by1 + by2) / 2
        if x1 <= x <= x2 and y1 <= y <= y2 and zone.contains(x, y):
            return True
    return False


def frame_size(folder: Path) -> tuple[int, int]:
    """(width, height) from the ``camera.json`` the recorder writes beside the track files."""
    path = folder / "camera.json"
    try:
        size = json.loads(path.read_text())
        return int(size["width"]), int(size["height"])
    except FileNotFoundError:
        raise StorewatchError(
            f"{path}: no frame size recorded", fix="run the camera once with track recording on"
        ) from None
    except (ValueError, KeyError, TypeError) as exc:
        raise StorewatchError(f"{path}: not a frame size ({exc})") from None


def load_till_view(
    root: Path,
    camera: str,
    zones: Sequence[ZoneGeometry | Zone],
    start: datetime,
    end: datetime,
    margin_s: float = 30.0,
) -> TillView:
    """The recorded frames of ``camera`` (store/camera) from ``start - margin_s`` to ``end + margin_s``.

    ``zones``: ``ZoneGeometry`` in pixels, or the site file's ``Zone`` models (normalised, turned into pixels with
    the recorded frame size)."""
    store, _, cam = camera.partition("/")
    folder = root / store / cam
    geoms = _geometries(folder, zones)
    a, b = (start - timedelta(seconds=margin_s)).astimezone(UTC), (end + timedelta(seconds=margin_s)).astimezone(UTC)
    frames: list[tuple[datetime, Detections]] = []
    day = a.replace(hour=0, minute=0, second=0, microsecond=0)
    while day <= b:
        path = folder / f"{day:%Y-%m-%d}.csv"
        if path.is_file():
            for f in read_track_frames(path):
                if f.t_s is None:
                    raise StorewatchError(f"{path}: frame {f.frame} has no t_s", fix="give a file storewatch run wrote")
                t = day + timedelta(seconds=f.t_s)
                if a <= t <= b:
                    frames.append((t, f.tracks))
        day += timedelta(days=1)
    return TillView.from_frames(camera, frames, geoms)


def _geometries(folder: Path, zones: Sequence[ZoneGeometry | Zone]) -> list[ZoneGeometry]:
    out = [z for z in zones if isinstance(z, ZoneGeometry)]
    rest = [z for z in zones if not isinstance(z, ZoneGeometry)]
    if rest:
        width, height = frame_size(folder)
        for z in rest:
            out.append(ZoneGeometry.from_normalised(z.id, z.kind.value, z.polygon, width, height, z.anchor.value))
    return out
