"""The tracking benchmark: our detector and tracker on a video with MOTChallenge ground truth.

Reports MOTA, IDF1 and HOTA (TrackEval), the detector's precision and recall for people, and speed; compares
with a committed baseline so a fall in accuracy fails the test suite.
"""

from __future__ import annotations

import json
import platform
import time
from pathlib import Path
from typing import Any

from numpy.typing import NDArray

from storewatch.analysis.interpolate import fill_gaps
from storewatch.analysis.tracking import Detector, RunStats, track_source
from storewatch.bench.mot_metrics import score_detections, score_tracking
from storewatch.detect.coco import PERSON
from storewatch.detect.config import DetectorConfig
from storewatch.errors import StorewatchError
from storewatch.io.mot import MotRows, concat_rows, read_mot, rows_of
from storewatch.progress import frame_progress
from storewatch.track.config import TrackerConfig
from storewatch.video.source import VideoSource

ACCURACY_KEYS = ("mota", "idf1", "hota")


def run_tracking_benchmark(
    video: Path,
    gt_path: Path,
    detector: Detector,
    detector_config: DetectorConfig,
    tracker_config: TrackerConfig,
    *,
    first_seq: int = 0,
    last_seq: int | None = None,
    progress: bool = True,
    fill_gap_s: float = 1.0,
) -> dict[str, Any]:
    """Run detection + tracking over the frames and score them; returns one flat JSON-ready dict.

    Like ``storewatch track``, gaps of up to ``fill_gap_s`` in a track are filled (0 scores the raw live output).
    """
    gt = read_mot(gt_path)
    if len(gt) == 0:
        raise StorewatchError(f"{gt_path}: the ground truth file has no rows")
    if last_seq is None:
        last_seq = int(gt.frame.max()) - 1
    collected: list[MotRows] = []
    dets_all: list[NDArray[Any]] = []
    dets_confident: list[NDArray[Any]] = []
    stats = RunStats()
    t0 = time.perf_counter()
    with VideoSource(video) as source, frame_progress(disabled=not progress) as bar:
        task = bar.add_task("benchmark", total=last_seq - first_seq + 1)
        for r in track_source(source, detector, tracker_config, first_seq=first_seq, last_seq=last_seq):
            stats.add(r)
            collected.append(rows_of(r.frame.meta.seq, r.tracks.of_classes([PERSON])))
            persons = r.detections.of_classes([PERSON])
            dets_all.append(persons.xyxy)
            dets_confident.append(persons[persons.confidence >= tracker_config.high_score].xyxy)
            bar.update(task, advance=1)
        corrupt = source.stats.corrupt
        fps = source.fps
    elapsed = time.perf_counter() - t0
    tracks = concat_rows(collected)
    if fill_gap_s > 0:
        tracks = fill_gaps(tracks, max_gap_frames=round(fill_gap_s * (fps or 10.0)))
    first = first_seq + 1
    scored = _score(gt, tracks, first, first + stats.frames - 1, dets_all, dets_confident)
    speed = {
        "fps": round(stats.frames / elapsed, 1),
        "detector_ms_p50": round(stats.detect_ms(50), 2),
        "detector_ms_p95": round(stats.detect_ms(95), 2),
        "corrupt_frames_skipped": corrupt,
        "gap_fill_s": fill_gap_s,
        "backend": detector_config.backend.value,
        "threads": detector_config.threads,
        "input_px": f"{detector_config.input_width_px}x{detector_config.input_height_px}",
        "machine": f"{platform.machine()} {_cpu_count()} cpu",
    }
    return {"video": video.name, "frames": f"{first}-{first + stats.frames - 1}", **scored, **speed}


def _score(
    gt: MotRows,
    tracks: MotRows,
    first: int,
    last: int,
    dets_all: list[NDArray[Any]],
    dets_confident: list[NDArray[Any]],
) -> dict[str, Any]:
    """Tracking scores (TrackEval) and detector precision/recall for frames ``first..last``."""
    t = score_tracking(gt, tracks, first, last)
    valid = gt.frames(first, last).select(gt.frames(first, last).flag != 0)
    gt_frames = [valid.xyxy[valid.frame == f] for f in range(first, last + 1)]
    det_all = score_detections(gt_frames, dets_all)
    det_conf = score_detections(gt_frames, dets_confident)
    return {
        "mota": round(t.mota, 4),
        "idf1": round(t.idf1, 4),
        "hota": round(t.hota, 4),
        "deta": round(t.deta, 4),
        "assa": round(t.assa, 4),
        "id_switches": t.id_switches,
        "false_positives": t.false_positives,
        "false_negatives": t.false_negatives,
        "gt_ids": t.gt_ids,
        "tracker_ids": t.tracker_ids,
        "det_precision": round(det_all.precision, 4),
        "det_recall": round(det_all.recall, 4),
        "det_precision_confident": round(det_conf.precision, 4),
        "det_recall_confident": round(det_conf.recall, 4),
    }


def _cpu_count() -> int:
    import os

    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def compare_with_baseline(result: dict[str, Any], baseline: dict[str, Any], tolerance: float = 0.02) -> list[str]:
    """Regressions: each accuracy figure more than ``tolerance`` below the baseline's (empty list = none).

    >>> compare_with_baseline({"mota": 0.80, "idf1": 0.9, "hota": 0.7}, {"mota": 0.83, "idf1": 0.9, "hota": 0.7})
    ['mota 0.8000 is more than 0.02 below the baseline 0.8300']
    """
    problems = []
    for key in ACCURACY_KEYS:
        if key in baseline and result[key] < baseline[key] - tolerance:
            problems.append(f"{key} {result[key]:.4f} is more than {tolerance} below the baseline {baseline[key]:.4f}")
    return problems


def load_baseline(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise StorewatchError(f"{path}: cannot read the baseline ({exc})") from exc
    if not isinstance(data, dict):
        raise StorewatchError(f"{path}: the baseline must be a JSON object")
    return data
