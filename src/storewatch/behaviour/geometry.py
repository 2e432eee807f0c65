"""A camera's zones and lines in pixels, membership with hysteresis, line crossings, optional ground calibration.

Zones are configured in normalised 0-1 coordinates and turned into pixels once the frame size is known. A person
is *in* a zone by one anchor point of their box (the foot point by default: where they stand, not where their
head overlaps). Membership has hysteresis: entering needs the anchor ``margin`` pixels inside the border, leaving
needs it ``margin`` outside, so a person standing on the border does not flap in and out.

>>> zone = ZoneGeometry.from_normalised("z", "shelf", [(0.25, 0.25), (0.75, 0.25), (0.75, 0.75), (0.25, 0.75)],
...                                    width=400, height=400)
>>> round(zone.signed_distance(200, 200)), round(zone.signed_distance(90, 200))
(100, -10)
>>> line = LineGeometry.from_normalised("door", "entrance", [(0.5, 0.0), (0.5, 1.0)], "left", 400, 400)
>>> # a->b runs down the screen: its left (as seen walking along it on the screen) is the right half
>>> line.crossing((150, 200), (250, 200)), line.crossing((250, 200), (150, 200)), line.crossing((150, 0), (160, 9))
('in', 'out', None)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

Point = tuple[float, float]


@dataclass(frozen=True, slots=True)
class ZoneGeometry:
    id: str
    kind: str
    polygon: NDArray[np.float32]
    """(K, 2) corners in pixels."""
    anchor: str = "foot"

    @classmethod
    def from_normalised(
        cls, id: str, kind: str, points: Sequence[Point], width: int, height: int, anchor: str = "foot"
    ) -> ZoneGeometry:
        poly = np.asarray(points, np.float32) * np.array([width, height], np.float32)
        return cls(id, kind, poly.reshape(-1, 1, 2), anchor)

    @property
    def bbox(self) -> tuple[float, float, float, float]:
        xs, ys = self.polygon[:, 0, 0], self.polygon[:, 0, 1]
        return float(xs.min()), float(ys.min()), float(xs.max()), float(ys.max())

    def outside_by(self, x: float, y: float, margin: float, bbox: tuple[float, float, float, float]) -> bool:
        """Whether (x, y) is more than ``margin`` outside the zone's bounding box ``bbox`` (then it is at least
        that far outside the zone: a cheap test before ``signed_distance``)."""
        return x < bbox[0] - margin or x > bbox[2] + margin or y < bbox[1] - margin or y > bbox[3] + margin

    def signed_distance(self, x: float, y: float) -> float:
        """Pixels from the border: positive inside, negative outside."""
        return float(cv2.pointPolygonTest(self.polygon, (float(x), float(y)), True))

    def contains(self, x: float, y: float) -> bool:
        return self.signed_distance(x, y) >= 0

    @property
    def area_px(self) -> float:
        return float(cv2.contourArea(self.polygon))


@dataclass(frozen=True, slots=True)
class LineGeometry:
    id: str
    kind: str
    a: Point
    b: Point
    inside: str
    """``left`` or ``right``: the side of a->b that counts as inside."""

    @classmethod
    def from_normalised(
        cls, id: str, kind: str, points: Sequence[Point], inside: str, width: int, height: int
    ) -> LineGeometry:
        (ax, ay), (bx, by) = points
        return cls(id, kind, (ax * width, ay * height), (bx * width, by * height), inside)

    def _side(self, p: Point) -> float:
        (ax, ay), (bx, by) = self.a, self.b
        # image y points down: a positive value is the right-hand side of a->b as seen walking along it on screen
        return (bx - ax) * (p[1] - ay) - (by - ay) * (p[0] - ax)

    def crossing(self, before: Point, after: Point) -> str | None:
        """``in``, ``out`` or None for a move from ``before`` to ``after`` (the segment must cross the line)."""
        s0, s1 = self._side(before), self._side(after)
        if s0 == 0 or s1 == 0 or (s0 > 0) == (s1 > 0):
            return None
        (ax, ay), (bx, by) = self.a, self.b
        # the move must pass between the line's end points
        t0 = (after[0] - before[0]) * (ay - before[1]) - (after[1] - before[1]) * (ax - before[0])
        t1 = (after[0] - before[0]) * (by - before[1]) - (after[1] - before[1]) * (bx - before[0])
        if (t0 > 0) == (t1 > 0) and t0 != 0 and t1 != 0:
            return None
        now_right = s1 > 0
        return "in" if now_right == (self.inside == "right") else "out"


class Calibration:
    """Image pixels to ground-plane metres from four point pairs (a homography)."""

    def __init__(self, image_px: Sequence[Point], world_m: Sequence[Point]) -> None:
        src, dst = np.asarray(image_px, np.float32), np.asarray(world_m, np.float32)
        if src.shape != (4, 2) or dst.shape != (4, 2):
            raise ValueError("calibration needs four image points and four ground points")
        self.matrix = cv2.getPerspectiveTransform(src, dst)

    def to_ground(self, points: NDArray[np.floating]) -> NDArray[np.float64]:
        pts = np.asarray(points, np.float64).reshape(-1, 1, 2)
        return np.asarray(cv2.perspectiveTransform(pts, self.matrix), np.float64).reshape(-1, 2)
