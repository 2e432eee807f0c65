"""``storewatch track VIDEO --out FILE``: detect and track people in a video, write MOTChallenge rows."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from storewatch.cli.options import BackendOpt, ConfigOpt, FillGapsOpt, FramesOpt, QuietOpt, ThreadsOpt
from storewatch.detect.config import BackendKind, DetectorConfig
from storewatch.errors import StorewatchError
from storewatch.track.config import TrackerConfig


def parse_frames(spec: str | None) -> tuple[int, int | None]:
    """``"A-B"`` (1-based, inclusive) -> (first_seq, last_seq) 0-based; ``"A-"`` runs to the end.

    >>> parse_frames("1-400"), parse_frames("10-"), parse_frames(None)
    ((0, 399), (9, None), (0, None))
    """
    if not spec:
        return 0, None
    try:
        a, _, b = spec.partition("-")
        first = int(a)
        last = int(b) if b else None
    except ValueError:
        raise StorewatchError(f"--frames {spec!r}: expected A-B, e.g. 1-400") from None
    if first < 1 or (last is not None and last < first):
        raise StorewatchError(f"--frames {spec!r}: frames are 1-based and A must not exceed B")
    return first - 1, (last - 1 if last is not None else None)


def load_configs(
    config: Path | None, backend: BackendKind | None = None, threads: int | None = None
) -> tuple[DetectorConfig, TrackerConfig]:
    """Detector and tracker settings from a site file (or defaults), with command-line overrides."""
    det, trk = DetectorConfig(), TrackerConfig()
    if config is not None:
        from storewatch.config import load_site_config

        site = load_site_config(config)
        det, trk = site.detector, site.tracker
    overrides: dict[str, Any] = {k: v for k, v in (("backend", backend), ("threads", threads)) if v is not None}
    return det.model_copy(update=overrides), trk


def register(app: typer.Typer) -> None:
    app.command("track")(track)


def track(
    video: Annotated[str, typer.Argument(help="Video file or stream URL.")],
    out: Annotated[Path, typer.Option("--out", help="Track file to write (MOTChallenge rows).")],
    video_out: Annotated[
        Path | None, typer.Option("--video-out", help="Also write an annotated H.264 MP4 here.")
    ] = None,
    config: ConfigOpt = None,
    backend: BackendOpt = None,
    threads: ThreadsOpt = None,
    frames: FramesOpt = None,
    summary_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
    quiet: QuietOpt = False,
    fill_gaps_s: FillGapsOpt = 1.0,
) -> None:
    """Detect and track people; write one row per tracked person per frame: frame,id,x,y,w,h,score,-1,-1,-1."""
    from storewatch.analysis.track_file import track_to_files
    from storewatch.analysis.tracking import open_detector

    det_cfg, trk_cfg = load_configs(config, backend, threads)
    first, last = parse_frames(frames)
    detector = open_detector(det_cfg)
    summary = track_to_files(
        video,
        detector,
        trk_cfg,
        out,
        video_out=video_out,
        first_seq=first,
        last_seq=last,
        progress=not quiet,
        fill_gap_s=fill_gaps_s,
    )
    summary["backend"] = det_cfg.backend.value
    if summary_json:
        print(json.dumps(summary))
    else:
        width = max(len(k) for k in summary)
        for k, v in summary.items():
            print(f"{k:>{width}}: {v}", file=sys.stderr)
