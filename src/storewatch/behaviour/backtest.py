"""Backtesting a changed rule set on stored track history: how many events each rule would have raised per
camera-day, under the current rules and under the candidate, before anyone switches.

The history is what ``storewatch run`` keeps: ``<tracks>/<store>/<camera>/<YYYY-MM-DD>.csv`` with ``camera.json``
(frame size) beside them. Each file is replayed twice (current and candidate settings of that camera) from the
day's midnight UTC, so schedules apply as they would have.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from storewatch.behaviour.replay import replay_events
from storewatch.behaviour.rules.registry import RULES
from storewatch.behaviour.site import engine_for, find_camera
from storewatch.config.schema import SiteConfig
from storewatch.errors import StorewatchError


@dataclass(frozen=True, slots=True)
class CameraDay:
    camera: str
    day: str
    path: Path
    size: tuple[int, int]


@dataclass
class BacktestResult:
    camera_days: int = 0
    track_points: int = 0
    current: Counter[str] = field(default_factory=Counter)
    candidate: Counter[str] = field(default_factory=Counter)

    def table(self) -> list[dict[str, object]]:
        """Per rule: events per camera-day now and with the candidate, and the change."""
        days = max(self.camera_days, 1)
        rows: list[dict[str, object]] = []
        for name in RULES:
            now, new = self.current[name] / days, self.candidate[name] / days
            rows.append({"rule": name, "current_per_camera_day": round(now, 2),
                         "candidate_per_camera_day": round(new, 2),
                         "change_percent": None if now == 0 else round(100 * (new - now) / now, 1)})  # fmt: skip
        return rows


def find_history(tracks: Path) -> list[CameraDay]:
    """Every camera-day file under ``tracks`` (a clear error when there is none)."""
    if not tracks.is_dir():
        raise StorewatchError(f"{tracks}: no such folder", fix="point --tracks at the data folder's tracks/")
    out = []
    for path in sorted(tracks.glob("*/*/*.csv")):
        meta = path.parent / "camera.json"
        try:
            size_info = json.loads(meta.read_text())
            size = (int(size_info["width"]), int(size_info["height"]))
        except (OSError, ValueError, KeyError) as exc:
            raise StorewatchError(f"{meta}: the camera's frame size is missing or unreadable ({exc})") from None
        out.append(CameraDay(f"{path.parent.parent.name}/{path.parent.name}", path.stem, path, size))
    if not out:
        raise StorewatchError(f"{tracks}: no track history (<store>/<camera>/<date>.csv) found")
    return out


def backtest(
    current: SiteConfig,
    candidate: SiteConfig,
    history: list[CameraDay],
    *,
    on_file: Callable[[CameraDay], None] | None = None,
) -> BacktestResult:
    result = BacktestResult()
    for day in history:
        start = datetime.strptime(day.day, "%Y-%m-%d").replace(tzinfo=UTC)
        for site, counts in ((current, result.current), (candidate, result.candidate)):
            store, cam = find_camera(site, day.camera)
            engine = engine_for(site, store, cam, *day.size)
            for event in replay_events(engine, day.path, 5.0, start):
                counts[event.type] += 1
        result.camera_days += 1
        if on_file is not None:
            on_file(day)
    return result
