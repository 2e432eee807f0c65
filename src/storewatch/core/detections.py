"""The one detection type that flows through every stage.

``Detections`` is columnar (one numpy array per field, one row per detection) and validated on construction, so
a stage can trust its input.  It is immutable by convention: every operation returns a new object and never
writes into its inputs (arrays are copied on construction and marked read-only).

>>> import numpy as np
>>> d = Detections(xyxy=np.array([[0, 0, 10, 20], [5, 5, 9, 9]]), confidence=np.array([0.9, 0.4]),
...                class_id=np.array([0, 24]))
>>> len(d), d.track_id.tolist()
(2, [-1, -1])
>>> d[d.confidence > 0.5].xyxy.tolist()
[[0.0, 0.0, 10.0, 20.0]]
>>> d.with_track_ids(np.array([3, 4])).track_id.tolist()
[3, 4]
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

FloatArray = NDArray[np.float32]
IntArray = NDArray[np.int64]
BoolArray = NDArray[np.bool_]

NO_TRACK = -1
"""``track_id`` of a detection that no tracker has claimed."""


def _frozen(a: NDArray[Any]) -> NDArray[Any]:
    a = np.array(a, copy=True)
    a.setflags(write=False)
    return a


@dataclass(frozen=True, slots=True, init=False)
class Detections:
    """N detections: boxes ``xyxy`` (pixels, x1 <= x2, y1 <= y2), ``confidence`` in [0, 1], COCO ``class_id``,
    ``track_id`` (``NO_TRACK`` = none) and optional per-detection ``data`` columns (each of length N)."""

    xyxy: FloatArray
    confidence: FloatArray
    class_id: IntArray
    track_id: IntArray
    data: Mapping[str, NDArray[Any]] = field(default_factory=dict)

    def __init__(
        self,
        xyxy: ArrayLike,
        confidence: ArrayLike | None = None,
        class_id: ArrayLike | None = None,
        track_id: ArrayLike | None = None,
        data: Mapping[str, ArrayLike] | None = None,
    ) -> None:
        boxes = np.asarray(xyxy, dtype=np.float32)
        if boxes.size == 0:
            boxes = boxes.reshape(0, 4)
        if boxes.ndim != 2 or boxes.shape[1] != 4:
            raise ValueError(f"xyxy must have shape (N, 4), got {boxes.shape}")
        n = boxes.shape[0]
        conf = np.ones(n, np.float32) if confidence is None else np.asarray(confidence, dtype=np.float32)
        cls = np.zeros(n, np.int64) if class_id is None else np.asarray(class_id, dtype=np.int64)
        tid = np.full(n, NO_TRACK, np.int64) if track_id is None else np.asarray(track_id, dtype=np.int64)
        for name, col in (("confidence", conf), ("class_id", cls), ("track_id", tid)):
            if col.shape != (n,):
                raise ValueError(f"{name} must have shape ({n},), got {col.shape}")
        if not np.isfinite(boxes).all():
            raise ValueError("xyxy contains NaN or infinity")
        if n and ((boxes[:, 2] < boxes[:, 0]).any() or (boxes[:, 3] < boxes[:, 1]).any()):
            raise ValueError("xyxy boxes must satisfy x1 <= x2 and y1 <= y2")
        if n and (~np.isfinite(conf) | (conf < 0) | (conf > 1)).any():
            raise ValueError("confidence must be within [0, 1]")
        cols: dict[str, NDArray[Any]] = {}
        for key, value in (data or {}).items():
            arr = np.asarray(value)
            if arr.shape[:1] != (n,):
                raise ValueError(f"data column {key!r} must have length {n}, got shape {arr.shape}")
            cols[key] = _frozen(arr)
        object.__setattr__(self, "xyxy", _frozen(boxes))
        object.__setattr__(self, "confidence", _frozen(conf))
        object.__setattr__(self, "class_id", _frozen(cls))
        object.__setattr__(self, "track_id", _frozen(tid))
        object.__setattr__(self, "data", cols)

    # --- construction -------------------------------------------------------------------------------------
    @classmethod
    def empty(cls) -> Detections:
        """No detections."""
        return cls(np.zeros((0, 4), np.float32))

    @classmethod
    def merge(cls, parts: Iterable[Detections]) -> Detections:
        """Concatenate detections; ``data`` keeps only the columns every part has."""
        items = list(parts)
        if not items:
            return cls.empty()
        keys = set(items[0].data)
        for d in items[1:]:
            keys &= set(d.data)
        return cls(
            np.concatenate([d.xyxy for d in items]),
            np.concatenate([d.confidence for d in items]),
            np.concatenate([d.class_id for d in items]),
            np.concatenate([d.track_id for d in items]),
            {k: np.concatenate([d.data[k] for d in items]) for k in sorted(keys)},
        )

    # --- access -------------------------------------------------------------------------------------------
    def __len__(self) -> int:
        return int(self.xyxy.shape[0])

    def __getitem__(self, index: int | slice | BoolArray | IntArray | list[int]) -> Detections:
        """Select rows by a boolean mask, integer indices or a slice; always returns ``Detections``."""
        idx: Any = [index] if isinstance(index, int | np.integer) else index
        return Detections(
            self.xyxy[idx],
            self.confidence[idx],
            self.class_id[idx],
            self.track_id[idx],
            {k: v[idx] for k, v in self.data.items()},
        )

    def __iter__(self) -> Iterator[Detections]:
        for i in range(len(self)):
            yield self[i]

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Detections):
            return NotImplemented
        return (
            np.array_equal(self.xyxy, other.xyxy)
            and np.array_equal(self.confidence, other.confidence)
            and np.array_equal(self.class_id, other.class_id)
            and np.array_equal(self.track_id, other.track_id)
            and self.data.keys() == other.data.keys()
            and all(np.array_equal(v, other.data[k]) for k, v in self.data.items())
        )

    __hash__ = None  # type: ignore[assignment]

    # --- derived geometry ---------------------------------------------------------------------------------
    @property
    def width(self) -> FloatArray:
        return self.xyxy[:, 2] - self.xyxy[:, 0]

    @property
    def height(self) -> FloatArray:
        return self.xyxy[:, 3] - self.xyxy[:, 1]

    @property
    def area(self) -> FloatArray:
        return self.width * self.height

    @property
    def center(self) -> FloatArray:
        """(N, 2) box centres."""
        return np.stack([(self.xyxy[:, 0] + self.xyxy[:, 2]) / 2, (self.xyxy[:, 1] + self.xyxy[:, 3]) / 2], 1)

    @property
    def foot(self) -> FloatArray:
        """(N, 2) bottom-centre points: where a standing person touches the floor."""
        return np.stack([(self.xyxy[:, 0] + self.xyxy[:, 2]) / 2, self.xyxy[:, 3]], 1)

    # --- derivation (new objects, inputs untouched) ---------------------------------------------------------
    def with_track_ids(self, track_id: ArrayLike) -> Detections:
        return Detections(self.xyxy, self.confidence, self.class_id, track_id, self.data)

    def with_boxes(self, xyxy: ArrayLike) -> Detections:
        return Detections(xyxy, self.confidence, self.class_id, self.track_id, self.data)

    def with_data(self, **columns: ArrayLike) -> Detections:
        return Detections(self.xyxy, self.confidence, self.class_id, self.track_id, {**self.data, **columns})

    def of_classes(self, class_ids: Iterable[int]) -> Detections:
        """Only detections whose class is in ``class_ids``."""
        return self[np.isin(self.class_id, np.fromiter(class_ids, np.int64))]

    def clip(self, width: int, height: int) -> Detections:
        """Boxes clipped to the image ``width`` x ``height``."""
        b = self.xyxy.copy()
        b[:, [0, 2]] = b[:, [0, 2]].clip(0, width)
        b[:, [1, 3]] = b[:, [1, 3]].clip(0, height)
        return self.with_boxes(b)

    def scale(self, sx: float, sy: float) -> Detections:
        """Boxes scaled by (sx, sy), e.g. from detector input to frame pixels."""
        return self.with_boxes(self.xyxy * np.array([sx, sy, sx, sy], np.float32))


def box_iou(a: NDArray[np.floating[Any]], b: NDArray[np.floating[Any]]) -> NDArray[np.float64]:
    """Pairwise IoU of (N, 4) and (M, 4) xyxy boxes, shape (N, M).

    >>> box_iou(np.array([[0, 0, 2, 2]]), np.array([[1, 1, 3, 3], [0, 0, 2, 2]])).round(3).tolist()
    [[0.143, 1.0]]
    """
    a64 = np.asarray(a, np.float64)
    b64 = np.asarray(b, np.float64)
    if a64.size == 0 or b64.size == 0:
        return np.zeros((a64.reshape(-1, 4).shape[0], b64.reshape(-1, 4).shape[0]))
    lt = np.maximum(a64[:, None, :2], b64[None, :, :2])
    rb = np.minimum(a64[:, None, 2:], b64[None, :, 2:])
    wh = (rb - lt).clip(0)
    inter = wh[..., 0] * wh[..., 1]
    area_a = (a64[:, 2] - a64[:, 0]) * (a64[:, 3] - a64[:, 1])
    area_b = (b64[:, 2] - b64[:, 0]) * (b64[:, 3] - b64[:, 1])
    union = area_a[:, None] + area_b[None, :] - inter
    out: NDArray[np.float64] = np.where(union > 0, inter / np.maximum(union, 1e-12), 0.0)
    return out
