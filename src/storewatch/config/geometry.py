"""Checks on zone and line geometry in normalised (0-1) coordinates.

>>> check_polygon([(0.1, 0.1), (0.9, 0.1), (0.5, 0.8)])
[(0.1, 0.1), (0.9, 0.1), (0.5, 0.8)]
>>> check_polygon([(0.0, 0.0), (1.0, 1.0), (1.0, 0.0), (0.0, 1.0)])
Traceback (most recent call last):
...
ValueError: polygon edges 0 and 2 cross each other (a bow-tie); list the corners in order around the area
"""

from __future__ import annotations

Point = tuple[float, float]


def _check_normalised(points: list[Point]) -> None:
    for i, (x, y) in enumerate(points):
        if not (0.0 <= x <= 1.0 and 0.0 <= y <= 1.0):
            raise ValueError(
                f"point {i} [{x}, {y}] is outside the frame: coordinates are normalised 0-1 "
                "(fractions of the frame's width and height), not pixels"
            )


def _cross(o: Point, a: Point, b: Point) -> float:
    return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])


def _segments_cross(p1: Point, p2: Point, q1: Point, q2: Point) -> bool:
    d1, d2 = _cross(q1, q2, p1), _cross(q1, q2, p2)
    d3, d4 = _cross(p1, p2, q1), _cross(p1, p2, q2)
    return (d1 > 0) != (d2 > 0) and (d3 > 0) != (d4 > 0) and 0 not in (d1, d2, d3, d4)


def check_polygon(points: list[Point]) -> list[Point]:
    """Corners inside 0-1, a non-zero area, and no two edges crossing."""
    _check_normalised(points)
    n = len(points)
    for i in range(n):
        for j in range(i + 2, n):
            if i == 0 and j == n - 1:
                continue  # adjacent through the closing edge
            if _segments_cross(points[i], points[(i + 1) % n], points[j], points[(j + 1) % n]):
                raise ValueError(
                    f"polygon edges {i} and {j} cross each other (a bow-tie); list the corners in order around the area"
                )
    area = sum(points[i][0] * points[(i + 1) % n][1] - points[(i + 1) % n][0] * points[i][1] for i in range(n)) / 2
    if abs(area) < 1e-6:
        raise ValueError("polygon has no area (its corners lie on one line or repeat)")
    return points


def check_segment(points: list[Point]) -> list[Point]:
    """Two distinct points inside 0-1."""
    _check_normalised(points)
    (ax, ay), (bx, by) = points
    if abs(ax - bx) < 1e-6 and abs(ay - by) < 1e-6:
        raise ValueError("the line's two points are the same")
    return points
