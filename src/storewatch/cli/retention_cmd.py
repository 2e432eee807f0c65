"""``storewatch retention run``: purge what is older than the site's ``retention:`` allows, now (the runner does
it daily by itself). ``--dry-run`` counts what would go and changes nothing."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich import box
from rich.console import Console
from rich.table import Table

from storewatch.cli.database import DatabaseOpt, open_store

if TYPE_CHECKING:
    from storewatch.config.schema import SiteConfig
    from storewatch.retention.service import RetentionReport, RetentionService

app = typer.Typer(help="Data retention: purge by age, per kind of data.", no_args_is_help=True)


@app.command("run")
def run(
    config: Annotated[
        Path | None, typer.Option("--config", help="Site YAML: its retention: days and where media is kept.")
    ] = None,
    data_dir: Annotated[
        Path | None, typer.Option(help="The data folder (default: the config's runtime.data_dir).")
    ] = None,
    database: DatabaseOpt = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Only count what would be removed.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the counts as JSON.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress display.")] = False,
) -> None:
    """Remove clips, snapshots, path pictures, tracks, events, alerts, POS records and audit rows older than their
    kind's days; the evidence of incidents under legal hold or still open is kept. Prints counts and bytes."""
    from storewatch.cli.database import DEFAULT_DATA_DIR
    from storewatch.config.loader import load_site_config
    from storewatch.media.config import S3Media, open_media_store
    from storewatch.retention.config import RetentionConfig
    from storewatch.retention.service import RetentionService

    site = load_site_config(config) if config is not None else None
    settings = site.retention if site is not None else RetentionConfig()
    folder = data_dir or (Path(site.runtime.data_dir) if site is not None else DEFAULT_DATA_DIR)
    archive = open_media_store(site.runtime.media) if site and isinstance(site.runtime.media, S3Media) else None
    console = Console(stderr=True, highlight=False)
    if site is None:
        console.print("no --config: using the default retention days and the data folder's media/", markup=False)
    with open_store(folder if database is None else None, database) as db:
        service = RetentionService(db, settings, folder, media_root(site, folder), archive)
        report = _run(service, dry_run, quiet)
    if as_json:
        typer.echo(json.dumps({**report.public(), "audit_seq": report.audit_seq}, indent=2))
    else:
        _print(report)
    if report.errors:
        raise typer.Exit(1)


def media_root(site: SiteConfig | None, data_dir: Path) -> Path:
    """The local evidence folder, as the runner places it (``runtime.media.root`` under the data folder)."""
    from storewatch.media.config import LocalMedia

    local = site.runtime.media.root if site is not None and isinstance(site.runtime.media, LocalMedia) else None
    root = local or Path("media")
    return root if root.is_absolute() else data_dir / root


def _run(service: RetentionService, dry_run: bool, quiet: bool) -> RetentionReport:
    from rich.progress import Progress, SpinnerColumn, TaskID, TextColumn, TimeElapsedColumn

    with Progress(
        SpinnerColumn(), TextColumn("{task.description}"), TextColumn("[cyan]{task.completed:.0f}"),
        TimeElapsedColumn(), console=Console(stderr=True), disable=quiet, transient=True,
    ) as progress:  # fmt: skip
        tasks: dict[str, TaskID] = {}

        def tell(step: str, done: int, total: int | None) -> None:
            if step not in tasks:
                tasks[step] = progress.add_task(step, total=None)
            progress.update(tasks[step], completed=done, total=total)

        return service.run(dry_run=dry_run, progress=tell)


def _print(report: RetentionReport) -> None:
    title = "would remove (dry run: nothing changed)" if report.dry_run else "removed"
    table = Table(title=f"retention: {title}", title_justify="left", box=box.SIMPLE_HEAD)
    for header in ("kind", "kept for (days)", "items", "size", "kept (held/open)", "errors"):
        table.add_column(header, justify="left" if header == "kind" else "right")
    for kind, result in report.kinds.items():
        cutoff = report.cutoffs[kind]
        days = "forever" if cutoff is None else f"{(report.started - cutoff).days}"
        table.add_row(kind.value, days, str(result.items), _size(result.bytes), str(result.kept), str(result.errors))
    console = Console(highlight=False)
    console.print(table)
    if report.audit_seq is not None:
        console.print(f"recorded in the audit log as row {report.audit_seq}", markup=False)


def _size(n: int) -> str:
    """Bytes for people.

    >>> _size(0), _size(1536), _size(3 * 10**9)
    ('0 B', '1.5 kB', '3.0 GB')
    """
    value = float(n)
    for unit in ("B", "kB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    raise AssertionError("unreachable")
