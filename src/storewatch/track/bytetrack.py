"""A ByteTrack-family multi-object tracker (Zhang et al., 2022), in numpy and scipy, time-aware.

Why our own: no tracking library fits this machine (Roboflow's ``trackers`` pulls the GUI OpenCV build, norfair
pins numpy<2, boxmot pulls CUDA torch), and the product needs lifetimes in seconds and ids owned by the camera.

Per update: all tracks are predicted to the frame's time (Kalman, constant velocity); then
  1. confident detections (>= ``high_score``) are matched to confirmed and lost tracks by IoU (fused with score);
  2. the remaining confirmed tracks are matched to weak detections (``low_score``..``high_score``): the "byte"
     step that keeps people through partial occlusion, when their score drops;
  3. tentative tracks are matched to the confident detections left; a tentative track that misses is dropped;
  4. confident detections still unmatched (>= ``new_track_score``) start tentative tracks;
  5. tracks lost for longer than ``lost_ttl_s`` end.
Matching only pairs boxes of the same class. Nothing about a track outlives it.

>>> from datetime import UTC, datetime
>>> from storewatch.core import CameraId, Detections, FrameMeta
>>> tracker = ByteTracker(camera_id=CameraId("s1/c1"))
>>> def meta(i): return FrameMeta(CameraId("s1/c1"), i, i * 0.1, datetime(2026, 1, 1, tzinfo=UTC), 640, 480)
>>> for i in range(3):
...     out = tracker.update(Detections([[100 + 5 * i, 100, 140 + 5 * i, 200]], [0.9]), meta(i))
>>> out.track_id.tolist(), [t.track_id for t in tracker.tracks()]
([1], ['s1/c1/1'])
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from storewatch.core.detections import Detections, box_iou
from storewatch.core.frame import FrameMeta
from storewatch.core.ids import CameraId, track_key
from storewatch.core.track import Track, TrackState
from storewatch.track import kalman
from storewatch.track.config import ReportBox, TrackerConfig
from storewatch.track.matching import match


@dataclass(slots=True)
class _TrackState:
    """The tracker's private state of one track."""

    number: int
    class_id: int
    mean: NDArray[np.float64]
    cov: NDArray[np.float64]
    state: TrackState
    first_seen_s: float
    last_seen_s: float
    hits: int
    score: float
    det_box: NDArray[np.float32]
    embedding: NDArray[np.float32] | None = None
    """Running mean of the appearance descriptor, when detections carry one."""

    def box(self) -> NDArray[np.float64]:
        box: NDArray[np.float64] = kalman.xyah_to_xyxy(self.mean[None, :4])[0]
        return box


