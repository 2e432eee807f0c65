"""``storewatch backtest``: a changed rule set against the current one on stored track history."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table


def register(app: typer.Typer) -> None:
    app.command("backtest")(backtest)


def backtest(
    config: Annotated[Path, typer.Option(help="The site file with the rules in use.")],
    candidate: Annotated[Path, typer.Option(help="The site file with the changed rules.")],
    tracks: Annotated[Path, typer.Option(help="Track history: the data folder's tracks/ (written by run).")] = Path(
        "storewatch-data/tracks"
    ),
    as_json: Annotated[bool, typer.Option("--json", help="Print the comparison as JSON.")] = False,
) -> None:
    """How many events each rule would raise per camera-day with the candidate rules, against the current ones."""
    from storewatch.behaviour.backtest import backtest as run_backtest
    from storewatch.behaviour.backtest import find_history
    from storewatch.config import load_site_config
    from storewatch.progress import frame_progress

    current, changed = load_site_config(config), load_site_config(candidate)
    history = find_history(tracks)
    with frame_progress(disabled=as_json) as bar:
        task = bar.add_task("camera-days", total=len(history))
        result = run_backtest(current, changed, history, on_file=lambda _: bar.advance(task))
    rows = result.table()
    if as_json:
        print(json.dumps({"camera_days": result.camera_days, "rules": rows}))
        return
    table = Table(title=f"events per camera-day over {result.camera_days} camera-day(s)")
    for col in ("rule", "current", "candidate", "change"):
        table.add_column(col, justify="left" if col == "rule" else "right")
    for r in rows:
        change = r["change_percent"]
        table.add_row(str(r["rule"]), str(r["current_per_camera_day"]), str(r["candidate_per_camera_day"]),
                      "-" if change is None else f"{change:+.0f} %")  # fmt: skip
    Console().print(table)
