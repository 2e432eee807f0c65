"""``storewatch incidents``: list, show and work incidents; export evidence packs and cases; verify a pack.

Every command that changes an incident names who does it (``--by``): it goes into the incident's timeline, and
viewing or exporting goes into its chain of custody. Ids can be shortened to their first 6+ characters.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich import box
from rich.console import Console
from rich.table import Table

from storewatch.cli.database import DatabaseOpt, DataDirOpt, open_store
from storewatch.cli.options import ByOpt, actor_name
from storewatch.config.loader import load_site_config
from storewatch.errors import StorewatchError
from storewatch.progress import fraction_progress

Progress = Callable[[float, str], None]
ProtectClip = Callable[[Path, Progress | None], Path]

if TYPE_CHECKING:
    from storewatch.incidents.workflow import Incident, IncidentState
    from storewatch.store import Database

app = typer.Typer(help="Incidents: list, show, work them; evidence packs and case exports.", no_args_is_help=True)

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON.")]
IdArg = Annotated[str, typer.Argument(help="Incident id (or its first 6+ characters).")]
STATES = "open, acknowledged, investigating, resolved, false_alarm"


def _audit(db: Database, actor: str, action: str, store: str | None, target: str, **detail: object) -> None:
    """Record a look at or a taking out of evidence in the audit log (``storewatch audit``)."""
    from storewatch.audit.chain import ActorKind, AuditAction
    from storewatch.store.audit import AuditLog

    AuditLog(db).record(actor, ActorKind.CLI, AuditAction(action), store=store, target=target,
                        detail={"via": "cli", **detail})  # fmt: skip


def _local(t: datetime | None) -> str:
    return "" if t is None else t.astimezone().strftime("%Y-%m-%d %H:%M:%S")


@app.command("list")
def list_(
    data_dir: DataDirOpt = None,
    database: DatabaseOpt = None,
    store: Annotated[list[str] | None, typer.Option(help="Only these stores (repeat the option).")] = None,
    state: Annotated[list[str] | None, typer.Option(help=f"Only these states ({STATES}).")] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000, help="At most this many, newest first.")] = 50,
    as_json: JsonOpt = False,
) -> None:
    """The newest incidents: state, store, what happened, how many events, who has it."""
    from storewatch.incidents.cases import case_row
    from storewatch.store.incidents import IncidentRepository

    states = [_state(s) for s in state or []]
    with open_store(data_dir, database) as db:
        found = IncidentRepository(db).list(store=store or None, state=states or None, limit=limit)
        where = db.url
    if as_json:
        typer.echo(json.dumps([case_row(i, []) for i in found], indent=2))
        return
    console = Console()
    if not found:
        console.print(f"no incidents in {where}", highlight=False, markup=False)
        return
    table = Table(title=f"{len(found)} incident(s) in {where}", title_justify="left", box=box.SIMPLE_HEAD)
    for header in ("id", "state", "store", "what", "events", "assignee", "opened", "updated"):
        table.add_column(header, overflow="fold", justify="right" if header == "events" else "left")
    for i in found:
        table.add_row(i.id[:8], i.state.value, i.store, i.title, str(len(i.event_ids)), i.assignee or "",
                      _local(i.created), _local(i.updated))  # fmt: skip
    console.print(table)


@app.command("show")
def show(incident: IdArg, by: ByOpt = "", data_dir: DataDirOpt = None, database: DatabaseOpt = None,
         as_json: JsonOpt = False) -> None:  # fmt: skip
    """The whole record: fields, events with their evidence, timeline, chain of custody (the view is recorded)."""
    from storewatch.incidents.cases import incident_record
    from storewatch.store.events import EventRepository
    from storewatch.store.incidents import IncidentRepository
    from storewatch.store.models import CustodyAction

    with open_store(data_dir, database) as db:
        repo = IncidentRepository(db)
        incident_id = repo.resolve_id(incident)
        repo.record_custody(incident_id, actor_name(by), CustodyAction.VIEWED, {"via": "cli"})
        case = repo.get(incident_id)
        assert case is not None
        _audit(db, actor_name(by), "view", case.store, f"incident:{incident_id}")
        events = [e for e in (EventRepository(db).get(x) for x in case.event_ids) if e is not None]
        record = incident_record(case, events, repo.custody(incident_id))
    if as_json:
        typer.echo(json.dumps(record, indent=2))
        return
    console = Console(highlight=False)
    console.print(f"[bold]{case.title}[/bold]  ({case.id})")
    loss = f"{record['loss']} {case.currency}" if record["loss"] else "-"
    for label, value in (("state", case.state.value), ("store", case.store), ("camera", case.camera or "-"),
                         ("zone", case.zone or "-"), ("assignee", case.assignee or "-"),
                         ("tags", ", ".join(case.tags) or "-"), ("loss", loss),
                         ("false alarm", case.false_alarm_reason or "-"),
                         ("legal hold", "yes" if case.legal_hold else "no")):  # fmt: skip
        console.print(f"  {label:<12} {value}", markup=False)
    console.print("\n[bold]Events[/bold]")
    for e in events:
        console.print(f"  {_local(e.start_utc)}  {e.type}  {e.explanation}", markup=False)
        for kind, path in e.evidence.items():
            console.print(f"      {kind}: {path}", markup=False)
    console.print("\n[bold]Timeline[/bold]")
    for t in case.timeline:
        console.print(f"  {_local(t.at)}  {t.actor:<14} {t.kind:<14} {t.text}", markup=False)
    console.print("\n[bold]Chain of custody[/bold]")
    for c in record["custody"]:
        console.print(f"  {c['at_utc'][:19]}  {c['actor']:<14} {c['action']}", markup=False)


def _state(text: str) -> IncidentState:
    from storewatch.incidents.workflow import IncidentState

    try:
        return IncidentState(text.strip().lower().replace("-", "_").replace(" ", "_"))
    except ValueError:
        raise StorewatchError(f"unknown incident state {text!r}", fix=f"one of {STATES}") from None


def _change(incident: str, data_dir: Path | None, database: str | None, fn: Callable[[Incident], Incident]) -> Incident:
    from storewatch.incidents.workflow import TransitionError
    from storewatch.store.incidents import IncidentRepository

    with open_store(data_dir, database) as db:
        repo = IncidentRepository(db)
        incident_id = repo.resolve_id(incident)
        try:
            case = repo.change(incident_id, fn)
        except TransitionError as exc:
            raise StorewatchError(str(exc)) from None
    last = case.timeline[-1]
    typer.echo(
        f"{case.id[:8]} {case.state.value}: {last.kind} by {last.actor}" + (f" — {last.text}" if last.text else "")
    )
    return case


def _mover(name: str, to: str, doc: str) -> None:
    def command(incident: IdArg, by: ByOpt = "",
                reason: Annotated[str, typer.Option(help="Why (required for a false alarm).")] = "",
                data_dir: DataDirOpt = None, database: DatabaseOpt = None) -> None:  # fmt: skip
        state, actor, now = _state(to), actor_name(by), datetime.now(UTC)
        _change(incident, data_dir, database, lambda i: i.move(state, actor, now, reason=reason))

    command.__doc__ = doc
    app.command(name)(command)


_mover("ack", "acknowledged", "Acknowledge: someone is on it.")
_mover("investigate", "investigating", "Mark as being investigated.")
_mover("resolve", "resolved", "Resolve the incident.")
_mover("false-alarm", "false_alarm", "Close as a false alarm (needs --reason: what it really was; learning uses it).")
_mover("reopen", "open", "Reopen a resolved incident or a false alarm (give --reason).")


@app.command("note")
def note(incident: IdArg, text: Annotated[str, typer.Argument(help="The note.")], by: ByOpt = "",
         data_dir: DataDirOpt = None, database: DatabaseOpt = None) -> None:  # fmt: skip
    """Add a note to the timeline."""
    actor, now = actor_name(by), datetime.now(UTC)
    _change(incident, data_dir, database, lambda i: i.note(actor, now, text))


@app.command("assign")
def assign(incident: IdArg, to: Annotated[str, typer.Argument(help="Who takes it ('' for nobody).")],
           by: ByOpt = "", data_dir: DataDirOpt = None, database: DatabaseOpt = None) -> None:  # fmt: skip
    """Assign the incident to someone."""
    actor, now = actor_name(by), datetime.now(UTC)
    _change(incident, data_dir, database, lambda i: i.assign(actor, now, to.strip() or None))


@app.command("tag")
def tag(incident: IdArg, add: Annotated[list[str] | None, typer.Option(help="Tag to add (repeat).")] = None,
        remove: Annotated[list[str] | None, typer.Option(help="Tag to remove (repeat).")] = None,
        by: ByOpt = "", data_dir: DataDirOpt = None, database: DatabaseOpt = None) -> None:  # fmt: skip
    """Add or remove tags."""
    actor, now = actor_name(by), datetime.now(UTC)
    _change(incident, data_dir, database, lambda i: i.tag(actor, now, tuple(add or ()), tuple(remove or ())))


@app.command("loss")
def loss(incident: IdArg, amount: Annotated[str, typer.Argument(help="e.g. 129.99 ('' clears it).")],
         currency: Annotated[str, typer.Argument(help="ISO 4217 code, e.g. EUR.")] = "EUR",
         by: ByOpt = "", data_dir: DataDirOpt = None, database: DatabaseOpt = None) -> None:  # fmt: skip
    """Record the value lost."""
    minor: int | None = None
    if amount.strip():
        try:
            value = Decimal(amount.strip())
        except InvalidOperation:
            raise StorewatchError(f"{amount!r} is not an amount", fix="write it like 129.99") from None
        if value != value.quantize(Decimal("0.01")) or value < 0:
            raise StorewatchError(f"{amount!r}: give a non-negative amount with at most 2 decimals")
        minor = int(value * 100)
    actor, now = actor_name(by), datetime.now(UTC)
    _change(incident, data_dir, database, lambda i: i.set_loss(actor, now, minor, currency))


@app.command("hold")
def hold(incident: IdArg, release: Annotated[bool, typer.Option("--release", help="Release the hold.")] = False,
         reason: Annotated[str, typer.Option(help="Why (required to place a hold).")] = "",
         by: ByOpt = "", data_dir: DataDirOpt = None, database: DatabaseOpt = None) -> None:  # fmt: skip
    """Place (or release) a legal hold: retention keeps the incident's evidence while it holds."""
    actor, now = actor_name(by), datetime.now(UTC)
    case = _change(incident, data_dir, database, lambda i: i.hold(actor, now, not release, reason))
    with open_store(data_dir, database) as db:
        _audit(db, actor, "legal_hold", case.store, f"incident:{case.id}", held=not release, reason=reason)


