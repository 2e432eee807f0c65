"""A ByteTrack-family multi-object tracker (Zhang et al., 2022), in numpy and scipy, time-aware.

Why our own: no tracking library fits this machine (Roboflow's ``trackers`` pulls the GUI OpenCV build, norfair
pins numpy<2, boxmot pulls CUDA torch), and the product needs lifetimes in seconds and ids owned by the camera.

Per update: tracks not seen for longer than ``lost_ttl_s`` end (before matching, so after a long stall of the
camera nothing is matched on stale grounds); the others are predicted to the frame's time (Kalman, constant
velocity, ``dt`` in seconds); then
  1. confident detections (>= ``high_score``) are matched to confirmed and lost tracks by IoU (fused with score);
  2. the remaining confirmed tracks are matched to weak detections (``low_score``..``high_score``): the "byte"
     step that keeps people through partial occlusion, when their score drops;
  3. lost tracks may be re-found by appearance near where they were (only when detections carry an
     ``"embedding"`` data column; ``recover_radius_heights = 0`` turns it off);
  4. tentative tracks are matched to the confident detections left; a tentative track that misses ends at once;
  5. confident detections still unmatched (>= ``new_track_score``) start tentative tracks (confirmed at once on
     the first frame, as ByteTrack does, unless ``confirm_first_frame`` is off);
  6. unmatched confirmed tracks become lost; a lost track lying on an older confirmed one ends (a duplicate).
Matching only pairs boxes of the same class. Boxes of zero width or height are ignored.

The state is a table of columns (one numpy array per field, one row per live track), so each step is a few numpy
operations however many tracks there are. Nothing about a track outlives it; ``reset()`` forgets everything.

>>> from datetime import UTC, datetime
>>> from storewatch.core import CameraId, Detections, FrameMeta
>>> tracker = ByteTracker(camera_id=CameraId("s1/c1"))
>>> def meta(i): return FrameMeta(CameraId("s1/c1"), i, i * 0.1, datetime(2026, 1, 1, tzinfo=UTC), 640, 480)
>>> for i in range(3):
...     out = tracker.update(Detections([[100 + 5 * i, 100, 140 + 5 * i, 200]], [0.9]), meta(i))
>>> out.track_id.tolist(), out.data["det_index"].tolist(), [t.track_id for t in tracker.tracks()]
([1], [0], ['s1/c1/1'])
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

import numpy as np
from numpy.typing import NDArray

from storewatch.core.detections import Detections, box_iou
from storewatch.core.frame import FrameMeta
from storewatch.core.ids import CameraId, track_key
from storewatch.core.track import Track, TrackState
from storewatch.track import kalman
from storewatch.track.config import ReportBox, TrackerConfig
from storewatch.track.matching import appearance_distance, association_cost, match, recovery_cost

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
BoolArray = NDArray[np.bool_]

TENTATIVE, CONFIRMED, LOST = 0, 1, 2
_STATES = (TrackState.TENTATIVE, TrackState.CONFIRMED, TrackState.LOST)
DUPLICATE_IOU = 0.85
"""A lost track overlapping a confirmed one by more than this is the same object seen twice."""
_ALL = slice(None)
OBSERVED_FRACTION = 0.9
"""A track counts as looked for when at least this part of its predicted box lies inside one detector window."""


@dataclass(slots=True)
class _Table:
    """The tracker's private state: one row per live track, one array per field."""

    number: IntArray
    class_id: IntArray
    state: NDArray[np.int8]
    pos: FloatArray
    """(N, 4) the Kalman filter's belief (``kalman.Gaussian``, field by field): box (cx, cy, a, h) ..."""
    vel: FloatArray
    """... its rates per second ..."""
    var_pos: FloatArray
    """... and the compact covariance."""
    cov_pos_vel: FloatArray
    var_vel: FloatArray
    first_s: FloatArray
    last_s: FloatArray
    """Monotonic time of the latest match."""
    hits: IntArray
    score: FloatArray
    det_box: FloatArray
    """(N, 4) box of the latest matched detection."""
    emb: FloatArray
    """(N, D) running mean of the appearance descriptor (D = 0 until detections carry one)."""
    has_emb: BoolArray
    det_row: IntArray
    """Row of the detection matched in the current update, -1 if none."""
    observed: BoolArray
    """Whether the detector looked where the track is in the current update (see ``update``'s ``looked_at``)."""

    @classmethod
    def empty(cls) -> _Table:
        def z(*shape: int, dtype: type[np.generic] = np.float64) -> NDArray[Any]:
            return np.zeros((0, *shape), dtype)

        i64 = np.int64
        return cls(
            z(dtype=i64), z(dtype=i64), z(dtype=np.int8), z(4), z(4), z(4), z(4), z(4), z(), z(), z(dtype=i64),
            z(), z(4), z(0), z(dtype=np.bool_), z(dtype=i64), z(dtype=np.bool_),
        )  # fmt: skip

    def __len__(self) -> int:
        return int(self.number.shape[0])

    def take(self, index: BoolArray | IntArray) -> _Table:
        """The rows selected by a mask or indices (copies)."""
        return _Table(*(getattr(self, f.name)[index] for f in fields(self)))

    def extend(self, other: _Table) -> _Table:
        """This table with ``other``'s rows appended."""
        return _Table(*(np.concatenate([getattr(self, f.name), getattr(other, f.name)]) for f in fields(self)))

    def belief(self, index: slice | IntArray = _ALL) -> kalman.Gaussian:
        """The Kalman belief about the tracks at ``index`` (views for a slice)."""
        return kalman.Gaussian(
            self.pos[index], self.vel[index], self.var_pos[index], self.cov_pos_vel[index], self.var_vel[index]
        )

    def set_belief(self, g: kalman.Gaussian, index: slice | IntArray = _ALL) -> None:
        """Store ``g`` as the belief about the tracks at ``index``."""
        if index is _ALL:
            self.pos, self.vel, self.var_pos, self.cov_pos_vel, self.var_vel = g
            return
        self.pos[index], self.vel[index], self.var_pos[index], self.cov_pos_vel[index], self.var_vel[index] = g

    def boxes(self) -> FloatArray:
        """(N, 4) xyxy boxes of the filter's current estimates."""
        return kalman.xyah_to_xyxy(self.pos)


