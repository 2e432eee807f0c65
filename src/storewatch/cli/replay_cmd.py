"""``storewatch replay``: run the behaviour rules over a recorded track file."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from storewatch.errors import StorewatchError


def register(app: typer.Typer) -> None:
    app.command("replay")(replay)


def _size(text: str) -> tuple[int, int]:
    m = re.fullmatch(r"(\d{1,5})x(\d{1,5})", text.strip().lower())
    if not m or int(m[1]) == 0 or int(m[2]) == 0:
        raise StorewatchError(f"--size {text!r}: expected WIDTHxHEIGHT in pixels, e.g. 768x576")
    return int(m[1]), int(m[2])


def replay(
    tracks: Annotated[Path, typer.Option(help="Track file: MOTChallenge text or CSV with a header.")],
    fps: Annotated[float, typer.Option(min=0.1, max=1000.0, help="Frames per second of the track file.")],
    size: Annotated[str, typer.Option(help="Frame size WIDTHxHEIGHT (pixels) the boxes refer to.")],
    events_out: Annotated[Path, typer.Option(help="Where to write the events, one JSON object per line.")],
    config: Annotated[
        Path | None, typer.Option(help="Site YAML: the camera's zones, lines, schedule and rule settings.")
    ] = None,
    camera: Annotated[str | None, typer.Option(help="Which camera of the site file (store/camera).")] = None,
    start: Annotated[
        str | None, typer.Option(help="UTC time of the first frame (ISO 8601; default 2026-01-05T12:00Z, a Monday).")
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress or summary.")] = False,
) -> None:
    """Run every rule over the tracks and write each event (type, start_s, end_s, track_ids, severity,
    explanation...). Without --config: the default rules, the whole frame as one zone."""
    from storewatch.behaviour.engine import BehaviourEngine
    from storewatch.behaviour.replay import ReplayStats, event_line, replay_events
    from storewatch.progress import frame_progress

    width, height = _size(size)
    start_utc = _start(start)
    if config is not None:
        from storewatch.behaviour.site import engine_for, find_camera
        from storewatch.config import load_site_config

        site = load_site_config(config)
        store, cam = find_camera(site, camera)
        engine = engine_for(site, store, cam, width, height)
    else:
        engine = BehaviourEngine("replay/camera", width=width, height=height)
    stats = ReplayStats()
    events_out.parent.mkdir(parents=True, exist_ok=True)
    tmp = events_out.with_name(events_out.name + ".partial")
    with tmp.open("w", encoding="utf-8") as out, frame_progress(disabled=quiet) as bar:
        task = bar.add_task("replay", total=None)
        for event in replay_events(engine, tracks, fps, start_utc, stats=stats,
                                   on_frame=lambda n: bar.update(task, completed=n)):  # fmt: skip
            out.write(json.dumps(event_line(event)) + "\n")
    tmp.replace(events_out)
    if not quiet:
        _summary(stats.frames, stats.track_points, dict(stats.events), events_out)


def _start(text: str | None) -> datetime:
    if text is None:
        return datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise StorewatchError(f"--start {text!r}: expected an ISO 8601 time, e.g. 2026-03-02T09:30:00Z") from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _summary(frames: int, points: int, counts: dict[str, int], path: Path) -> None:
    console = Console(stderr=True)
    console.print(f"{frames} frames, {points} track points: {sum(counts.values())} events written to {path}")
    if not counts:
        return
    table = Table()
    table.add_column("event type")
    table.add_column("events", justify="right")
    for name, n in sorted(counts.items()):
        table.add_row(name, str(n))
    console.print(table)
