"""Tracking accuracy (MOTA, IDF1, HOTA) computed by TrackEval, the MOTChallenge reference implementation.

We only build TrackEval's per-sequence input (ids per frame and the IoU between every ground-truth and tracker box)
and let its metric classes do the counting: re-implementing the metrics would make our figures incomparable.
TrackEval is installed without its declared dependencies (see the Makefile): its metrics need only numpy and scipy.
"""

from __future__ import annotations

import contextlib
import io
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import linear_sum_assignment

from storewatch.core.detections import box_iou
from storewatch.errors import StorewatchError
from storewatch.io.mot import MotRows


@dataclass(frozen=True, slots=True)
class TrackingScores:
    mota: float
    idf1: float
    hota: float
    deta: float
    assa: float
    id_switches: int
    false_positives: int
    false_negatives: int
    gt_boxes: int
    gt_ids: int
    tracker_ids: int


def _metrics() -> Any:
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            import trackeval.metrics as metrics
    except ImportError as exc:  # pragma: no cover - install problem
        raise StorewatchError(
            "TrackEval is not installed",
            fix="make setup (installs trackeval==1.3.0 without its dependencies)",
        ) from exc
    return metrics


def _contiguous(ids: NDArray[np.int64]) -> tuple[dict[int, int], int]:
    uniq = np.unique(ids)
    return {int(v): i for i, v in enumerate(uniq)}, len(uniq)


def build_sequence(gt: MotRows, tracks: MotRows, frames: range) -> dict[str, Any]:
    """TrackEval's per-sequence data: per-frame 0-based contiguous ids and IoU similarity matrices."""
    gt_map, n_gt = _contiguous(gt.track_id)
    tr_map, n_tr = _contiguous(tracks.track_id)
    gt_ids, tr_ids, sims = [], [], []
    for f in frames:
        g = gt.select(gt.frame == f)
        t = tracks.select(tracks.frame == f)
        gt_ids.append(np.array([gt_map[int(i)] for i in g.track_id], np.int64))
        tr_ids.append(np.array([tr_map[int(i)] for i in t.track_id], np.int64))
        sims.append(box_iou(g.xyxy, t.xyxy))
    return {
        "num_timesteps": len(frames),
        "num_gt_ids": n_gt,
        "num_tracker_ids": n_tr,
        "num_gt_dets": len(gt),
        "num_tracker_dets": len(tracks),
        "gt_ids": gt_ids,
        "tracker_ids": tr_ids,
        "similarity_scores": sims,
    }


def drop_ignored(gt: MotRows, ignored: MotRows, tracks: MotRows, iou_threshold: float = 0.5) -> MotRows:
    """Tracker rows minus those matched to an ignored ground-truth box.

    Per frame, tracker boxes are matched one-to-one (Hungarian, IoU >= 0.5) against all ground truth, counted and
    ignored; the ones that pair with an ignored box are removed. This is TrackEval's MOT16/17 pre-processing
    for distractors and zero-marked boxes (its MOT15 mode keeps them, which would charge a correct detection of an
    ignored person as a false positive).
    """
    if len(ignored) == 0 or len(tracks) == 0:
        return tracks
    keep = np.ones(len(tracks), bool)
    for f in np.unique(ignored.frame):
        t_idx = np.flatnonzero(tracks.frame == f)
        if t_idx.size == 0:
            continue
        g = gt.xyxy[gt.frame == f]
        ig = ignored.xyxy[ignored.frame == f]
        iou = box_iou(np.concatenate([g, ig]), tracks.xyxy[t_idx])
        rows, cols = linear_sum_assignment(-iou)
        hit = (iou[rows, cols] >= iou_threshold) & (rows >= len(g))
        keep[t_idx[cols[hit]]] = False
    return tracks.select(keep)


def score_tracking(gt: MotRows, tracks: MotRows, first: int, last: int) -> TrackingScores:
    """MOTA, IDF1 and HOTA of ``tracks`` against ``gt`` over frames ``first..last`` (1-based, inclusive).

    Ground-truth rows flagged 0 (MOTChallenge's "ignore") are neither missed nor matched: they are dropped, and
    tracker boxes that match them are dropped too (see ``drop_ignored``).
    """
    window = gt.frames(first, last)
    gt, ignored = window.select(window.flag != 0), window.select(window.flag == 0)
    tracks = drop_ignored(gt, ignored, tracks.frames(first, last))
    data = build_sequence(gt, tracks, range(first, last + 1))
    m = _metrics()
    quiet = {"PRINT_CONFIG": False}
    clear = m.CLEAR({**quiet, "THRESHOLD": 0.5}).eval_sequence(data)
    ident = m.Identity({**quiet, "THRESHOLD": 0.5}).eval_sequence(data)
    hota = m.HOTA().eval_sequence(data)
    return TrackingScores(
        mota=float(clear["MOTA"]),
        idf1=float(ident["IDF1"]),
        hota=float(np.mean(hota["HOTA"])),
        deta=float(np.mean(hota["DetA"])),
        assa=float(np.mean(hota["AssA"])),
        id_switches=int(clear["IDSW"]),
        false_positives=int(clear["CLR_FP"]),
        false_negatives=int(clear["CLR_FN"]),
        gt_boxes=len(gt),
        gt_ids=int(data["num_gt_ids"]),
        tracker_ids=int(data["num_tracker_ids"]),
    )


@dataclass(frozen=True, slots=True)
class DetectionScores:
    precision: float
    recall: float
    true_positives: int
    false_positives: int
    false_negatives: int


def score_detections(
    gt_per_frame: list[NDArray[np.float64]], det_per_frame: list[NDArray[Any]], iou_threshold: float = 0.5
) -> DetectionScores:
    """Precision and recall of per-frame person boxes against ground truth (one-to-one matching at ``iou``)."""
    tp = fp = fn = 0
    for g, d in zip(gt_per_frame, det_per_frame, strict=True):
        iou = box_iou(g, d)
        matched = 0
        if iou.size:
            rows, cols = linear_sum_assignment(-iou)
            matched = int((iou[rows, cols] >= iou_threshold).sum())
        tp += matched
        fn += len(g) - matched
        fp += len(d) - matched
    return DetectionScores(
        precision=tp / max(tp + fp, 1),
        recall=tp / max(tp + fn, 1),
        true_positives=tp,
        false_positives=fp,
        false_negatives=fn,
    )
