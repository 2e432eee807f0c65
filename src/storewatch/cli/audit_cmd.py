"""``storewatch audit``: check the audit log's hash chain, list it with filters, export it (CSV or JSON).

Reading the log is itself recorded (a privacy officer's look at who looked at what is a look at personal data
too); ``verify`` only reads, so the head it reports stays the head. Write the head down (``SEQ:HASH``) now and
then, somewhere else: ``verify --anchor SEQ:HASH`` later proves nothing up to that row was rewritten or cut off.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich import box
from rich.console import Console
from rich.table import Table

from storewatch.cli.database import DatabaseOpt, DataDirOpt, open_store
from storewatch.cli.options import actor_name
from storewatch.errors import StorewatchError

if TYPE_CHECKING:
    from storewatch.store.audit import AuditFilter

app = typer.Typer(help="The audit log: verify its hash chain, list and export it.", no_args_is_help=True)

ByOpt = Annotated[str, typer.Option("--by", help="Who reads it (recorded in the log). Default: the login name.")]
SinceOpt = Annotated[datetime | None, typer.Option(help="Only rows from this time (UTC unless a zone is given).")]
UntilOpt = Annotated[datetime | None, typer.Option(help="Only rows before this time (UTC unless a zone is given).")]
StoreOpt = Annotated[str | None, typer.Option(help="Only rows about this store.")]
ActorOpt = Annotated[str | None, typer.Option(help="Only rows of this actor (user name, 'storewatch', ...).")]
ActionOpt = Annotated[str | None, typer.Option(help="Only this action (login_ok, view, export, ...).")]


def _filter(since: datetime | None, until: datetime | None, store: str | None, actor: str | None,
            action: str | None) -> AuditFilter:  # fmt: skip
    from storewatch.audit.chain import AuditAction
    from storewatch.store.audit import AuditFilter

    if action is not None and action not in {a.value for a in AuditAction}:
        raise StorewatchError(
            f"unknown audit action {action!r}", fix=f"one of {', '.join(a.value for a in AuditAction)}"
        )
    utc = [t.replace(tzinfo=UTC) if t is not None and t.tzinfo is None else t for t in (since, until)]
    return AuditFilter(since=utc[0], until=utc[1], store=store, actor=actor, action=action)


@app.command("verify")
def verify(
    anchor: Annotated[
        str | None, typer.Option(help="A head written down earlier (SEQ:HASH): it must still be in the chain.")
    ] = None,
    data_dir: DataDirOpt = None,
    database: DatabaseOpt = None,
) -> None:
    """Walk the hash chain; name the first edited, removed or moved row (exit 1). Prints the head to write down."""
    from storewatch.store.audit import AuditLog, parse_anchor

    try:
        pinned = parse_anchor(anchor) if anchor is not None else None
    except ValueError as exc:
        raise StorewatchError(str(exc)) from None
    with open_store(data_dir, database) as db:
        report = AuditLog(db).verify(pinned)
    start = f"from row {report.start.seq}" + (" (older rows removed by retention)" if report.start.purged else "")
    if report.problem is not None:
        typer.echo(f"audit log: FAILED at row {report.problem.seq}: {report.problem.describe()}")
        typer.echo(f"  {report.rows} row(s) {start} are intact before it")
        raise typer.Exit(1)
    if report.head is None:
        typer.echo("audit log: OK — empty")
        return
    typer.echo(f"audit log: OK — {report.rows} row(s) {start} to row {report.head.seq}")
    typer.echo(f"head: {report.head.seq}:{report.head.hash}")
    typer.echo("  write the head down elsewhere; `storewatch audit verify --anchor SEQ:HASH` checks it later")


@app.command("list")
def list_(
    since: SinceOpt = None,
    until: UntilOpt = None,
    store: StoreOpt = None,
    actor: ActorOpt = None,
    action: ActionOpt = None,
    limit: Annotated[int, typer.Option(min=1, max=10_000, help="At most this many, newest first.")] = 100,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    by: ByOpt = "",
    data_dir: DataDirOpt = None,
    database: DatabaseOpt = None,
) -> None:
    """The newest rows of the audit log (the reading is recorded)."""
    from storewatch.audit.chain import ActorKind, AuditAction
    from storewatch.store.audit import AuditLog

    where = _filter(since, until, store, actor, action)
    with open_store(data_dir, database) as db:
        log = AuditLog(db)
        found = log.list(where, limit=limit)
        log.record(actor_name(by), ActorKind.CLI, AuditAction.VIEW, store=store, target="audit",
                   detail={"via": "cli", "filters": _described(where), "rows": len(found)})  # fmt: skip
    if as_json:
        typer.echo(json.dumps([e.public() for e in found], indent=2))
        return
    table = Table(title=f"{len(found)} audit row(s), newest first", title_justify="left", box=box.SIMPLE_HEAD)
    for header in ("seq", "time (UTC)", "actor", "action", "store", "target", "detail"):
        table.add_column(header, overflow="fold", justify="right" if header == "seq" else "left")
    for e in found:
        detail = json.dumps(e.details, sort_keys=True)
        table.add_row(str(e.seq), e.at.strftime("%Y-%m-%d %H:%M:%S"), f"{e.actor} ({e.actor_kind})", e.action,
                      e.store or "", e.target or "", detail[:120])  # fmt: skip
    Console(highlight=False).print(table)


@app.command("export")
def export(
    csv_out: Annotated[Path | None, typer.Option("--csv", help="Write the rows to this CSV file.")] = None,
    json_out: Annotated[Path | None, typer.Option("--json", help="Or to this JSON file.")] = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
    store: StoreOpt = None,
    actor: ActorOpt = None,
    action: ActionOpt = None,
    by: ByOpt = "",
    data_dir: DataDirOpt = None,
    database: DatabaseOpt = None,
) -> None:
    """Every matching row, oldest first, with its hashes (the export is recorded)."""
    from storewatch.audit.chain import ActorKind, AuditAction
    from storewatch.audit.export import audit_csv
    from storewatch.store.audit import AuditLog

    if (csv_out is None) == (json_out is None):
        raise StorewatchError("give --csv FILE or --json FILE (one of them)")
    where = _filter(since, until, store, actor, action)
    out = csv_out or json_out
    assert out is not None
    with open_store(data_dir, database) as db:
        log = AuditLog(db)
        rows = [e.public() for e in log.scan(where)]
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(audit_csv(rows) if csv_out is not None else json.dumps(rows, indent=2) + "\n", newline="")
        log.record(actor_name(by), ActorKind.CLI, AuditAction.EXPORT, store=store, target="audit",
                   detail={"via": "cli", "filters": _described(where), "rows": len(rows),
                           "format": "csv" if csv_out is not None else "json"})  # fmt: skip
    typer.echo(f"{out}: {len(rows)} audit row(s)")


def _described(where: AuditFilter) -> dict[str, str]:
    return {k: (v.isoformat() if isinstance(v, datetime) else str(v))
            for k, v in (("since", where.since), ("until", where.until), ("store", where.store),
                         ("actor", where.actor), ("action", where.action)) if v is not None}  # fmt: skip
