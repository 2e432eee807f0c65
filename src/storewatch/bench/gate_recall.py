"""What the motion gate costs in accuracy and saves in detector time: a live camera's frames replayed offline.

The development frames of a video with ground truth are fed, at the live detection rate (frames due every
``1 / detect_fps`` seconds of the video's own clock, as the live pipeline takes them), through the same per-frame
step as the live pipeline (``analyse_live_frame``: gate, descriptors, tracker) twice: once gated and once naive.
Scored per processed frame: the person boxes the pipeline reports (tracks, including those coasting on their
prediction between looks) against the ground truth at IoU 0.5. The detector's time per frame of each mode gives
a contention-free capacity ratio beside the live benchmark's.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from storewatch.analysis.tracking import analyse_live_frame
from storewatch.appearance.color import ColorDescriber
from storewatch.bench.mot_metrics import score_detections
from storewatch.core.ids import CameraId
from storewatch.detect.coco import PERSON
from storewatch.detect.gated import GatedDetector, WindowDetector
from storewatch.errors import StorewatchError
from storewatch.io.mot import read_mot
from storewatch.progress import frame_progress
from storewatch.track.bytetrack import ByteTracker
from storewatch.track.config import TrackerConfig
from storewatch.video.source import Frame, VideoSource


def _due_frames(video: Path, first: int, last: int, detect_fps: float) -> list[Frame]:
    """The frames a live pipeline detecting at ``detect_fps`` takes from frames ``first..last`` (1-based)."""
    frames, next_due = [], -np.inf
    with VideoSource(video) as source:
        for frame in source.frames():
            number = frame.meta.seq + 1
            if number > last:
                break
            if number < first or frame.meta.mono_s < next_due:
                continue
            next_due = max(next_due + 1.0 / detect_fps, frame.meta.mono_s)
            frames.append(frame)
    return frames


def _replay(
    frames: list[Frame], detector: WindowDetector, tracker_config: TrackerConfig, *, naive: bool, label: str
) -> tuple[list[NDArray[np.float32]], float, GatedDetector]:
    gate = GatedDetector(detector, naive=naive)
    tracker = ByteTracker(tracker_config, CameraId("bench/replay"))
    describer = ColorDescriber((PERSON,))
    boxes, detect_s = [], 0.0
    with frame_progress() as bar:
        task = bar.add_task(label, total=len(frames))
        for frame in frames:
            result = analyse_live_frame(frame, gate, tracker, describer)
            boxes.append(result.tracks.of_classes([PERSON]).xyxy)
            detect_s += result.detect_s
            bar.update(task, advance=1)
    return boxes, detect_s, gate


def gate_recall(
    video: Path,
    gt_path: Path,
    detector: WindowDetector,
    *,
    frames: tuple[int, int] = (1, 400),
    detect_fps: float = 5.0,
    tracker_config: TrackerConfig | None = None,
) -> dict[str, Any]:
    """Person recall and precision of the gated and the naive pipeline on the same frames, and their detector
    time per frame. Frames are 1-based and inclusive."""
    gt = read_mot(gt_path)
    if len(gt) == 0:
        raise StorewatchError(f"{gt_path}: the ground truth file has no rows")
    first, last = frames
    chosen = _due_frames(video, first, last, detect_fps)
    if not chosen:
        raise StorewatchError(f"{video}: no frames between {first} and {last}")
    valid = gt.select(gt.flag != 0)
    truth = [valid.xyxy[valid.frame == f.meta.seq + 1] for f in chosen]
    out: dict[str, Any] = {"frames_scored": len(chosen), "frames": f"{first}-{last}", "detect_fps": detect_fps}
    t0 = time.perf_counter()
    for mode in ("naive", "gated"):
        boxes, detect_s, gate = _replay(
            chosen, detector, tracker_config or TrackerConfig(), naive=mode == "naive", label=f"recall {mode}"
        )
        scores = score_detections(truth, boxes)
        out[f"person_recall_{mode}"] = round(scores.recall, 4)
        out[f"person_precision_{mode}"] = round(scores.precision, 4)
        out[f"detector_ms_per_frame_{mode}"] = round(1000 * detect_s / len(chosen), 2)
        out[f"input_pixel_share_{mode}"] = round(
            gate.stats.input_pixels / (len(chosen) * chosen[0].image.shape[0] * chosen[0].image.shape[1]), 3
        )
    out["recall_gap_points"] = round(100 * (out["person_recall_naive"] - out["person_recall_gated"]), 2)
    out["offline_speedup"] = round(
        out["detector_ms_per_frame_naive"] / max(out["detector_ms_per_frame_gated"], 1e-9), 2
    )
    out["elapsed_s"] = round(time.perf_counter() - t0, 1)
    return out
