"""More scenario building blocks for the zone rules: objects, paths in legs, detector jitter, store hours."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime

import numpy as np

from storewatch.behaviour.schedule import StoreSchedule, Weekly
from storewatch.core.events import Event
from tests.behaviour.scenario import T0, Box

Path = Callable[[float], Box | None]

SUITCASE = 28
"""COCO class id of a suitcase (an object the scene watches)."""


def object_at(x: float, y: float, w: float = 50.0, h: float = 40.0) -> Box:
    """An object resting on the floor at (x, y): its bottom edge's middle there, ``w`` x ``h`` pixels."""
    return (x - w / 2, y - h, x + w / 2, y)


def still_object(x: float, y: float, t0: float, t1: float, w: float = 50.0, h: float = 40.0) -> Path:
    """An object seen at (x, y) from ``t0`` to ``t1``."""
    box = object_at(x, y, w, h)
    return lambda t: box if t0 <= t <= t1 else None


def legs(*paths: Path) -> Path:
    """One track made of several paths (each unseen outside its own times): the first that sees it wins."""

    def path(t: float) -> Box | None:
        return next((b for p in paths if (b := p(t)) is not None), None)

    return path


def jittered(path: Path, px: float = 3.0, seed: int = 0) -> Path:
    """``path`` with the detector's box noise: each corner moved by up to ``px`` pixels, the same for the same t."""

    def noisy(t: float) -> Box | None:
        box = path(t)
        if box is None:
            return None
        rng = np.random.default_rng([seed, round(t * 1000)])
        d = rng.uniform(-px, px, 4)
        return (box[0] + d[0], box[1] + d[1], box[2] + d[2], box[3] + d[3])

    return noisy


def at(hour: int, minute: int = 0) -> datetime:
    """That time (UTC) on the scenario's day, a Monday."""
    return T0.replace(hour=hour, minute=minute)


def shop_hours(**kwargs: object) -> StoreSchedule:
    """A shop open 08:00-20:00 every day (UTC), plus whatever ``kwargs`` add (holidays, schedules)."""
    every_day = {day: ["08:00-20:00"] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
    return StoreSchedule.model_validate({"opening_hours": Weekly(**every_day), **kwargs})


def of_type(events: Iterable[Event], type_: str, state: str | None = None) -> list[Event]:
    return [e for e in events if e.type == type_ and (state is None or e.state.value == state)]
