"""``storewatch bench ...``: accuracy and speed benchmarks that print JSON for committed baselines."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from storewatch.cli.options import BackendOpt, ConfigOpt, FillGapsOpt, FramesOpt, QuietOpt, ThreadsOpt

app = typer.Typer(help="Benchmarks (accuracy and speed) against real data.", no_args_is_help=True)


@app.command("tracking")
def tracking(
    video: Annotated[Path, typer.Option(help="Video with ground truth.")],
    gt: Annotated[Path, typer.Option(help="MOTChallenge ground truth file.")],
    frames: FramesOpt = None,
    config: ConfigOpt = None,
    backend: BackendOpt = None,
    threads: ThreadsOpt = None,
    baseline: Annotated[
        Path | None, typer.Option(help="Baseline JSON: exit 1 if MOTA, IDF1 or HOTA falls > 0.02 below it.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print only the JSON result.")] = False,
    quiet: QuietOpt = False,
    fill_gaps_s: FillGapsOpt = 1.0,
) -> None:
    """MOTA, IDF1, HOTA, detector precision/recall and fps of our detector + tracker on a video."""
    from storewatch.analysis.tracking import open_detector
    from storewatch.bench.tracking import compare_with_baseline, load_baseline, run_tracking_benchmark
    from storewatch.cli.track_cmd import load_configs, parse_frames

    det_cfg, trk_cfg = load_configs(config, backend, threads)
    first, last = parse_frames(frames)
    detector = open_detector(det_cfg)
    result = run_tracking_benchmark(
        video,
        gt,
        detector,
        det_cfg,
        trk_cfg,
        first_seq=first,
        last_seq=last,
        progress=not quiet,
        fill_gap_s=fill_gaps_s,
    )
    print(json.dumps(result, indent=None if as_json else 2))
    if baseline is not None:
        problems = compare_with_baseline(result, load_baseline(baseline))
        for p in problems:
            print(f"regression: {p}", file=sys.stderr)
        if problems:
            raise typer.Exit(1)
