"""Track history on disk: each camera's tracks as CSV, one file per UTC day (``<root>/<store>/<camera>/<date>.csv``),
the form ``storewatch replay`` and ``storewatch backtest`` read. ``t_s`` is seconds since that day's midnight
(UTC), so a replay started at the day's midnight puts every event at its time of day."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

from storewatch.core.detections import Detections
from storewatch.io.tracks import CSV_HEADER, track_csv_line


class TrackRecorder:
    """``add(utc, tracks)`` appends a frame; files roll over at UTC midnight; ``close()`` flushes."""

    def __init__(self, root: Path, camera_id: str) -> None:
        store, _, camera = camera_id.partition("/")
        self.folder = root / store / camera
        self._day: str | None = None
        self._file: IO[str] | None = None
        self._frame = 0
        self._size: tuple[int, int] | None = None
        self.rows = 0

    def add(self, utc: datetime, tracks: Detections, size: tuple[int, int] | None = None) -> None:
        """Append one frame; ``size`` (width, height) is written once to ``camera.json`` beside the files (zones
        are normalised: a replay needs it)."""
        if size is not None and size != self._size:
            self.folder.mkdir(parents=True, exist_ok=True)
            (self.folder / "camera.json").write_text(json.dumps({"width": size[0], "height": size[1]}) + "\n")
            self._size = size
        utc = utc.astimezone(UTC)
        day = utc.strftime("%Y-%m-%d")
        if day != self._day:
            self._roll(day)
        assert self._file is not None
        midnight = utc.replace(hour=0, minute=0, second=0, microsecond=0)
        self._frame += 1
        text = track_csv_line(self._frame, (utc - midnight).total_seconds(), tracks)
        if text:
            self._file.write(text)
            self.rows += text.count("\n")

    def _roll(self, day: str) -> None:
        self.close()
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / f"{day}.csv"
        fresh = not path.exists() or path.stat().st_size == 0
        self._file = path.open("a", encoding="utf-8", buffering=64 * 1024)
        if fresh:
            self._file.write(CSV_HEADER + "\n")
        self._frame = _last_frame(path) if not fresh else 0
        self._day = day

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


def _last_frame(path: Path) -> int:
    """The last frame number in an existing file (a restart appends after it, so frames never go backwards)."""
    with path.open("rb") as f:
        f.seek(0, 2)
        f.seek(max(0, f.tell() - 4096))
        lines = f.read().decode("utf-8", "replace").strip().splitlines()
    for line in reversed(lines):
        head = line.split(",", 1)[0]
        if head.isdigit():
            return int(head)
    return 0
