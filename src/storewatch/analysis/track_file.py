"""Tracking a video into files: the MOTChallenge track file and, optionally, an annotated MP4."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from storewatch.analysis.interpolate import fill_gaps
from storewatch.analysis.tracking import Detector, RunStats, track_source
from storewatch.detect.coco import PERSON
from storewatch.io.mot import MotRows, concat_rows, rows_of, write_mot
from storewatch.progress import frame_progress
from storewatch.render.draw import draw_tracks
from storewatch.track.config import TrackerConfig
from storewatch.video.source import VideoSource
from storewatch.video.writer import Mp4Writer


def track_to_files(
    video: str | Path,
    detector: Detector,
    tracker_config: TrackerConfig,
    out: Path,
    *,
    video_out: Path | None = None,
    first_seq: int = 0,
    last_seq: int | None = None,
    progress: bool = True,
    fill_gap_s: float = 1.0,
) -> dict[str, Any]:
    """Track ``video``; write person tracks to ``out`` (and an annotated video); return a summary.

    Gaps of up to ``fill_gap_s`` in a track (a person briefly hidden) are filled by interpolation in the track file.
    """
    stats = RunStats()
    collected: list[MotRows] = []
    out.parent.mkdir(parents=True, exist_ok=True)
    with (
        VideoSource(video) as source,
        out.open("w", encoding="utf-8") as fh,
        frame_progress(disabled=not progress) as bar,
    ):
        end = last_seq + 1 if last_seq is not None else source.frame_count
        task = bar.add_task("tracking", total=(end - first_seq) if end > first_seq else None)
        writer = Mp4Writer(video_out, fps=source.fps or 10.0) if video_out is not None else None
        try:
            for r in track_source(source, detector, tracker_config, first_seq=first_seq, last_seq=last_seq):
                stats.add(r)
                collected.append(rows_of(r.frame.meta.seq, r.tracks.of_classes([PERSON])))
                if writer is not None:
                    people = int((r.tracks.class_id == PERSON).sum())
                    caption = f"frame {r.frame.meta.seq + 1}  t={r.frame.meta.mono_s:6.1f}s  people: {people}"
                    writer.write(draw_tracks(r.frame.image, r.tracks, caption))
                bar.update(task, advance=1)
        finally:
            if writer is not None:
                writer.close()
        corrupt = source.stats.corrupt
        fps = source.fps or 10.0
        rows = concat_rows(collected)
        rows = fill_gaps(rows, max_gap_frames=round(fill_gap_s * fps)) if fill_gap_s > 0 else rows
        write_mot(fh, rows)
    return {
        "video": str(video),
        "frames": stats.frames,
        "corrupt_frames_skipped": corrupt,
        "rows": len(rows),
        "rows_filled": int((rows.flag == 0).sum()),
        "tracks": len(stats.track_ids),
        "elapsed_s": round(stats.elapsed_s, 2),
        "fps": round(stats.frames / max(stats.elapsed_s, 1e-9), 1),
        "detector_ms_p50": round(stats.detect_ms(50), 1),
        "detector_ms_p95": round(stats.detect_ms(95), 1),
        "track_file": str(out),
        "video_file": str(video_out) if video_out else None,
    }
