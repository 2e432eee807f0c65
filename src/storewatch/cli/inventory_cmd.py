"""``storewatch inventory ingest|report``: stock adjustments and cycle counts from CSV into the store, and the
shrink report that puts each shelf zone's unexplained loss beside the behaviour events seen there."""

from __future__ import annotations

import csv
import json
import sys
import time
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from storewatch.cli.database import DatabaseOpt, DataDirOpt, open_store

if TYPE_CHECKING:
    from rich.progress import TaskID

    from storewatch.inventory.config import InventoryConfig
    from storewatch.inventory.service import ShrinkReport

app = typer.Typer(help="Inventory: stock adjustments and cycle counts, shrink per shelf zone.", no_args_is_help=True)

FilesArg = Annotated[list[Path], typer.Argument(help="CSV files of stock adjustments or cycle counts.")]
SiteOpt = Annotated[
    Path | None,
    typer.Option("--config", help="The site file: its inventory section (shelves, reasons, time zone, columns)."),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="JSON output.")]


def _config(path: Path | None) -> InventoryConfig:
    from storewatch.inventory.config import InventoryConfig

    if path is None:
        return InventoryConfig()
    from storewatch.config.loader import load_site_config

    return load_site_config(path).inventory


@app.command("ingest")
def ingest(
    files: FilesArg,
    data_dir: DataDirOpt = None,
    database: DatabaseOpt = None,
    config: SiteOpt = None,
    as_json: JsonOpt = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress display.")] = False,
) -> None:
    """Store the files' adjustments and counts (idempotent: a file ingested twice changes nothing; a corrected
    record replaces the stored one). Rows that cannot be read are kept in the quarantine table and listed on
    stderr, naming line and column; the exit status is then 1."""
    from storewatch.errors import StorewatchError
    from storewatch.inventory.service import InventoryService
    from storewatch.progress import item_progress

    missing = [str(p) for p in files if not p.is_file()]
    if missing:
        raise StorewatchError(f"no such file: {', '.join(missing)}")
    cfg = _config(config)
    bad = 0
    with open_store(data_dir, database) as db, item_progress("rows", disabled=quiet or as_json) as progress:
        service = InventoryService(db, cfg)
        for path in files:
            task = progress.add_task(path.name)
            wall, cpu = time.perf_counter(), time.process_time()

            def advance(n: int, task: TaskID = task) -> None:
                progress.update(task, completed=n)

            report = service.ingest_file(path, advance)
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            rows = report.adjustments + report.counts + len(report.quarantined)
            if as_json:
                body = {k: v for k, v in report.to_dict().items() if k != "quarantined"}
                print(json.dumps(body | {"quarantined": len(report.quarantined), "seconds": round(wall, 3),
                                         "cpu_seconds": round(cpu, 3)}))  # fmt: skip
            else:
                print(
                    f"{path}: {report.adjustments} adjustments, {report.counts} counts ({report.inserted} new, "
                    f"{report.updated} changed, {report.unchanged} already stored), {len(report.quarantined)} "
                    f"quarantined; {rows / max(wall, 1e-9):,.0f} rows/s, {cpu:.2f} s CPU"
                )
            for q in report.quarantined:
                typer.secho(f"quarantined: {q}", err=True, fg=typer.colors.YELLOW)
            bad += len(report.quarantined)
    if bad:
        raise typer.Exit(1)


@app.command("report")
def report(
    start: Annotated[str, typer.Option("--from", help="First day (YYYY-MM-DD, the inventory time zone).")],
    end: Annotated[str, typer.Option("--to", help="Last day, included.")],
    store: Annotated[
        list[str] | None, typer.Option("--store", help="A store id (repeat); default: every store.")
    ] = None,
    data_dir: DataDirOpt = None,
    database: DatabaseOpt = None,
    config: SiteOpt = None,
    as_json: JsonOpt = False,
    as_csv: Annotated[bool, typer.Option("--csv", help="CSV: one row per SKU with its zone's events beside.")] = False,
    events: Annotated[int, typer.Option(min=0, max=1000, help="Events listed per zone (all are counted).")] = 20,
) -> None:
    """Shrink per shelf zone over the days: counted against expected, less explained write-offs, is the
    unexplained loss (units, and money with a unit cost); beside each zone, its behaviour events (counts per kind
    and the newest ones' ids)."""
    from storewatch.errors import StorewatchError
    from storewatch.inventory.service import InventoryService, period

    if as_json and as_csv:
        raise StorewatchError("give --json or --csv, not both")
    days = []
    for flag, text in (("--from", start), ("--to", end)):
        try:
            days.append(date.fromisoformat(text))
        except ValueError:
            raise StorewatchError(f"{flag} {text!r}: not a date (YYYY-MM-DD)") from None
    cfg = _config(config)
    start_utc, end_utc = period(days[0], days[1], cfg.timezone)
    with open_store(data_dir, database) as db:
        found = InventoryService(db, cfg).report(store or None, start_utc, end_utc, events)
    if as_json:
        print(json.dumps(found.to_dict(), indent=2))
    elif as_csv:
        _print_csv(found)
    else:
        _print_text(found, days[0], days[1])


def _print_csv(found: ShrinkReport) -> None:
    from storewatch.inventory.service import CSV_COLUMNS, csv_rows

    writer = csv.DictWriter(sys.stdout, CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(csv_rows(found))


def _money(minor: int | None, currency: str | None) -> str:
    return "" if minor is None else f" ({minor / 100:,.2f}{' ' + currency if currency else ''})"


def _print_text(found: ShrinkReport, first: date, last: date) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    money = _money(found.unexplained_minor, found.currency)
    console.print(f"[bold]Shrink {first} to {last}[/bold]: {found.unexplained} units unexplained{money}")
    if not found.zones:
        console.print("no cycle counts or adjustments in the period")
    for z in found.zones:
        s, ev = z.shrink, z.events
        title = f"{s.store}/{s.zone}" if s.zone else f"{s.store}: SKUs on no mapped shelf"
        camera = f" (camera {s.camera})" if s.camera else ""
        console.print(f"\n[bold]{title}[/bold]{camera}: {s.unexplained} units unexplained"
                      f"{_money(s.unexplained_minor, found.currency)}")  # fmt: skip
        if ev is not None:
            kinds = ", ".join(f"{t} {n}" for t, n in ev.by_type.items()) or "none"
            console.print(f"  behaviour events in the zone: {ev.total} ({kinds})")
            for e in ev.newest:
                link = f" incident {e.incident_id}" if e.incident_id else ""
                console.print(f"    {e.start_utc:%Y-%m-%d %H:%M} {e.type:<16} {e.id}{link}")
        table = Table("SKU", "counted", "expected", "shortfall", "explained", "unexplained", "cost/unit", box=None)
        for line in s.skus:
            cost = "" if line.unit_cost_minor is None else f"{line.unit_cost_minor / 100:,.2f}"
            table.add_row(line.sku, str(line.counted), str(line.expected), str(line.shortfall), str(line.explained),
                          str(line.unexplained), cost)  # fmt: skip
        console.print(table)
