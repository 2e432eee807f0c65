"""Scenario paths for the fall, fight and abandoned-object rules: boxes that change shape, people who flail, and
objects that are carried, put down and left."""

from __future__ import annotations

import math
from collections.abc import Callable

from tests.behaviour.scenario import Box, person_at

Path = Callable[[float], Box | None]


def posture(
    x: float, y: float, t0: float, t1: float, changes: list[tuple[float, float, float]], h: float = 120.0
) -> Path:
    """A person with feet at (x, y), seen in [t0, t1], whose box turns at time ``at`` into one ``w`` x ``hh`` pixels
    (feet on the same floor point), for each ``(at, w, hh)`` in ``changes`` (sorted; (at, h / 3, h) is upright)."""

    def path(t: float) -> Box | None:
        if t < t0 or t > t1:
            return None
        w, hh = h / 3, h
        for at, cw, ch in changes:
            if t >= at:
                w, hh = cw, ch
        return (x - w / 2, y - hh, x + w / 2, y)

    return path


def falling(x: float, y: float, t0: float, t_fall: float, t1: float, h: float = 120.0) -> Path:
    """Standing from t0, falls sideways at ``t_fall`` (box 1.1 h wide, 0.35 h tall within half a second), lies there
    until t1 with a slight wiggle."""
    upright = posture(x, y, t0, t1, [], h)

    def path(t: float) -> Box | None:
        box = upright(t)
        if box is None or t < t_fall:
            return box
        a = min((t - t_fall) / 0.5, 1.0)
        w = h / 3 + a * (1.1 * h - h / 3)
        hh = h - a * 0.65 * h
        dx = 3.0 * math.sin(2 * t)  # a lying person moves an arm, shifts a little
        return (x - w / 2 + dx, y - hh, x + w / 2 + dx, y)

    return path


def jostling(x: float, y: float, t0: float, t1: float, phase: float, amp: float = 30.0, hz: float = 1.0,
             h: float = 120.0) -> Path:  # fmt: skip
    """A person swaying back and forth around (x, y) by ``amp`` pixels at ``hz`` (a scuffle seen from the side)."""

    def path(t: float) -> Box | None:
        if t < t0 or t > t1:
            return None
        dx = amp * math.sin(2 * math.pi * hz * t + phase)
        dy = 0.3 * amp * math.cos(2 * math.pi * 0.7 * hz * t + phase)
        return person_at(x + dx, y + dy, h)

    return path


def carried(owner: Path, until_s: float, at: tuple[float, float] | None = None, size: float = 40.0) -> Path:
    """A bag beside ``owner``'s feet while carried (until ``until_s``), then left where it was (or at ``at``)."""
    left: list[Box] = []

    def bag_at(box: Box) -> Box:
        fx, fy = box[2] + size / 2, box[3]
        return (fx - size / 2, fy - size, fx + size / 2, fy)

    def path(t: float) -> Box | None:
        if t <= until_s:
            box = owner(t)
            return None if box is None else bag_at(box)
        if not left:
            if at is not None:
                left.append((at[0] - size / 2, at[1] - size, at[0] + size / 2, at[1]))
            else:
                box = owner(until_s)
                if box is None:
                    return None
                left.append(bag_at(box))
        return left[0]

    return path
