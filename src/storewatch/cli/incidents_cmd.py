"""``storewatch incidents export|verify``: evidence packs."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from storewatch.errors import StorewatchError

app = typer.Typer(help="Incidents and their evidence packs.", no_args_is_help=True)


@app.command("verify")
def verify(pack: Annotated[Path, typer.Argument(help="Evidence pack (.zip) to check.")]) -> None:
    """Check every file of an evidence pack against its SHA-256 manifest; exit 1 when anything differs."""
    from storewatch.incidents.pack import verify_pack

    result = verify_pack(pack)
    if result.ok:
        typer.echo(f"{pack}: OK — {result.files} files match the manifest")
        return
    for problem in result.problems:
        typer.echo(f"{pack}: {problem}")
    typer.echo(f"{pack}: FAILED ({len(result.problems)} problem(s))")
    raise typer.Exit(1)


@app.command("export")
def export(
    event: Annotated[str, typer.Option(help="Id of the stored event the pack is about.")],
    out: Annotated[Path, typer.Option(help="The pack to write (.zip).")],
    actor: Annotated[str, typer.Option(help="Who exports it (goes into the chain of custody).")],
    data_dir: Annotated[Path, typer.Option(help="The data folder of storewatch run.")] = Path("storewatch-data"),
) -> None:
    """An evidence pack for one stored event: its snapshot and clip, the record, a PDF summary, the manifest."""
    from storewatch.incidents.pack import build_pack
    from storewatch.store import EventRepository, default_url, open_database

    if not (data_dir / "storewatch.db").is_file():
        raise StorewatchError(f"{data_dir}: no event store here", fix="give the data folder of `storewatch run`")
    with open_database(default_url(data_dir)) as db:
        found = EventRepository(db).get(event)
    if found is None:
        raise StorewatchError(f"no stored event has the id {event!r}")
    files = [Path(p) for p in found.evidence.values() if Path(p).is_file()]
    now = datetime.now(UTC)
    record = {
        "id": f"event-{found.id}",
        "title": found.explanation,
        "store": found.store,
        "state": "open",
        "created_utc": found.start_utc.isoformat(),
        "events": [json.loads(found.model_dump_json())],
        "timeline": [],
    }
    custody = [{"action": "created", "actor": "storewatch", "at_utc": found.start_utc.isoformat()}]
    build_pack(out, record, files, custody, actor=actor, now=now)
    typer.echo(f"{out}: evidence pack with {len(files)} evidence file(s); check it with `storewatch incidents verify`")
