"""``storewatch bench ...``: accuracy and speed benchmarks that print JSON for committed baselines."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from storewatch.cli.options import BackendOpt, ConfigOpt, FillGapsOpt, FramesOpt, QuietOpt, ThreadsOpt
from storewatch.cli.track_cmd import load_configs

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
    from storewatch.cli.track_cmd import parse_frames

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
        _fail_on_regressions(compare_with_baseline(result, load_baseline(baseline)))


@app.command("pipeline")
def pipeline(
    cameras: Annotated[int, typer.Option(min=1, max=64, help="Live cameras to simulate.")] = 8,
    seconds: Annotated[float, typer.Option(min=1.0, max=3600.0, help="Measurement time per mode.")] = 30.0,
    mode: Annotated[str, typer.Option(help="gated, naive or both (speedup_vs_naive needs both).")] = "both",
    video: Annotated[Path, typer.Option(help="Video replayed by every camera.")] = Path(
        "../shared/data/pets09-s2l1/vtest.avi"
    ),
    gt: Annotated[
        Path | None,
        typer.Option(help="Ground truth for the recall check (default: the sample's, when it is there)."),
    ] = None,
    recall_frames: Annotated[str, typer.Option(help="Frames A-B (1-based) the recall check scores.")] = "1-400",
    recall: Annotated[bool, typer.Option(help="Run the recall check (gated vs naive on the ground truth).")] = True,
    detect_fps: Annotated[float, typer.Option(min=0.5, max=30.0, help="Detection rate per camera.")] = 5.0,
    capture: Annotated[str, typer.Option(help="Decode cameras in threads or in worker processes.")] = "thread",
    config: ConfigOpt = None,
    backend: BackendOpt = None,
    threads: ThreadsOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object on one line.")] = False,
) -> None:
    """Replay a video as N live cameras at real time: detect fps per camera, frame-to-event latency, drops, CPU,
    memory and the gated pipeline's speed-up over the naive one; and person recall of both on the ground truth."""
    from storewatch.analysis.tracking import open_detector
    from storewatch.bench.gate_recall import gate_recall
    from storewatch.bench.pipeline import run_pipeline_benchmark
    from storewatch.cli.track_cmd import parse_frames
    from storewatch.errors import StorewatchError
    from storewatch.video.source import check_video_file

    modes = {"both": ("gated", "naive"), "gated": ("gated",), "naive": ("naive",)}.get(mode)
    if modes is None:
        raise StorewatchError(f"--mode {mode!r}: choose gated, naive or both")
    check_video_file(video)
    if not recall:
        gt = None
    elif gt is None:
        default_gt = video.parent / "gt-frames-0001-0400.txt"
        gt = default_gt if default_gt.exists() else None
    elif not gt.is_file():
        raise StorewatchError(f"--gt {gt}: no such file", fix="give a MOTChallenge ground-truth file or --no-recall")
    det_cfg, _ = load_configs(config, backend, threads)
    detector = open_detector(det_cfg)
    if capture not in ("thread", "process"):
        raise StorewatchError(f"--capture {capture!r}: choose thread or process")
    result = run_pipeline_benchmark(
        video, detector, cameras, seconds, modes, detect_fps=detect_fps, processes=capture == "process"
    )
    if gt is not None:
        first, last = parse_frames(recall_frames)
        result["recall"] = gate_recall(
            video, gt, detector, frames=(first + 1, (last or 399) + 1), detect_fps=detect_fps
        )
    print(json.dumps(result, indent=None if as_json else 2))


@app.command("rules")
def rules(
    points: Annotated[int, typer.Option(min=1000, max=100_000_000, help="Track points to replay.")] = 1_000_000,
    people: Annotated[int, typer.Option(min=1, max=500, help="People in view at any time.")] = 8,
) -> None:
    """Speed and memory of every behaviour rule on a synthetic day of a busy camera (JSON)."""
    from storewatch.bench.rules_speed import run_rules_benchmark

    print(json.dumps(run_rules_benchmark(points, people)))


@app.command("behaviours")
def behaviours(
    caviar: Annotated[Path, typer.Option(help="Folder of CAVIAR sequences (tracks/labels/groups.csv each).")] = Path(
        "../shared/data/caviar"
    ),
    baseline: Annotated[
        Path | None, typer.Option(help="Baseline JSON: exit 1 if a type's F1 falls > 0.02 below it.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print only the JSON result.")] = False,
) -> None:
    """Replay CAVIAR ground-truth tracks through the behaviour engine (default rules, no zones) and score fall,
    fight and abandoned-object events against the labels: episodes, matched, events, false events, P, R, F1."""
    from storewatch.bench.behaviours import TYPES, compare_with_baseline, run_behaviour_benchmark
    from storewatch.bench.tracking import load_baseline

    result = run_behaviour_benchmark(caviar)
    if as_json:
        print(json.dumps(result))
    else:
        print(f"{'type':<18}{'episodes':>9}{'matched':>8}{'events':>7}{'false':>6}{'P':>7}{'R':>7}{'F1':>7}")
        for type_ in TYPES:
            r = result["types"][type_]
            print(
                f"{type_:<18}{r['episodes']:>9}{r['matched']:>8}{r['events']:>7}{r['false_events']:>6}"
                f"{r['precision']:>7.2f}{r['recall']:>7.2f}{r['f1']:>7.2f}"
            )
    if baseline is not None:
        _fail_on_regressions(compare_with_baseline(result, load_baseline(baseline)))


