"""MOTChallenge text files: ``frame,id,x,y,w,h,score,a,b,c`` with 1-based frames and top-left + size boxes.

The format every tracking benchmark reads, and the track file ``storewatch track`` writes (``a,b,c`` = -1).

>>> import io
>>> buf = io.StringIO()
>>> write_mot(buf, rows_of(0, Detections(np.array([[10, 20, 40, 100]]), np.array([0.9]), track_id=np.array([7]))))
>>> buf.getvalue()
'1,7,10.00,20.00,30.00,80.00,0.900,-1,-1,-1\\n'
>>> rows = read_mot(io.StringIO(buf.getvalue()))
>>> rows.frame.tolist(), rows.track_id.tolist(), rows.xyxy.tolist()
([1], [7], [[10.0, 20.0, 40.0, 100.0]])
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import IO

import numpy as np
from numpy.typing import NDArray

from storewatch.core.detections import Detections
from storewatch.errors import StorewatchError


@dataclass(frozen=True, slots=True)
class MotRows:
    """Rows of a MOT file as columns. ``flag`` is column 7 (score for results, 0/1 'consider' flag for GT)."""

    frame: NDArray[np.int64]
    track_id: NDArray[np.int64]
    xyxy: NDArray[np.float64]
    flag: NDArray[np.float64]

    def __len__(self) -> int:
        return int(self.frame.shape[0])

    def select(self, mask: NDArray[np.bool_]) -> MotRows:
        return MotRows(self.frame[mask], self.track_id[mask], self.xyxy[mask], self.flag[mask])

    def frames(self, first: int, last: int) -> MotRows:
        """Rows with ``first <= frame <= last`` (1-based, inclusive)."""
        return self.select((self.frame >= first) & (self.frame <= last))


def read_mot(source: Path | IO[str]) -> MotRows:
    """Parse a MOT file; a malformed line raises an error naming the file and line."""
    name = str(source) if isinstance(source, Path) else "<stream>"
    if isinstance(source, Path):
        if not source.is_file():
            raise StorewatchError(f"{source}: no such file")
        text = source.read_text(encoding="utf-8", errors="replace")
    else:
        text = source.read()
    values: list[list[float]] = []
    for lineno, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        parts = line.replace(" ", "").split(",")
        try:
            nums = [float(p) for p in parts[:7]]
        except ValueError as exc:
            raise StorewatchError(f"{name}:{lineno}: not a MOT row ({exc})") from exc
        if len(nums) < 6:
            raise StorewatchError(f"{name}:{lineno}: a MOT row needs at least 6 columns, got {len(nums)}")
        values.append(nums + [1.0] * (7 - len(nums)))
    a = np.asarray(values, np.float64).reshape(-1, 7)
    xyxy = np.stack([a[:, 2], a[:, 3], a[:, 2] + a[:, 4], a[:, 3] + a[:, 5]], 1)
    return MotRows(a[:, 0].astype(np.int64), a[:, 1].astype(np.int64), xyxy, a[:, 6])


def rows_of(seq: int, tracks: Detections) -> MotRows:
    """MOT rows of one frame's tracked detections (0-based ``seq``, written 1-based); untracked rows skipped."""
    t = tracks[tracks.track_id >= 0]
    return MotRows(
        np.full(len(t), seq + 1, np.int64), t.track_id.astype(np.int64), t.xyxy.astype(np.float64),
        t.confidence.astype(np.float64),
    )  # fmt: skip


def concat_rows(parts: list[MotRows]) -> MotRows:
    if not parts:
        return MotRows(np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros((0, 4)), np.zeros(0))
    return MotRows(
        np.concatenate([p.frame for p in parts]), np.concatenate([p.track_id for p in parts]),
        np.concatenate([p.xyxy for p in parts]), np.concatenate([p.flag for p in parts]),
    )  # fmt: skip


def write_mot(stream: IO[str], rows: MotRows) -> None:
    """Write rows as ``frame,id,x,y,w,h,score,-1,-1,-1``."""
    stream.writelines(
        f"{f},{i},{x1:.2f},{y1:.2f},{x2 - x1:.2f},{y2 - y1:.2f},{s:.3f},-1,-1,-1\n"
        for f, i, (x1, y1, x2, y2), s in zip(rows.frame, rows.track_id, rows.xyxy, rows.flag, strict=True)
    )