@app.command("verify")
def verify(
    pack: Annotated[Path, typer.Argument(help="Evidence pack (.zip) to check.")],
    by: ByOpt = "",
    data_dir: DataDirOpt = None,
    database: DatabaseOpt = None,
) -> None:
    """Check every file of an evidence pack against its SHA-256 manifest; exit 1 when anything differs.

    The check is recorded in the audit log of the event store (--data-dir, --database, or the default data folder
    when it is there): the pack's SHA-256, its incident and the result. Someone holding only the pack (no store)
    can still check it; they are told it was not recorded."""
    from storewatch.incidents.pack import verify_pack

    result = verify_pack(pack)
    _record_check(pack, result.ok, result.files, len(result.problems), actor_name(by), data_dir, database)
    if result.ok:
        typer.echo(f"{pack}: OK — {result.files} files match the manifest")
        return
    for problem in result.problems:
        typer.echo(f"{pack}: {problem}")
    typer.echo(f"{pack}: FAILED ({len(result.problems)} problem(s))")
    raise typer.Exit(1)


def _record_check(
    pack: Path, ok: bool, files: int, problems: int, actor: str, data_dir: Path | None, database: str | None
) -> None:
    """Write the ``verify`` audit row; without a store to write it to (none given and no default folder), say so."""
    import hashlib
    import zipfile

    from storewatch.cli.database import DEFAULT_DATA_DIR

    if data_dir is None and database is None and not (DEFAULT_DATA_DIR / "storewatch.db").is_file():
        typer.echo(f"{pack}: this check is not recorded in an audit log (no event store here; give --data-dir)",
                   err=True)  # fmt: skip
        return
    digest = hashlib.sha256()
    with pack.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    record: dict[str, object] = {}
    try:
        with zipfile.ZipFile(pack) as z:
            found = json.loads(z.read("incident.json"))
            record = found if isinstance(found, dict) else {}
    except (zipfile.BadZipFile, KeyError, ValueError):
        pass  # not a readable pack: the check's result says so; the row has the file's hash
    store, case = record.get("store"), record.get("id")
    with open_store(data_dir, database) as db:
        _audit(db, actor, "verify", store if isinstance(store, str) and "," not in store else None,
               f"pack:{pack.name}", sha256=digest.hexdigest(), ok=ok, files=files, problems=problems,
               incident=case if isinstance(case, str) else None)  # fmt: skip


