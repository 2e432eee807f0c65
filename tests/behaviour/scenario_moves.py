"""More ways to move actors in scenario tests: routes through waypoints, a one-frame glitch, a crowd standing."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from itertools import pairwise

from tests.behaviour.scenario import Actor, Box, person_at

Path = Callable[[float], Box | None]
Waypoint = tuple[float, float, float]
"""(t_s, foot x, foot y)."""


def route(waypoints: Sequence[Waypoint], h: float = 120.0) -> Path:
    """Feet moving straight from waypoint to waypoint (standing still where two share a place); unseen before the
    first and after the last."""
    points = sorted(waypoints)

    def path(t: float) -> Box | None:
        if not points or t < points[0][0] or t > points[-1][0]:
            return None
        for (t0, x0, y0), (t1, x1, y1) in pairwise(points):
            if t0 <= t <= t1:
                a = (t - t0) / max(t1 - t0, 1e-9)
                return person_at(x0 + a * (x1 - x0), y0 + a * (y1 - y0), h)
        return person_at(points[-1][1], points[-1][2], h)

    return path


def glitch(path: Path, at_s: float, dx: float, dy: float = 0.0, fps: float = 10.0) -> Path:
    """``path`` with the one frame nearest ``at_s`` thrown ``dx, dy`` pixels off (a detector glitch)."""

    def moved(t: float) -> Box | None:
        box = path(t)
        if box is None or abs(t - at_s) > 0.5 / fps:
            return box
        x1, y1, x2, y2 = box
        return (x1 + dx, y1 + dy, x2 + dx, y2 + dy)

    return moved


def crowd(
    first_id: int, count: int, area: tuple[float, float, float, float], t0: float, t1: float, h: float = 80.0
) -> list[Actor]:
    """``count`` people standing on a grid inside ``area`` (x1, y1, x2, y2 in pixels of the feet) from t0 to t1."""
    x1, y1, x2, y2 = area
    cols = max(1, round((count * (x2 - x1) / max(y2 - y1, 1.0)) ** 0.5))
    rows = -(-count // cols)
    actors = []
    for i in range(count):
        r, c = divmod(i, cols)
        x = x1 + (c + 0.5) * (x2 - x1) / cols
        y = y1 + (r + 0.5) * (y2 - y1) / rows
        actors.append(Actor(first_id + i, route([(t0, x, y), (t1, x, y)], h)))
    return actors


def queuer(
    track_id: int, spot: tuple[float, float], join_s: float, served_s: float, till: tuple[float, float],
    h: float = 60.0, exit_at: tuple[float, float] = (630.0, 470.0),
) -> Actor:  # fmt: skip
    """A customer: walks up from the bottom of the frame to ``spot`` in the queue (arriving at ``join_s``), waits
    there until ``served_s``, steps to the ``till`` (2 s), is served there for 10 s and walks off to ``exit_at``."""
    return Actor(
        track_id,
        route(
            [(join_s - 2, spot[0], 470.0), (join_s, *spot), (served_s, *spot), (served_s + 2, *till),
             (served_s + 12, *till), (served_s + 15, *exit_at)],
            h,
        ),
    )  # fmt: skip