@app.command("alerts")
def alerts(
    cameras: Annotated[int, typer.Option(min=0, max=64, help="Live cameras loading the detector.")] = 8,
    seconds: Annotated[float, typer.Option(min=10.0, max=3600.0, help="How long to run.")] = 60.0,
    video: Annotated[Path, typer.Option(help="Video replayed by every camera.")] = Path(
        "../shared/data/pets09-s2l1/vtest.avi"
    ),
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object on one line.")] = False,
) -> None:
    """Frame capture to webhook receipt (p50, p95) of tampering alerts while N cameras run (JSON)."""
    import tempfile

    from storewatch.analysis.tracking import open_detector
    from storewatch.bench.alerts import run_alerts_benchmark
    from storewatch.detect.config import DetectorConfig
    from storewatch.video.source import check_video_file

    check_video_file(video)
    with tempfile.TemporaryDirectory(prefix="storewatch-bench-") as work:
        result = run_alerts_benchmark(video, open_detector(DetectorConfig()), cameras, seconds, Path(work))
    print(json.dumps(result, indent=None if as_json else 2))


@app.command("dashboard")
def dashboard(
    clients: Annotated[
        int, typer.Option(min=1, max=60, help="Concurrent dashboard clients, each with a live feed.")
    ] = 50,
    seconds: Annotated[float, typer.Option(min=5.0, max=3600.0, help="How long the clients browse.")] = 60.0,
    cameras: Annotated[int, typer.Option(min=0, max=64, help="Live cameras running meanwhile.")] = 8,
    video: Annotated[Path, typer.Option(help="Video replayed by every camera.")] = Path(
        "../shared/data/pets09-s2l1/vtest.avi"
    ),
    run_nice: Annotated[
        int, typer.Option(min=0, max=19, help="Niceness of `storewatch run` (10: cameras yield to the dashboard).")
    ] = 0,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object on one line.")] = False,
) -> None:
    """Page and API latency (p50/p95/max per kind) and live events delivered to every client, while N clients with
    live feeds browse `storewatch serve` and M cameras run with `storewatch run` (JSON)."""
    import tempfile

    from storewatch.bench.dashboard import run_dashboard_benchmark
    from storewatch.video.source import check_video_file

    check_video_file(video)
    with tempfile.TemporaryDirectory(prefix="storewatch-bench-") as work:
        result = run_dashboard_benchmark(video.resolve(), cameras, clients, seconds, Path(work), run_nice=run_nice)
    print(json.dumps(result, indent=None if as_json else 2))


@app.command("privacy")
def privacy(
    video: Annotated[Path, typer.Option(help="The PETS sample video.")] = Path("../shared/data/pets09-s2l1/vtest.avi"),
    gt: Annotated[Path | None, typer.Option(help="Its ground truth (default: beside the video).")] = None,
    tracked: Annotated[bool, typer.Option(help="Also score the people the detector and tracker report.")] = True,
    repeats: Annotated[int, typer.Option(min=1, max=50, help="Timed runs per frame (the median is kept).")] = 3,
    save_images: Annotated[
        Path | None, typer.Option(help="Folder for before/after pictures of every checked frame.")
    ] = None,
    baseline: Annotated[
        Path | None, typer.Option(help="Baseline JSON: exit 1 if people protected or face recall fall below it.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object on one line.")] = False,
) -> None:
    """Face blurring on hand-checked PETS frames: people protected (by face or body fallback), faces found, and
    the cost per frame and per person (JSON)."""
    from storewatch.analysis.tracking import open_detector
    from storewatch.bench.privacy import compare_with_baseline, run_privacy_benchmark
    from storewatch.bench.tracking import load_baseline
    from storewatch.detect.config import DetectorConfig
    from storewatch.privacy.faces import open_face_detector
    from storewatch.track.config import TrackerConfig
    from storewatch.video.source import check_video_file

    check_video_file(video)
    result = run_privacy_benchmark(
        video, gt or video.parent / "gt-frames-0001-0400.txt", open_face_detector(),
        person_detector=open_detector(DetectorConfig()) if tracked else None, tracker_config=TrackerConfig(),
        repeats=repeats, save_dir=save_images,
    )  # fmt: skip
    print(json.dumps(result, indent=None if as_json else 2))
    if baseline is not None:
        _fail_on_regressions(compare_with_baseline(result, load_baseline(baseline)))


@app.command("pos")
def pos(
    transactions: Annotated[int, typer.Option(min=100, max=10_000_000, help="Transactions to generate.")] = 100_000,
    data_dir: Annotated[Path, typer.Option(help="Folder for the SQLite database (made fresh) and the files.")] = Path(
        "storewatch-bench-pos"
    ),
    fmt: Annotated[str, typer.Option("--format", help="poslog (NCR ACS 2.1 XML), jsonl or csv.")] = "poslog",
    workers: Annotated[int | None, typer.Option(min=1, max=64, help="Parsing processes (default: the CPUs).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object on one line.")] = False,
) -> None:
    """POS ingest speed: N generated transactions parsed, checked and stored in SQLite, then again (JSON)."""
    from storewatch.bench.pos import FORMATS, run_pos_benchmark
    from storewatch.errors import StorewatchError

    if fmt not in FORMATS:
        raise StorewatchError(f"--format {fmt!r}: choose {', '.join(FORMATS)}")
    result = run_pos_benchmark(data_dir, transactions, fmt, workers)
    print(json.dumps(result, indent=None if as_json else 2))


def _fail_on_regressions(problems: list[str]) -> None:
    """Exit 1 after naming each figure that fell below its baseline."""
    for p in problems:
        print(f"regression: {p}", file=sys.stderr)
    if problems:
        raise typer.Exit(1)