@app.command("export")
def export(
    out: Annotated[Path, typer.Option(help="The pack to write (.zip).")],
    incident: Annotated[str | None, typer.Option(help="Incident id (or its first 6+ characters).")] = None,
    event: Annotated[str | None, typer.Option(help="Or: one stored event, without an incident.")] = None,
    by: ByOpt = "",
    config: Annotated[
        Path | None, typer.Option(help="The site file: its privacy zones and privacy settings apply to the clips.")
    ] = None,
    unblurred: Annotated[
        bool, typer.Option("--unblurred", help="Pack clips as recorded, faces visible (needs --reason).")
    ] = False,
    reason: Annotated[str | None, typer.Option(help="Why the clips must show faces (kept in the custody).")] = None,
    data_dir: DataDirOpt = None,
    database: DatabaseOpt = None,
) -> None:
    """An evidence pack: clips, snapshots, the record as JSON, a PDF summary, SHA-256 manifest, chain of custody.

    Clips are packed with faces blurred (as everything people see); the copy is made on first export and kept."""
    if (incident is None) == (event is None):
        raise StorewatchError("give --incident or --event (one of them)")
    if unblurred and not (reason or "").strip():
        raise StorewatchError("--unblurred packs faces as recorded: give --reason (it is kept with the pack)")
    site = load_site_config(config) if config is not None else None
    protect = None
    if not unblurred and (site is None or site.privacy.enabled):
        from storewatch.privacy.clips import ClipProtector

        protect = ClipProtector(site).protected
    with open_store(data_dir, database) as db, fraction_progress() as bar:
        task = bar.add_task("Writing the pack", total=1.0)

        def progress(fraction: float, message: str) -> None:
            bar.update(task, completed=fraction, description=message)

        if incident is not None:
            from storewatch.incidents.export import export_incident
            from storewatch.store.incidents import IncidentRepository

            repo = IncidentRepository(db)
            incident_id = repo.resolve_id(incident)
            actor = actor_name(by) if not unblurred else f"{actor_name(by)} (unblurred: {reason})"
            path, n = export_incident(db, incident_id, out, actor, progress, protect)
            case = repo.get(incident_id)
            _audit(db, actor_name(by), "export", case.store if case else None, f"incident:{incident_id}",
                   file=path.name, evidence_files=n, unblurred_reason=reason if unblurred else None)  # fmt: skip
        else:
            assert event is not None
            path, n = _export_event(db, event, out, actor_name(by), protect, progress)
    blurred = "clips with faces blurred" if protect is not None else "clips as recorded"
    typer.echo(
        f"{path}: evidence pack with {n} evidence file(s), {blurred}; check it with `storewatch incidents verify`"
    )