class ByteTracker:
    """Tracks objects of one camera. ``update(detections, meta) -> Detections`` of the tracks seen this frame."""

    def __init__(self, config: TrackerConfig | None = None, camera_id: CameraId | None = None) -> None:
        self.config = config or TrackerConfig()
        self.camera_id = camera_id or CameraId("local/cam")
        self.reset()

    def reset(self) -> None:
        """Forget every track; numbering starts again at 1."""
        self._tracks: list[_TrackState] = []
        self._next_number = 1
        self._last_time_s: float | None = None
        self._ended: tuple[int, ...] = ()

    # --- public views ---------------------------------------------------------------------------------------
    def tracks(self) -> list[Track]:
        """Snapshots of the live tracks (tentative, confirmed and lost)."""
        return [
            Track(
                track_id=track_key(self.camera_id, t.number),
                class_id=t.class_id,
                state=t.state,
                box_xyxy=tuple(float(v) for v in t.box()),  # type: ignore[arg-type]
                confidence=t.score,
                first_seen_s=t.first_seen_s,
                last_seen_s=t.last_seen_s,
                hits=t.hits,
            )
            for t in self._tracks
        ]

    def ended_ids(self) -> tuple[int, ...]:
        """Numbers of the tracks that ended in the last update (so consumers can forget per-track state)."""
        return self._ended

    # --- the per-frame verb ---------------------------------------------------------------------------------
    def update(self, detections: Detections, meta: FrameMeta) -> Detections:
        cfg = self.config
        now = meta.mono_s
        first_frame = self._last_time_s is None
        dt = 0.0 if self._last_time_s is None else max(now - self._last_time_s, 0.0)
        self._last_time_s = now if self._last_time_s is None else max(now, self._last_time_s)
        self._predict(dt)

        score = detections.confidence
        high = np.flatnonzero(score >= cfg.high_score)
        low = np.flatnonzero((score >= cfg.low_score) & (score < cfg.high_score))
        matched: dict[int, int] = {}  # track index -> detection row

        pool = [i for i, t in enumerate(self._tracks) if t.state in (TrackState.CONFIRMED, TrackState.LOST)]
        pairs, _, rest_high = self._associate(pool, detections, high, cfg.match_iou, fuse_score=True)
        matched.update(pairs)
        confirmed_left = [i for i in pool if i not in matched and self._tracks[i].state == TrackState.CONFIRMED]
        pairs, _, _ = self._associate(confirmed_left, detections, low, cfg.low_match_iou, fuse_score=False)
        matched.update(pairs)
        if cfg.recover_radius_heights > 0:
            lost_left = [i for i in pool if i not in matched and self._tracks[i].state == TrackState.LOST]
            pairs, rest_high = self._recover(lost_left, detections, rest_high, now)
            matched.update(pairs)
        tentative = [i for i, t in enumerate(self._tracks) if t.state == TrackState.TENTATIVE]
        pairs, _, new_rows = self._associate(tentative, detections, rest_high, cfg.tentative_match_iou, True)
        matched.update(pairs)

        self._apply_matches(matched, detections, now)
        born = self._start_tracks(detections, new_rows[score[new_rows] >= cfg.new_track_score], now, first_frame)
        shown = [(self._tracks[i], row) for i, row in matched.items() if self._tracks[i].state == TrackState.CONFIRMED]
        shown += [(t, row) for t, row in born if t.state == TrackState.CONFIRMED]
        self._expire({id(self._tracks[i]) for i in matched} | {id(t) for t, _ in born}, now)
        self._drop_duplicates()
        return self._report(shown)

    # --- steps ------------------------------------------------------------------------------------------------
    def _predict(self, dt: float) -> None:
        if not self._tracks or dt <= 0:
            return
        mean = np.stack([t.mean for t in self._tracks])
        cov = np.stack([t.cov for t in self._tracks])
        # A lost track's size is not observed: freeze its height rate so it cannot shrink or grow without bound.
        lost = np.array([t.state == TrackState.LOST for t in self._tracks])
        mean[lost, 7] = 0.0
        mean, cov = kalman.predict(mean, cov, dt)
        for t, m, c in zip(self._tracks, mean, cov, strict=True):
            t.mean, t.cov = m, c

    def _associate(
        self, track_idx: list[int], dets: Detections, rows: NDArray[np.int64], min_iou: float, fuse_score: bool
    ) -> tuple[dict[int, int], list[int], NDArray[np.int64]]:
        """Match tracks ``track_idx`` to detection ``rows``; returns {track: row}, unmatched tracks and rows."""
        if not track_idx or rows.size == 0:
            return {}, list(track_idx), rows
        boxes = np.stack([self._tracks[i].box() for i in track_idx])
        iou = box_iou(boxes, dets.xyxy[rows])
        # ByteTrack's score fusion: a confident detection wins over a weak one with the same overlap.
        similarity = iou * dets.confidence[rows][None, :] if fuse_score else iou
        cost = 1.0 - similarity
        track_cls = np.array([self._tracks[i].class_id for i in track_idx])
        cost[(track_cls[:, None] != dets.class_id[rows][None, :]) | (similarity < min_iou)] = np.inf
        cost += self.config.appearance_weight * self._appearance_distance(track_idx, dets, rows)[0]
        pairs, un_t, un_d = match(cost, max_cost=1.0 - min_iou)
        return {track_idx[r]: int(rows[c]) for r, c in pairs}, [track_idx[r] for r in un_t], rows[un_d]

    def _appearance_distance(
        self, track_idx: list[int], dets: Detections, rows: NDArray[np.int64]
    ) -> tuple[NDArray[np.float64], NDArray[np.bool_]]:
        """(tracks, rows) appearance distance (1 - similarity) and where both sides have a descriptor (else 0)."""
        dist = np.zeros((len(track_idx), rows.size))
        known = np.zeros((len(track_idx), rows.size), bool)
        emb = dets.data.get("embedding")
        have = [k for k, i in enumerate(track_idx) if self._tracks[i].embedding is not None]
        if emb is None or not have:
            return dist, known
        track_emb = np.stack([self._tracks[track_idx[k]].embedding for k in have])  # type: ignore[misc]
        det_emb = np.asarray(emb[rows], np.float64)
        valid = np.flatnonzero(np.linalg.norm(det_emb, axis=1) > 0)
        rows_have = np.asarray(have, np.int64)
        dist[np.ix_(rows_have, valid)] = 1.0 - track_emb @ det_emb[valid].T
        known[np.ix_(rows_have, valid)] = True
        return dist, known

    def _recover(
        self, track_idx: list[int], dets: Detections, rows: NDArray[np.int64], now: float
    ) -> tuple[dict[int, int], NDArray[np.int64]]:
        """Re-find lost tracks that no longer overlap their detection (after an occlusion the prediction drifts):
        match by distance from the predicted or the last seen position, within a radius that grows with the time
        lost, between boxes of similar height and the same class."""
        if not track_idx or rows.size == 0:
            return {}, rows
        cfg = self.config
        tracks = [self._tracks[i] for i in track_idx]
        last = np.stack([t.det_box for t in tracks]).astype(np.float64)
        predicted = np.stack([t.box() for t in tracks])
        h = last[:, 3] - last[:, 1]
        lost_s = np.array([now - t.last_seen_s for t in tracks])
        radius = h * (cfg.recover_radius_heights + cfg.recover_growth_heights_per_s * lost_s)
        cand = dets.xyxy[rows].astype(np.float64)
        c_det = (cand[:, :2] + cand[:, 2:]) / 2
        dist = np.minimum(
            np.linalg.norm((last[:, None, :2] + last[:, None, 2:]) / 2 - c_det[None], axis=2),
            np.linalg.norm((predicted[:, None, :2] + predicted[:, None, 2:]) / 2 - c_det[None], axis=2),
        )
        ratio = (cand[None, :, 3] - cand[None, :, 1]) / np.maximum(h[:, None], 1e-6)
        cost = dist / radius[:, None]
        same_cls = np.array([t.class_id for t in tracks])[:, None] == dets.class_id[rows][None, :]
        cost[~same_cls | (ratio < 0.67) | (ratio > 1.5) | (cost > 1.0)] = np.inf
        app, known = self._appearance_distance(track_idx, dets, rows)
        max_app = 1.0 - cfg.recover_min_similarity
        # Without a descriptor there is no evidence it is the same person: only appearance lets a track jump.
        cost[~known | (app > max_app)] = np.inf
        cost = 0.5 * cost + 0.5 * app / max(max_app, 1e-6)
        pairs, _, un_d = match(cost, max_cost=1.0)
        return {track_idx[r]: int(rows[c]) for r, c in pairs}, rows[un_d]

    def _apply_matches(self, matched: dict[int, int], dets: Detections, now: float) -> None:
        if not matched:
            return
        idx = list(matched)
        mean = np.stack([self._tracks[i].mean for i in idx])
        cov = np.stack([self._tracks[i].cov for i in idx])
        meas = kalman.xyxy_to_xyah(dets.xyxy[[matched[i] for i in idx]])
        mean, cov = kalman.update(mean, cov, meas)
        for k, i in enumerate(idx):
            t = self._tracks[i]
            row = matched[i]
            t.mean, t.cov = mean[k], cov[k]
            t.hits += 1
            t.last_seen_s = now
            t.score = float(dets.confidence[row])
            t.det_box = dets.xyxy[row]
            self._update_embedding(t, dets, row)
            if t.state == TrackState.LOST or t.hits >= self.config.min_hits:
                t.state = TrackState.CONFIRMED

    def _update_embedding(self, t: _TrackState, dets: Detections, row: int) -> None:
        emb = dets.data.get("embedding")
        if emb is None or dets.confidence[row] < self.config.high_score or not np.any(emb[row]):
            return  # weak detections are often occluded: their colours belong partly to someone else
        new = np.asarray(emb[row], np.float32)
        if t.embedding is None:
            t.embedding = new
            return
        a = self.config.appearance_momentum
        mixed = a * t.embedding + (1 - a) * new
        t.embedding = (mixed / max(float(np.linalg.norm(mixed)), 1e-6)).astype(np.float32)

    def _start_tracks(
        self, dets: Detections, rows: NDArray[np.int64], now: float, first_frame: bool
    ) -> list[tuple[_TrackState, int]]:
        """New tracks from detection ``rows``, each with the row it came from."""
        if rows.size == 0:
            return []
        mean, cov = kalman.initiate(kalman.xyxy_to_xyah(dets.xyxy[rows]))
        born = []
        emb = dets.data.get("embedding")
        for k, row in enumerate(rows):
            # On the first frame there is no second chance to confirm, so tracks start confirmed (as ByteTrack).
            state = TrackState.CONFIRMED if first_frame or self.config.min_hits <= 1 else TrackState.TENTATIVE
            t = _TrackState(
                self._next_number, int(dets.class_id[row]), mean[k], cov[k], state, now, now, 1,
                float(dets.confidence[row]), dets.xyxy[row],
                np.asarray(emb[row], np.float32) if emb is not None and np.any(emb[row]) else None,
            )  # fmt: skip
            self._next_number += 1
            born.append(t)
        self._tracks.extend(born)
        return [(t, int(r)) for t, r in zip(born, rows, strict=True)]

    def _expire(self, seen: set[int], now: float) -> None:
        """Tracks not ``seen`` (by object id) this frame: tentative ones end, others are lost, then end."""
        keep, ended = [], []
        for t in self._tracks:
            if id(t) in seen:
                keep.append(t)
            elif t.state == TrackState.TENTATIVE or now - t.last_seen_s > self.config.lost_ttl_s:
                ended.append(t.number)
            else:
                t.state = TrackState.LOST
                keep.append(t)
        self._tracks = keep
        self._ended = tuple(ended)

    def _drop_duplicates(self) -> None:
        """A lost track overlapping a confirmed one almost completely is the same object: keep the older."""
        confirmed = [t for t in self._tracks if t.state == TrackState.CONFIRMED]
        lost = [t for t in self._tracks if t.state == TrackState.LOST]
        if not confirmed or not lost:
            return
        iou = box_iou(np.stack([t.box() for t in confirmed]), np.stack([t.box() for t in lost]))
        drop: set[int] = set()
        for r, c in zip(*np.nonzero(iou > 0.85), strict=True):
            a, b = confirmed[r], lost[c]
            if (a.last_seen_s - a.first_seen_s) >= (b.last_seen_s - b.first_seen_s):
                drop.add(id(b))
        if drop:
            self._ended += tuple(t.number for t in self._tracks if id(t) in drop)
            self._tracks = [t for t in self._tracks if id(t) not in drop]

    def _report(self, shown: list[tuple[_TrackState, int]]) -> Detections:
        if not shown:
            return Detections.empty().with_data(det_index=np.zeros(0, np.int64))
        tracks = [t for t, _ in shown]
        if self.config.report_box == ReportBox.FILTERED:
            boxes = np.stack([t.box() for t in tracks]).astype(np.float32)
        else:
            boxes = np.stack([t.det_box for t in tracks])
        return Detections(
            boxes,
            np.array([t.score for t in tracks], np.float32),
            np.array([t.class_id for t in tracks], np.int64),
            np.array([t.number for t in tracks], np.int64),
            {"det_index": np.array([row for _, row in shown], np.int64)},
        )
