"""``storewatch privacy subject find|export|erase``: a data subject's access or erasure request, from an incident,
a track (``store/camera/N``) or an event; each request is a ``subject_request`` row of the audit log
(``privacy.subject_actions``, as the dashboard's Subject requests page). Finding someone from a picture of them is
not possible: no appearance features are stored."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from storewatch.cli.database import DatabaseOpt, DataDirOpt, open_store
from storewatch.cli.options import ByOpt, actor_name
from storewatch.errors import StorewatchError

if TYPE_CHECKING:
    from storewatch.privacy.subject_actions import SubjectRequests
    from storewatch.privacy.subjects import Reference, SubjectReport
    from storewatch.store import Database

app = typer.Typer(help="Privacy: data subject requests (access, export, erasure).", no_args_is_help=True)
subject = typer.Typer(
    help="A data subject's request: find, export (faces blurred) or erase what is held.", no_args_is_help=True
)
app.add_typer(subject, name="subject")

IncidentOpt = Annotated[str | None, typer.Option("--incident", help="Incident id (or its first 6+ characters).")]
TrackOpt = Annotated[str | None, typer.Option("--track", help="Track id as events name it: store/camera/N.")]
EventOpt = Annotated[str | None, typer.Option("--event", help="Event id.")]
ConfigOpt = Annotated[
    Path | None, typer.Option("--config", help="Site YAML: its data folder, media folder and privacy settings.")
]


def _reference(incident: str | None, track: str | None, event: str | None) -> Reference:
    from storewatch.privacy.subjects import Reference, RefKind

    given = [
        (k, v)
        for k, v in ((RefKind.INCIDENT, incident), (RefKind.TRACK, track), (RefKind.EVENT, event))
        if v is not None
    ]
    if len(given) != 1:
        raise StorewatchError("give one of --incident ID, --track STORE/CAMERA/N or --event ID")
    return Reference.parse(*given[0])


class _Context:
    """The site file, data folder and media folder a command works on."""

    def __init__(self, config: Path | None, data_dir: Path | None) -> None:
        from storewatch.cli.database import DEFAULT_DATA_DIR
        from storewatch.cli.retention_cmd import media_root
        from storewatch.config.loader import load_site_config

        self.site = load_site_config(config) if config is not None else None
        self.folder = data_dir or (Path(self.site.runtime.data_dir) if self.site is not None else DEFAULT_DATA_DIR)
        self.media = media_root(self.site, self.folder)

    def requests(self, db: Database) -> SubjectRequests:
        from storewatch.privacy.subject_actions import SubjectRequests

        return SubjectRequests(db, self.folder, self.media)


@subject.command("find")
def find(
    incident: IncidentOpt = None,
    track: TrackOpt = None,
    event: EventOpt = None,
    by: ByOpt = "",
    config: ConfigOpt = None,
    data_dir: DataDirOpt = None,
    database: DatabaseOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Everything held about the person: events, alerts, incidents, evidence files, track rows (counts and bytes)."""
    reference = _reference(incident, track, event)
    where = _Context(config, data_dir)
    with open_store(where.folder if database is None else None, database) as db:
        report = where.requests(db).find(reference, actor_name(by))
    if as_json:
        typer.echo(json.dumps(report.public(), indent=2))
    else:
        _print(report)