def _export_event(
    db: Database, event_id: str, out: Path, actor: str, protect: ProtectClip | None, progress: Progress
) -> tuple[Path, int]:
    from storewatch.incidents.export import VIDEO_SUFFIXES
    from storewatch.incidents.pack import build_pack
    from storewatch.store import EventRepository

    found = EventRepository(db).get(event_id)
    if found is None:
        raise StorewatchError(f"no stored event has the id {event_id!r}")
    files = [Path(p) for p in found.evidence.values() if Path(p).is_file()]
    if protect is not None:
        files = [protect(f, progress) if f.suffix.lower() in VIDEO_SUFFIXES else f for f in files]
    _audit(db, actor, "export", found.store, f"event:{found.id}", file=out.name, evidence_files=len(files))
    record = {"id": f"event-{found.id}", "title": found.explanation, "store": found.store, "state": "open",
              "created_utc": found.start_utc.isoformat(), "events": [json.loads(found.model_dump_json())],
              "timeline": []}  # fmt: skip
    custody = [{"action": "created", "actor": "storewatch", "at_utc": found.start_utc.isoformat()}]
    return build_pack(out, record, files, custody, actor=actor), len(files)


@app.command("cases")
def cases(
    csv_out: Annotated[Path | None, typer.Option("--csv", help="Write the cases to this CSV file.")] = None,
    webhook: Annotated[str | None, typer.Option(help="Or POST them (JSON, signed) to this URL.")] = None,
    secret_env: Annotated[
        str, typer.Option(help="Environment variable holding the webhook's signing secret.")
    ] = "STOREWATCH_CASES_SECRET",
    store: Annotated[list[str] | None, typer.Option(help="Only these stores (repeat the option).")] = None,
    state: Annotated[list[str] | None, typer.Option(help=f"Only these states ({STATES}).")] = None,
    since: Annotated[datetime | None, typer.Option(help="Only incidents opened since (UTC).")] = None,
    data_dir: DataDirOpt = None,
    database: DatabaseOpt = None,
) -> None:
    """Export incidents to an external case system: CSV or a signed webhook, schema storewatch.case/1."""
    from storewatch.alerts.delivery import DeliveryError
    from storewatch.incidents.cases import case_row, cases_csv, push_cases
    from storewatch.store.events import EventRepository
    from storewatch.store.incidents import MAX_LIMIT, IncidentRepository

    if (csv_out is None) == (webhook is None):
        raise StorewatchError("give --csv FILE or --webhook URL (one of them)")
    secret = os.environ.get(secret_env, "") if webhook is not None else ""
    if webhook is not None and len(secret) < 16:
        raise StorewatchError(f"${secret_env} must hold the webhook's signing secret (16+ characters)")
    start = since.replace(tzinfo=UTC) if since is not None and since.tzinfo is None else since
    states = [_state(s) for s in state or []]
    with open_store(data_dir, database) as db:
        found = IncidentRepository(db).list(store=store or None, state=states or None, since=start, limit=MAX_LIMIT)
        events = EventRepository(db)
        rows = [case_row(i, [e for e in (events.get(x) for x in i.event_ids) if e is not None]) for i in found]
    if csv_out is not None:
        csv_out.parent.mkdir(parents=True, exist_ok=True)
        csv_out.write_text(cases_csv(rows), newline="")
        typer.echo(f"{csv_out}: {len(rows)} case(s), schema storewatch.case/1")
        return
    assert webhook is not None
    try:
        status = push_cases(webhook, rows, secret)
    except DeliveryError as exc:
        raise StorewatchError(f"cases not delivered to {webhook}: {exc}") from None
    typer.echo(f"{len(rows)} case(s) delivered to {webhook} (HTTP {status})")
