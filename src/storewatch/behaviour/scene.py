"""One camera's recent past, as the rules see it: each track's path, its zones, its line crossings.

``Scene.update(t_s, utc, tracks)`` takes one frame of tracked objects (``Detections`` with ``track_id`` and
``class_id``) and keeps, per track, a bounded history (``history_s`` seconds of boxes), the zones it is in now
(with hysteresis), every visit to a zone (enter and exit times), the order of zone kinds it passed and the lines it
crossed. Memory per track is bounded, and a track unseen for ``forget_after_s`` is forgotten (after one frame in
``ended``, so rules can close what they had open about it). Rules read the scene; they never change it.

Speeds are in body heights per second (the median box height of the track's recent past), or metres per second
when the camera has a ground calibration.
"""

from __future__ import annotations

import itertools
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
from numpy.typing import NDArray

from storewatch.behaviour.geometry import Calibration, LineGeometry, ZoneGeometry
from storewatch.core.detections import Detections
from storewatch.detect.coco import CARRIED_ITEMS, COCO_CLASSES, PERSON

OBJECT = 1000
"""Class id of an object of no known class (a track file's ``object`` label, as in CAVIAR's ground truth)."""
OBJECT_CLASSES = frozenset({*CARRIED_ITEMS, OBJECT})
"""Classes the object rules (abandoned object, blocked exit) watch."""


def class_label(class_id: int) -> str:
    if class_id == OBJECT:
        return "object"
    return COCO_CLASSES[class_id] if 0 <= class_id < len(COCO_CLASSES) else str(class_id)


def class_id_of(label: str) -> int:
    """The class id of a track file's label: a COCO name, or ``object`` for anything else."""
    return COCO_CLASSES.index(label) if label in COCO_CLASSES else OBJECT


HEIGHT_BOXES = 15
"""Boxes the typical height of a track is the median of."""


@dataclass(frozen=True, slots=True)
class Visit:
    zone: str
    kind: str
    enter_s: float
    exit_s: float | None = None

    def dwell_s(self, now_s: float) -> float:
        return (self.exit_s if self.exit_s is not None else now_s) - self.enter_s


@dataclass(frozen=True, slots=True)
class Crossing:
    line: str
    kind: str
    direction: str
    """``in`` or ``out``."""
    t_s: float