@subject.command("export")
def export(
    out: Annotated[Path, typer.Option("--out", help="The pack to write (.zip).")],
    incident: IncidentOpt = None,
    track: TrackOpt = None,
    event: EventOpt = None,
    by: ByOpt = "",
    config: ConfigOpt = None,
    data_dir: DataDirOpt = None,
    database: DatabaseOpt = None,
) -> None:
    """A pack for a third party: blurred snapshots and path pictures, clips only as faces-blurred copies, the
    report as JSON, the track rows as CSV, every file with its SHA-256 (`storewatch incidents verify` checks it)."""
    from storewatch.privacy.clips import ClipProtector
    from storewatch.progress import fraction_progress

    reference = _reference(incident, track, event)
    where = _Context(config, data_dir)
    protect = ClipProtector(where.site).protected
    with open_store(where.folder if database is None else None, database) as db, fraction_progress() as bar:
        task = bar.add_task("Writing the pack", total=1.0)

        def progress(fraction: float, message: str) -> None:
            bar.update(task, completed=fraction, description=message)

        report, n = where.requests(db).export(reference, out, actor_name(by), protect, progress)
    counts = report.counts()
    typer.echo(
        f"{out}: {n} file(s) for {reference} ({counts['events']} event(s), {counts['track_rows']} track "
        "row(s)), clips with faces blurred; check it with `storewatch incidents verify`"
    )


@subject.command("erase")
def erase(
    reason: Annotated[str, typer.Option("--reason", help="Why (the request; kept in the audit log).")],
    incident: IncidentOpt = None,
    track: TrackOpt = None,
    event: EventOpt = None,
    by: ByOpt = "",
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask before erasing.")] = False,
    config: ConfigOpt = None,
    data_dir: DataDirOpt = None,
    database: DatabaseOpt = None,
) -> None:
    """Erase the person's evidence files, track rows, and the events and alerts only about them. Refused while an
    incident holding them is under legal hold; without --yes, shows what would go and asks."""
    reference = _reference(incident, track, event)
    if not reason.strip():
        raise StorewatchError("--reason must say why (the request it answers)")
    where = _Context(config, data_dir)
    with open_store(where.folder if database is None else None, database) as db:
        requests = where.requests(db)
        report = requests.report(reference)
        if report.held:
            requests.erase(report, actor_name(by), reason)  # raises: names the held incidents
        if not yes:
            _print(report)
            sole = sum(not e.shared for e in report.events)
            typer.confirm(
                f"Erase {sole} event(s), their alerts and files, and {report.counts()['track_rows']} "
                f"track row(s) of {reference}?",
                abort=True,
            )
        done = requests.erase(report, actor_name(by), reason)
    typer.echo(
        f"erased for {reference}: {done.files} file(s) ({done.file_bytes} bytes), "
        f"{done.rows.get('events', 0)} event(s), {done.rows.get('alerts', 0)} alert(s), {done.track_rows} "
        f"track row(s), {done.log_lines} events-log line(s); {done.kept_shared_events} shared event(s) kept"
    )
    if done.hub_messages:
        typer.echo("the hub's copies: an erasure is queued for it (sent with the store's other messages)")
    for problem in done.errors:
        typer.echo(f"not erased: {problem}", err=True)
    if done.errors:
        raise typer.Exit(1)


def _print(report: SubjectReport) -> None:
    console = Console(highlight=False)

    def out(text: str) -> None:
        console.print(text, markup=False)

    counts = report.counts()
    out(f"held about {report.reference} (tracks {', '.join(report.track_ids) or '-'}):")
    out("  " + ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in counts.items()))
    for e in report.events:
        flag = "  (shared: someone else is in it, kept on erasure)" if e.shared else ""
        out(f"  event {e.event.id}  {e.event.start_utc:%Y-%m-%d %H:%M:%S}  {e.event.camera}  {e.event.type}{flag}")
        out(f"      alerts: {', '.join(e.alerts) or '-'}  incidents: {', '.join(e.incidents) or '-'}")
    for i in report.incidents:
        out(f"  incident {i.id}  {i.store}  {i.state}" + ("  LEGAL HOLD" if i.legal_hold else ""))
    for f in report.files:
        out(f"  file {f.kind:<15} {f.bytes:>10} B  {f.path}")
    for d in report.track_days:
        out(f"  tracks {d.camera} {d.day}: {d.rows} row(s) ({d.bytes} B) in {d.path}")
    for m in report.missing:
        out(f"  missing (removed already): {m}")
