"""MOTChallenge text files: ``frame,id,x,y,w,h,score,a,b,c`` with 1-based frames and top-left + size boxes.

The format every tracking benchmark reads, and the track file ``storewatch track`` writes (``a,b,c`` = -1).

>>> import io
>>> buf = io.StringIO()
>>> w = MotWriter(buf)
>>> w.write(0, Detections(np.array([[10, 20, 40, 100]]), np.array([0.9]), track_id=np.array([7])))
1
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


class MotWriter:
    """Appends tracked detections of one frame at a time; returns the number of rows written."""

    def __init__(self, stream: IO[str]) -> None:
        self._stream = stream

    def write(self, seq: int, tracks: Detections) -> int:
        """Write the tracks of the frame with 0-based sequence number ``seq`` (written 1-based)."""
        lines = []
        for (x1, y1, x2, y2), tid, score in zip(tracks.xyxy, tracks.track_id, tracks.confidence, strict=True):
            if tid < 0:
                continue
            lines.append(
                f"{seq + 1},{tid},{x1:.2f},{y1:.2f},{x2 - x1:.2f},{y2 - y1:.2f},{score:.3f},-1,-1,-1\n"
            )
        self._stream.writelines(lines)
        return len(lines)