class _Frame:
    """What the association steps of one update need about all (tracks, detections) pairs. Each cost matrix is
    made on first use: a frame where every track finds a confident detection never needs the weak-stage one."""

    __slots__ = ("_costs", "_iou", "_weight", "appearance", "boxes", "dets", "emb", "now", "same_class")

    def __init__(
        self,
        dets: Detections,
        now: float,
        boxes: FloatArray,
        track_class: IntArray,
        emb: FloatArray,
        appearance: tuple[FloatArray, BoolArray] | None,
        appearance_weight: float,
    ) -> None:
        self.dets, self.now, self.boxes, self.emb = dets, now, boxes, emb
        self.appearance = appearance
        """(N, M) appearance distance and where it is known; None when no pair has descriptors on both sides."""
        self.same_class: BoolArray = track_class[:, None] == dets.class_id[None, :]
        self._iou = box_iou(boxes, dets.xyxy)
        self._weight = appearance_weight
        self._costs: dict[bool, FloatArray] = {}

    def cost(self, fused: bool) -> FloatArray:
        """(N, M) association cost (see ``association_cost``), with or without the score fused in."""
        if fused not in self._costs:
            app = None if self.appearance is None else self.appearance[0]
            self._costs[fused] = association_cost(
                self._iou, self.dets.confidence, self.same_class, fused, app, self._weight
            )
        return self._costs[fused]


