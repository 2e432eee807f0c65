"""Command-line options shared by the commands that run the perception pipeline (one definition each)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from storewatch.detect.config import BackendKind
from storewatch.errors import StorewatchError

ConfigOpt = Annotated[Path | None, typer.Option("--config", help="Site YAML: detector and tracker settings.")]
BackendOpt = Annotated[BackendKind | None, typer.Option(help="Inference engine (overrides the config).")]
ThreadsOpt = Annotated[int | None, typer.Option(min=1, max=64, help="Inference threads (overrides the config).")]
FramesOpt = Annotated[str | None, typer.Option(help="Frame range A-B (1-based, inclusive).")]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")]
FillGapsOpt = Annotated[
    float, typer.Option(min=0.0, max=10.0, help="Fill gaps in a track up to this long, seconds (0 = off).")
]

SiteArg = Annotated[Path, typer.Argument(help="Site YAML (cameras, zones, runtime settings).")]
DataDirOpt = Annotated[
    Path | None, typer.Option(help="Where events, snapshots, clips and recordings go (overrides the config).")
]
StatusPortOpt = Annotated[
    int | None, typer.Option(min=0, max=65535, help="Port of /metrics and /status (overrides the config).")
]
RunSecondsOpt = Annotated[float | None, typer.Option(min=1.0, help="Stop after this long (default: run until Ctrl-C).")]

ByOpt = Annotated[
    str,
    typer.Option("--by", "--actor", help="Who does it (timeline, chain of custody). Default: the login name."),
]


def actor_name(by: str) -> str:
    """Who a command acts as (``--by``; default the login name), for timelines, custody and the audit log."""
    name = by.strip() or os.environ.get("USER", "") or "unknown"
    if len(name) > 128:
        raise StorewatchError("--by is at most 128 characters")
    return name
