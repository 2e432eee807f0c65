"""Track files for replay: MOTChallenge text (``frame,id,x,y,w,h,score,...``, label ``person``) or CSV with a
header holding at least ``frame,track_id,x,y,w,h`` and optionally ``label`` and ``score`` (the form the live
pipeline records). Boxes are top-left + size in pixels; frames are 1-based and must not go backwards.

The file is read as a stream (a day of tracks is millions of rows): ``read_track_frames`` yields one
``TrackFrame`` per frame number. Every malformed line is an error naming the file, the line and what is wrong.

>>> import io
>>> text = "frame,track_id,label,x,y,w,h\\n1,4,person,10,20,30,60\\n1,5,object,50,50,10,10\\n3,4,person,12,20,30,60\\n"
>>> [(f.frame, f.tracks.track_id.tolist(), f.tracks.class_id.tolist()) for f in read_track_frames(io.StringIO(text))]
[(1, [4, 5], [0, 1000]), (3, [4], [0])]
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import numpy as np

from storewatch.behaviour.scene import class_id_of, class_label
from storewatch.core.detections import Detections
from storewatch.errors import StorewatchError

CSV_COLUMNS = ("frame", "track_id", "x", "y", "w", "h")
CSV_HEADER = "frame,t_s,track_id,label,x,y,w,h,score"


@dataclass(frozen=True, slots=True)
class TrackFrame:
    frame: int
    """1-based frame number."""
    tracks: Detections
    t_s: float | None = None
    """Seconds into the file, when it records them (the live pipeline's files do: a ``t_s`` column)."""


def _open(source: Path | IO[str]) -> tuple[str, IO[str]]:
    if isinstance(source, Path):
        if not source.is_file():
            raise StorewatchError(f"{source}: no such file", fix="give the path of a MOT or CSV track file")
        return str(source), source.open(encoding="utf-8", newline="")
    return "<stream>", source


def read_track_frames(source: Path | IO[str]) -> Iterator[TrackFrame]:
    """The tracks of each frame, in order (see the module's description of the formats)."""
    name, handle = _open(source)
    with handle:
        first = handle.readline()
        if not first.strip():
            raise StorewatchError(f"{name}: the track file is empty")
        has_header = any(c.isalpha() for c in first.split(",")[0])
        rows = _csv_rows(name, first, handle) if has_header else _mot_rows(name, first, handle)
        yield from _frames(name, rows)


_Row = tuple[int, int, int, str, float, float, float, float, float, float | None]
"""lineno, frame, track id, label, x, y, w, h, score, t_s."""


def _number(name: str, lineno: int, column: str, text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise StorewatchError(f"{name}:{lineno}: column {column} is {text!r}, not a number") from None
    if not np.isfinite(value):
        raise StorewatchError(f"{name}:{lineno}: column {column} is {text!r}, not a finite number")
    return value


def _mot_rows(name: str, first: str, handle: IO[str]) -> Iterator[_Row]:
    for lineno, line in enumerate(_chain(first, handle), 1):
        if not line.strip():
            continue
        parts = line.strip().split(",")
        if len(parts) < 6:
            raise StorewatchError(f"{name}:{lineno}: a MOT row needs at least 6 columns, got {len(parts)}")
        cols = ("frame", "id", "x", "y", "w", "h", "score")
        v = [_number(name, lineno, c, p) for c, p in zip(cols, parts[:7], strict=False)]
        yield lineno, int(v[0]), int(v[1]), "person", v[2], v[3], v[4], v[5], v[6] if len(v) > 6 else 1.0, None


def _chain(first: str, handle: IO[str]) -> Iterator[str]:
    yield first
    yield from handle


def _csv_rows(name: str, first: str, handle: IO[str]) -> Iterator[_Row]:
    header = [h.strip().lower() for h in next(csv.reader([first]))]
    missing = [c for c in CSV_COLUMNS if c not in header]
    if missing:
        raise StorewatchError(
            f"{name}:1: the header lacks column(s) {', '.join(missing)}",
            fix=f"a CSV track file starts with a header holding at least {','.join(CSV_COLUMNS)}",
        )
    at = {c: header.index(c) for c in header}
    for lineno, parts in enumerate(csv.reader(handle), 2):
        if not parts or not any(p.strip() for p in parts):
            continue
        if len(parts) < len(header):
            raise StorewatchError(f"{name}:{lineno}: {len(parts)} columns, the header has {len(header)}")
        v = {c: parts[i].strip() for c, i in at.items()}
        nums = [_number(name, lineno, c, v[c]) for c in CSV_COLUMNS]
        score = _number(name, lineno, "score", v["score"]) if v.get("score") else 1.0
        t_s = _number(name, lineno, "t_s", v["t_s"]) if v.get("t_s") else None
        label = v.get("label") or "person"
        yield lineno, int(nums[0]), int(nums[1]), label, nums[2], nums[3], nums[4], nums[5], score, t_s


def _frames(name: str, rows: Iterator[_Row]) -> Iterator[TrackFrame]:
    current: list[_Row] = []
    for row in rows:
        lineno, frame, _, _, _, _, w, h, _, _ = row
        if w < 0 or h < 0:
            raise StorewatchError(f"{name}:{lineno}: negative box size {w} x {h}")
        if current and frame < current[0][1]:
            raise StorewatchError(
                f"{name}:{lineno}: frame {frame} comes after frame {current[0][1]}: frames must not go backwards",
                fix="sort the file by frame",
            )
        if current and frame != current[0][1]:
            yield _frame(current)
            current = []
        current.append(row)
    if current:
        yield _frame(current)


def _frame(rows: list[_Row]) -> TrackFrame:
    a = np.array([[r[4], r[5], r[4] + r[6], r[5] + r[7]] for r in rows], np.float32)
    score = np.clip([r[8] for r in rows], 0.0, 1.0)
    classes = np.array([class_id_of(r[3]) for r in rows], np.int64)
    tracks = Detections(a, score, classes, np.array([r[2] for r in rows], np.int64))
    return TrackFrame(rows[0][1], tracks, rows[0][9])


def track_csv_line(frame: int, t_s: float, tracks: Detections) -> str:
    """CSV rows (``CSV_HEADER`` columns) of one frame's tracks, for recording from the live pipeline."""
    out = []
    for row in range(len(tracks)):
        if tracks.track_id[row] < 0:
            continue
        x1, y1, x2, y2 = (float(v) for v in tracks.xyxy[row])
        label = class_label(int(tracks.class_id[row]))
        box = f"{x1:.1f},{y1:.1f},{x2 - x1:.1f},{y2 - y1:.1f}"
        out.append(f"{frame},{t_s:.3f},{int(tracks.track_id[row])},{label},{box},{float(tracks.confidence[row]):.3f}\n")
    return "".join(out)