class ByteTracker:
    """Tracks objects of one camera. ``update(detections, meta) -> Detections`` of the tracks seen this frame.

    Track numbers are local to this tracker (1, 2, ...); ``tracks()`` namespaces them with the camera id.
    """

    def __init__(self, config: TrackerConfig | None = None, camera_id: CameraId | None = None) -> None:
        self.config = config or TrackerConfig()
        self.camera_id = camera_id or CameraId("local/cam")
        self.reset()

    def reset(self) -> None:
        """Forget every track and the clock; numbering starts again at 1."""
        self._t = _Table.empty()
        self._next_number = 1
        self._last_time_s: float | None = None
        self._ended: tuple[int, ...] = ()

    # --- public views ---------------------------------------------------------------------------------------
    def tracks(self, at_s: float | None = None) -> list[Track]:
        """Snapshots of the live tracks (tentative, confirmed and lost), boxes as the filter estimates them at
        the last update, or predicted to ``at_s`` (monotonic seconds, e.g. the next frame's time)."""
        t = self._t
        boxes = t.boxes()
        if at_s is not None and self._last_time_s is not None and at_s > self._last_time_s and len(t):
            lost = t.state == LOST
            vel = t.vel.copy()
            vel[lost, 3] = 0.0  # as in _predict
            belief = kalman.Gaussian(t.pos, vel, t.var_pos, t.cov_pos_vel, t.var_vel)
            boxes = kalman.xyah_to_xyxy(kalman.predict(belief, at_s - self._last_time_s).pos)
        return [
            Track(
                track_id=track_key(self.camera_id, int(t.number[i])),
                class_id=int(t.class_id[i]),
                state=_STATES[int(t.state[i])],
                box_xyxy=(float(b[0]), float(b[1]), float(b[2]), float(b[3])),
                confidence=float(t.score[i]),
                first_seen_s=float(t.first_s[i]),
                last_seen_s=float(t.last_s[i]),
                hits=int(t.hits[i]),
            )
            for i, b in enumerate(boxes)
        ]

    def ended_ids(self) -> tuple[int, ...]:
        """Numbers of the tracks that ended in the last update (so consumers can forget per-track state)."""
        return self._ended

    # --- the per-frame verb ---------------------------------------------------------------------------------
    def update(
        self, detections: Detections, meta: FrameMeta, *, looked_at: NDArray[np.floating[Any]] | None = None
    ) -> Detections:
        """Advance to ``meta.mono_s`` and associate this frame's ``detections`` (any classes) with the tracks.

        ``looked_at`` (K, 4) are the windows the detector ran on when it did not look at the whole frame (the
        motion gate's). A track whose predicted box lies mostly outside them was not looked for: it is neither
        matched nor lost this frame, and a confirmed one is reported *coasting* on its prediction.

        Returns new ``Detections``, one row per confirmed track matched this frame: its ``track_id`` and
        ``class_id``, the matched detection's confidence, the box chosen by ``report_box``, the matched
        detection's ``data`` columns and ``det_index`` (its row in ``detections``), and ``coasted`` False; then
        one row per confirmed coasting track (the filter's box, its last confidence, ``det_index`` -1, zeros in
        the detection columns, ``coasted`` True). A time earlier than the previous frame's counts as no time
        passing. ``detections`` is not modified. Raises ``ValueError`` when the length of the ``"embedding"``
        descriptors changes while tracks hold some.
        """
        cfg = self.config
        first_frame = self._last_time_s is None
        now = meta.mono_s if self._last_time_s is None else max(meta.mono_s, self._last_time_s)
        self._ended = ()
        self._end_stale(now)
        self._predict(0.0 if self._last_time_s is None else now - self._last_time_s)
        self._last_time_s = now
        self._observe(looked_at, meta.width, meta.height)
        f = self._frame(detections, now)

        score = detections.confidence
        usable = (detections.xyxy[:, 2:] > detections.xyxy[:, :2]).all(axis=1)  # no zero-area boxes
        high = _nz(usable & (score >= cfg.high_score))
        low = _nz(usable & (score >= cfg.low_score) & (score < cfg.high_score))
        state, seen = self._t.state, self._t.observed
        rest = self._associate(f, _nz(seen & (state != TENTATIVE)), high, cfg.match_iou, cfg.fuse_score)
        free = seen & (self._t.det_row < 0)
        self._associate(f, _nz(free & (state == CONFIRMED)), low, cfg.low_match_iou, False)
        if cfg.recover_radius_heights > 0 and f.appearance is not None:
            rest = self._recover(f, _nz(free & (state == LOST)), rest)
        rest = self._associate(f, _nz(seen & (state == TENTATIVE)), rest, cfg.tentative_match_iou, cfg.fuse_score)

        self._apply_matches(f)
        self._start_tracks(f, rest[score[rest] >= cfg.new_track_score], first_frame)
        self._expire()
        self._drop_duplicates()
        return self._report(detections)

    # --- steps ------------------------------------------------------------------------------------------------
    def _predict(self, dt: float) -> None:
        """Move every track to the frame's time; forget which detections matched last time."""
        t = self._t
        t.det_row[:] = -1
        if len(t) == 0 or dt <= 0:
            return
        # A lost track's size is not observed: freeze its height rate so it cannot shrink or grow without bound.
        t.vel[t.state == LOST, 3] = 0.0
        t.set_belief(kalman.predict(t.belief(), dt))

    def _observe(self, looked_at: NDArray[np.floating[Any]] | None, width: int, height: int) -> None:
        """Which tracks the detector looked for: all, or those with (nearly) all of their box inside one window
        (a window cutting through a person would not find them, which is no reason to lose the track)."""
        t = self._t
        if looked_at is None:
            t.observed[:] = True
            return
        windows = np.asarray(looked_at, np.float64).reshape(-1, 4)
        boxes = t.boxes()
        boxes[:, [0, 2]] = boxes[:, [0, 2]].clip(0, max(width, 1))  # the part in view is what can be seen
        boxes[:, [1, 3]] = boxes[:, [1, 3]].clip(0, max(height, 1))
        if len(windows) == 0 or len(t) == 0:
            t.observed[:] = False
            return
        iw = np.minimum(boxes[:, None, 2], windows[None, :, 2]) - np.maximum(boxes[:, None, 0], windows[None, :, 0])
        ih = np.minimum(boxes[:, None, 3], windows[None, :, 3]) - np.maximum(boxes[:, None, 1], windows[None, :, 1])
        inside = iw.clip(0) * ih.clip(0)
        area = ((boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])).clip(1e-6)
        t.observed[:] = (inside.max(axis=1) / area) >= OBSERVED_FRACTION

    def _frame(self, dets: Detections, now: float) -> _Frame:
        """Pairwise overlaps, class agreement and appearance distances of all tracks and detections."""
        t = self._t
        raw = dets.data.get("embedding")
        if raw is None:
            emb = np.zeros((len(dets), t.emb.shape[1]))
        else:
            emb = np.asarray(raw, np.float64)
            emb = emb.reshape(len(dets), int(np.prod(emb.shape[1:])))  # (M, D), also when M = 0
            if emb.shape[1] != t.emb.shape[1]:
                if t.has_emb.any():
                    raise ValueError(f"embedding has {emb.shape[1]} values, the tracks' have {t.emb.shape[1]}")
                t.emb = np.zeros((len(t), emb.shape[1]))
        appearance = appearance_distance(t.emb, t.has_emb, emb)
        return _Frame(dets, now, t.boxes(), t.class_id, emb, appearance, self.config.appearance_weight)

    def _associate(self, f: _Frame, track_idx: IntArray, rows: IntArray, min_iou: float, fused: bool) -> IntArray:
        """Match tracks ``track_idx`` to detection ``rows``, cost gated at ``1 - min_iou``, the score ``fused`` in
        or not; matches are recorded in ``det_row``. Returns the rows left."""
        if track_idx.size == 0 or rows.size == 0:
            return rows
        m = match(f.cost(fused)[track_idx][:, rows], max_cost=1.0 - min_iou)
        self._t.det_row[track_idx[m.rows]] = rows[m.cols]
        return rows[m.free_cols]

    def _recover(self, f: _Frame, track_idx: IntArray, rows: IntArray) -> IntArray:
        """Re-find lost tracks that no longer overlap their detection (after an occlusion the prediction drifts):
        match by distance from the predicted or the last seen position, within a radius that grows with the time
        lost, between boxes of similar height and the same class, and only on similar appearance."""
        if track_idx.size == 0 or rows.size == 0 or f.appearance is None:
            return rows
        t, sub = self._t, np.ix_(track_idx, rows)
        cost = recovery_cost(
            t.det_box[track_idx], f.boxes[track_idx], f.now - t.last_s[track_idx], f.dets.xyxy[rows],
            f.appearance[0][sub], f.same_class[sub] & f.appearance[1][sub], self.config,
        )  # fmt: skip
        m = match(cost, max_cost=1.0)
        t.det_row[track_idx[m.rows]] = rows[m.cols]
        return rows[m.free_cols]

    def _apply_matches(self, f: _Frame) -> None:
        """Correct the matched tracks with their detections; enough hits (or a re-found track) confirm."""
        t, cfg = self._t, self.config
        idx = _nz(t.det_row >= 0)
        if idx.size == 0:
            return
        sel: slice | IntArray = _ALL if idx.size == len(t) else idx  # all matched: skip the indexing
        rows = t.det_row[sel]
        t.det_box[sel] = f.dets.xyxy[rows]
        t.set_belief(kalman.update(t.belief(sel), kalman.xyxy_to_xyah(t.det_box[sel])), sel)
        t.hits[sel] += 1
        t.last_s[sel] = f.now
        t.score[sel] = f.dets.confidence[rows]
        t.state[idx[(t.state[sel] == LOST) | (t.hits[sel] >= cfg.min_hits)]] = CONFIRMED
        if f.emb.shape[1]:
            self._update_descriptors(f, idx, rows)

    def _update_descriptors(self, f: _Frame, idx: IntArray, rows: IntArray) -> None:
        """Running mean of the appearance of tracks ``idx`` from their confident detections ``rows``."""
        t, cfg = self._t, self.config
        # Weak detections are often occluded: their colours belong partly to someone else.
        fresh = (f.dets.confidence[rows] >= cfg.high_score) & np.any(f.emb[rows] != 0, axis=1)
        idx, rows = idx[fresh], rows[fresh]
        if idx.size == 0:
            return
        new = f.emb[rows]
        a = cfg.appearance_momentum
        mixed = a * t.emb[idx] + (1 - a) * new
        mixed /= np.maximum(np.linalg.norm(mixed, axis=1, keepdims=True), 1e-6)
        t.emb[idx] = np.where(t.has_emb[idx][:, None], mixed, new)
        t.has_emb[idx] = True

    def _start_tracks(self, f: _Frame, rows: IntArray, first_frame: bool) -> None:
        """New tracks from detection ``rows``."""
        if rows.size == 0:
            return
        k = rows.size
        belief = kalman.initiate(kalman.xyxy_to_xyah(f.dets.xyxy[rows]))
        # On the first frame there is no earlier frame to confirm a track with (ByteTrack confirms it at once).
        confirmed = (first_frame and self.config.confirm_first_frame) or self.config.min_hits <= 1
        emb = f.emb[rows]
        born = _Table(
            np.arange(self._next_number, self._next_number + k, dtype=np.int64),
            f.dets.class_id[rows].copy(),
            np.full(k, CONFIRMED if confirmed else TENTATIVE, np.int8),
            *belief, np.full(k, f.now), np.full(k, f.now), np.ones(k, np.int64),
            f.dets.confidence[rows].astype(np.float64), f.dets.xyxy[rows].astype(np.float64),
            emb, np.any(emb != 0, axis=1), rows.astype(np.int64), np.ones(k, np.bool_),
        )  # fmt: skip
        self._next_number += k
        self._t = self._t.extend(born)

    def _end_stale(self, now: float) -> None:
        """Tracks not seen for longer than ``lost_ttl_s`` end before matching: after a long gap (a camera that
        stalled) an object in the same place is not known to be the same one."""
        stale = now - self._t.last_s > self.config.lost_ttl_s
        if np.count_nonzero(stale):
            self._ended += tuple(int(n) for n in self._t.number[stale])
            self._t = self._t.take(~stale)

    def _expire(self) -> None:
        """Tracks not matched this frame: tentative ones end, others are lost (until ``_end_stale`` ends them)."""
        t = self._t
        seen = (t.det_row >= 0) | ~t.observed  # a track not looked for keeps its state
        if np.count_nonzero(seen) == len(t):
            return
        end = ~seen & (t.state == TENTATIVE)
        t.state[~seen & ~end] = LOST
        if np.count_nonzero(end):
            self._ended += tuple(int(n) for n in t.number[end])
            self._t = t.take(~end)

    def _drop_duplicates(self) -> None:
        """A lost track overlapping a confirmed one almost completely is the same object: the younger lost one
        ends (ByteTrack's ``remove_duplicate_stracks``, but a confirmed track just reported is never dropped)."""
        t = self._t
        confirmed, lost = _nz(t.state == CONFIRMED), _nz(t.state == LOST)
        if confirmed.size == 0 or lost.size == 0:
            return
        boxes = t.boxes()
        r, c = np.nonzero(box_iou(boxes[confirmed], boxes[lost]) > DUPLICATE_IOU)
        age = t.last_s - t.first_s
        drop = np.unique(lost[c[age[confirmed[r]] >= age[lost[c]]]])
        if drop.size:
            keep = np.ones(len(t), bool)
            keep[drop] = False
            self._ended += tuple(int(n) for n in t.number[drop])
            self._t = t.take(keep)

    def _coasting_boxes(self, idx: IntArray) -> FloatArray:
        """Where tracks not looked for are now: their last detection's box moved on at the filter's velocity.
        (The filter's own box drifts in size between looks; a person's size barely changes in a second.)"""
        t = self._t
        dt = (self._last_time_s or 0.0) - t.last_s[idx]
        shift = t.vel[idx, :2] * dt[:, None]
        moved: FloatArray = t.det_box[idx] + np.concatenate([shift, shift], axis=1)
        return moved

    def _report(self, dets: Detections) -> Detections:
        """The confirmed tracks matched this frame, in the order they were born, then the coasting ones."""
        t = self._t
        confirmed = t.state == CONFIRMED
        show = _nz(confirmed & (t.det_row >= 0))
        coast = _nz(confirmed & ~t.observed)
        rows = t.det_row[show]
        boxes = t.boxes()[show] if self.config.report_box == ReportBox.FILTERED else dets.xyxy[rows]
        data: dict[str, NDArray[Any]] = {k: v[rows] for k, v in dets.data.items()}
        data["det_index"] = rows
        data["coasted"] = np.zeros(rows.size, np.bool_)
        if coast.size:
            n = coast.size
            boxes = np.concatenate([boxes, self._coasting_boxes(coast)])
            for k, v in dets.data.items():
                data[k] = np.concatenate([data[k], np.zeros((n, *v.shape[1:]), v.dtype)])
            data["det_index"] = np.concatenate([rows, np.full(n, -1, np.int64)])
            data["coasted"] = np.concatenate([data["coasted"], np.ones(n, np.bool_)])
            show = np.concatenate([show, coast])
        confidence = np.concatenate([dets.confidence[rows], t.score[coast]])
        return Detections(boxes, confidence, t.class_id[show], t.number[show], data)


def _nz(mask: BoolArray) -> IntArray:
    """Indices where ``mask`` is true (``np.flatnonzero`` without its overhead on small arrays)."""
    idx: IntArray = mask.nonzero()[0]
    return idx