@dataclass
class TrackHistory:
    """What the scene remembers of one track."""

    track_id: str
    class_id: int
    first_s: float
    last_s: float
    times: deque[float]
    boxes: deque[tuple[float, float, float, float]]
    zones: set[str] = field(default_factory=set)
    """Zones the track is in now (after hysteresis)."""
    visits: list[Visit] = field(default_factory=list)
    """Every visit to a zone, in order of entering (bounded: the oldest closed ones are dropped)."""
    crossings: list[Crossing] = field(default_factory=list)

    @property
    def label(self) -> str:
        return class_label(self.class_id)

    @property
    def is_person(self) -> bool:
        return self.class_id == PERSON

    @property
    def is_object(self) -> bool:
        return self.class_id in OBJECT_CLASSES

    @property
    def box(self) -> tuple[float, float, float, float]:
        return self.boxes[-1]

    def foot(self, i: int = -1) -> tuple[float, float]:
        x1, _, x2, y2 = self.boxes[i]
        return ((x1 + x2) / 2, y2)

    def center(self, i: int = -1) -> tuple[float, float]:
        x1, y1, x2, y2 = self.boxes[i]
        return ((x1 + x2) / 2, (y1 + y2) / 2)

    height: float = 0.0
    """The track's typical height in pixels (see ``height_px``), updated with each box."""
    _heights: deque[float] = field(default_factory=lambda: deque(maxlen=HEIGHT_BOXES))

    def height_px(self) -> float:
        """The track's typical height: the median box height of its last ``HEIGHT_BOXES`` boxes (robust to one
        bad box; cached, the rules ask for it often)."""
        if self.height <= 0 and self.boxes:
            for b in list(self.boxes)[-HEIGHT_BOXES:]:
                self._heights.append(b[3] - b[1])
            heights = sorted(self._heights)
            self.height = heights[len(heights) // 2]
        return self.height

    def _update_height(self) -> None:
        box = self.boxes[-1]
        self._heights.append(box[3] - box[1])
        heights = sorted(self._heights)
        n = len(heights)
        self.height = heights[n // 2] if n % 2 else (heights[n // 2 - 1] + heights[n // 2]) / 2

    def since(self, window_s: float) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """(times, boxes) of the last ``window_s`` seconds (only those are copied out of the history)."""
        horizon = self.last_s - window_s
        k = 0
        for t in reversed(self.times):
            if t < horizon:
                break
            k += 1
        n = len(self.times)
        times = np.fromiter(itertools.islice(self.times, n - k, n), np.float64, k)
        boxes = np.array(list(itertools.islice(self.boxes, n - k, n)), np.float64).reshape(-1, 4)
        return times, boxes

    def open_visit(self, zone: str) -> Visit | None:
        return next((v for v in reversed(self.visits) if v.zone == zone and v.exit_s is None), None)

    def visits_to(self, zone: str, since_s: float = -np.inf) -> list[Visit]:
        return [v for v in self.visits if v.zone == zone and (v.exit_s is None or v.exit_s >= since_s)]

    def kinds_passed(self) -> list[str]:
        """Zone kinds in the order the track entered them."""
        return [v.kind for v in self.visits]


@dataclass(frozen=True, slots=True)
class SceneConfig:
    history_s: float = 30.0
    """Seconds of boxes kept per track."""
    forget_after_s: float = 5.0
    """A track unseen this long is over."""
    hysteresis_heights: float = 0.1
    """Border margin for zone membership, in body heights (0.1 of a person's height each side)."""
    max_visits: int = 200


class Scene:
    def __init__(
        self,
        camera_id: str,
        zones: Sequence[ZoneGeometry] = (),
        lines: Sequence[LineGeometry] = (),
        *,
        calibration: Calibration | None = None,
        config: SceneConfig | None = None,
        size: tuple[int, int] | None = None,
    ) -> None:
        self.camera_id = camera_id
        self.size = size
        self._keys: dict[int, str] = {}
        """Frame (width, height) in pixels, when known: boxes cut by the frame's edge are not the whole object."""
        self.zones = {z.id: z for z in zones}
        self._bbox = {z.id: z.bbox for z in zones}
        self.lines = {ln.id: ln for ln in lines}
        self.calibration = calibration
        self.config = config or SceneConfig()
        self.tracks: dict[str, TrackHistory] = {}
        self.ended: list[TrackHistory] = []
        """Tracks that ended on the last update."""
        self.seen: list[TrackHistory] = []
        """Tracks seen on the last update."""
        self.t_s = 0.0
        self.utc: datetime | None = None

    def zones_of_kind(self, *kinds: str) -> list[ZoneGeometry]:
        return [z for z in self.zones.values() if z.kind in kinds]

    def update(self, t_s: float, utc: datetime, tracks: Detections) -> None:
        self.t_s, self.utc = t_s, utc
        self.seen = []
        ids, classes, boxes = tracks.track_id.tolist(), tracks.class_id.tolist(), tracks.xyxy.tolist()
        for tid, class_id, box in zip(ids, classes, boxes, strict=True):
            if tid < 0:
                continue
            key = self._keys.get(tid)
            if key is None:
                key = self._keys[tid] = f"{self.camera_id}/{tid}"
            hist = self.tracks.get(key)
            if hist is None:
                maxlen = max(int(self.config.history_s * 30), 16)
                hist = TrackHistory(key, class_id, t_s, t_s, deque(maxlen=maxlen), deque(maxlen=maxlen))
                self.tracks[key] = hist
            hist.last_s = t_s
            hist.times.append(t_s)
            hist.boxes.append((box[0], box[1], box[2], box[3]))
            hist._update_height()
            self._zones(hist)
            self._lines(hist)
            self.seen.append(hist)
        self.ended = [h for h in self.tracks.values() if t_s - h.last_s > self.config.forget_after_s]
        if len(self._keys) > 4 * len(self.tracks) + 64:  # ids of ended tracks
            self._keys = {int(k.rsplit("/", 1)[1]): k for k in self.tracks}
        for hist in self.ended:
            for zone in list(hist.zones):
                self._leave(hist, zone, hist.last_s)
            del self.tracks[hist.track_id]
        for hist in self.tracks.values():  # drop boxes older than the history window
            while len(hist.times) > 2 and hist.times[0] < t_s - self.config.history_s:
                hist.times.popleft()
                hist.boxes.popleft()

    def _zones(self, hist: TrackHistory) -> None:
        margin = self.config.hysteresis_heights * hist.height_px()
        x1, y1, x2, y2 = hist.boxes[-1]
        foot, centre = ((x1 + x2) / 2, y2), ((x1 + x2) / 2, (y1 + y2) / 2)
        for zone in self.zones.values():
            x, y = foot if zone.anchor == "foot" else centre
            inside = zone.id in hist.zones
            bx1, by1, bx2, by2 = self._bbox[zone.id]
            if x < bx1 - margin or x > bx2 + margin or y < by1 - margin or y > by2 + margin:
                if inside:
                    self._leave(hist, zone.id, hist.last_s)
                continue
            d = zone.signed_distance(x, y)
            if not inside and d >= margin:
                hist.zones.add(zone.id)
                hist.visits.append(Visit(zone.id, zone.kind, hist.last_s))
                if len(hist.visits) > self.config.max_visits:
                    closed = next(i for i, v in enumerate(hist.visits) if v.exit_s is not None)
                    del hist.visits[closed]
            elif inside and d <= -margin:
                self._leave(hist, zone.id, hist.last_s)

    def _leave(self, hist: TrackHistory, zone: str, t_s: float) -> None:
        hist.zones.discard(zone)
        for i in range(len(hist.visits) - 1, -1, -1):
            v = hist.visits[i]
            if v.zone == zone and v.exit_s is None:
                hist.visits[i] = Visit(v.zone, v.kind, v.enter_s, t_s)
                break

    def _lines(self, hist: TrackHistory) -> None:
        if len(hist.boxes) < 2 or not self.lines:
            return
        before, after = hist.foot(-2), hist.foot(-1)
        for line in self.lines.values():
            direction = line.crossing(before, after)
            if direction is not None:
                hist.crossings.append(Crossing(line.id, line.kind, direction, hist.last_s))
                del hist.crossings[: -self.config.max_visits]

    # --- measures the rules share ---------------------------------------------------------------------------
    def speed(self, hist: TrackHistory, window_s: float = 1.0) -> float:
        """Speed over the last ``window_s``: metres per second when calibrated, else body heights per second."""
        t, boxes = hist.since(window_s)
        if len(t) < 2 or t[-1] - t[0] <= 0:
            return 0.0
        feet = np.stack([(boxes[:, 0] + boxes[:, 2]) / 2, boxes[:, 3]], 1)
        if self.calibration is not None:
            ground = self.calibration.to_ground(feet[[0, -1]])
            return float(np.linalg.norm(ground[1] - ground[0]) / (t[-1] - t[0]))
        return float(np.linalg.norm(feet[-1] - feet[0]) / (t[-1] - t[0]) / max(hist.height_px(), 1.0))

    def distance(self, a: TrackHistory, b: TrackHistory) -> float:
        """Distance between two tracks' foot points: metres when calibrated, else in their mean body heights."""
        (xa, ya), (xb, yb) = a.foot(), b.foot()
        if self.calibration is not None:
            g = self.calibration.to_ground(np.array([[xa, ya], [xb, yb]]))
            return float(np.linalg.norm(g[1] - g[0]))
        return float(((xa - xb) ** 2 + (ya - yb) ** 2) ** 0.5 / max((a.height_px() + b.height_px()) / 2, 1.0))

    def cut_by_edge(self, box: tuple[float, float, float, float], margin_px: float = 2.0) -> bool:
        """Whether ``box`` touches the frame's edge (part of the object may be out of view; its shape says little)."""
        if self.size is None:
            return False
        w, h = self.size
        return box[0] <= margin_px or box[1] <= margin_px or box[2] >= w - margin_px or box[3] >= h - margin_px

    def people(self) -> Iterable[TrackHistory]:
        return (h for h in self.tracks.values() if h.is_person)

    def objects(self) -> Iterable[TrackHistory]:
        return (h for h in self.tracks.values() if h.is_object)

    def present(self, hist: TrackHistory) -> bool:
        """Seen on the last update."""
        return hist.last_s == self.t_s
