"""``storewatch access check|ingest|watch``: door access events (badge reads, door states) checked by the access
rules offline, ingested into the store, or taken from a drop folder."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from storewatch.cli.database import DatabaseOpt, DataDirOpt, open_store
from storewatch.cli.dropfolder import FolderArg, IntervalOpt, OnceOpt, SettleOpt, watch_folder

if TYPE_CHECKING:
    from storewatch.access.rules import AccessException, AccessRules
    from storewatch.access.service import DoorTracks
    from storewatch.pos.records import Quarantined

app = typer.Typer(help="Door access: badge and door events, tailgating and other exceptions.", no_args_is_help=True)

FilesArg = Annotated[list[Path], typer.Argument(help="JSON, JSON Lines or CSV files of access events.")]
SiteOpt = Annotated[
    Path | None,
    typer.Option("--config", help="The site file: access section (doors), store schedules, cameras' lines/zones."),
]
TracksOpt = Annotated[
    Path | None, typer.Option("--tracks", help="Recorded tracks folder (<store>/<camera>/<date>.csv) for the doors.")
]
TimezoneOpt = Annotated[str, typer.Option("--timezone", help="IANA zone of times written without an offset.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="One JSON object per exception.")]


def _rules(config: Path | None, tracks: Path | None) -> tuple[AccessRules, DoorTracks | None]:
    from storewatch.access.config import AccessConfig
    from storewatch.access.rules import AccessRules, schedule_check
    from storewatch.access.service import site_door_tracks, site_rules

    if config is None:
        return AccessRules(AccessConfig(), schedule_check({})), None
    from storewatch.config.loader import load_site_config

    site = load_site_config(config)
    return site_rules(site), site_door_tracks(site, tracks) if tracks else None


def _print(found: list[AccessException], bad: list[Quarantined], as_json: bool) -> None:
    for e in found:
        if as_json:
            print(e.model_dump_json())
        else:
            print(f"{e.at_utc.isoformat()} {e.store}/{e.door} {e.code.value}: {e.explanation}")
    for q in bad:
        typer.secho(f"quarantined: {q}", err=True, fg=typer.colors.YELLOW)


@app.command("check")
def check(
    files: FilesArg,
    config: SiteOpt = None,
    tracks: TracksOpt = None,
    timezone: TimezoneOpt = "UTC",
    as_json: JsonOpt = False,
) -> None:
    """Parse the files and print the exceptions the access rules raise (no database). Records that cannot be read
    are listed on stderr and make the exit status 1."""
    from zoneinfo import ZoneInfo

    from storewatch.access.events import parse_access
    from storewatch.access.service import check as run_rules
    from storewatch.access.service import split

    rules, door_tracks = _rules(config, tracks)
    events, bad = split(r for f in files for r in parse_access(f, default_tz=ZoneInfo(timezone)))
    _print(run_rules(events, rules, door_tracks), bad, as_json)
    print(f"{len(events)} events, {len(bad)} quarantined", file=sys.stderr)
    if bad:
        raise typer.Exit(1)


@app.command("ingest")
def ingest(
    files: FilesArg,
    data_dir: DataDirOpt = None,
    database: DatabaseOpt = None,
    config: SiteOpt = None,
    tracks: TracksOpt = None,
    timezone: TimezoneOpt = "UTC",
    as_json: JsonOpt = False,
) -> None:
    """Store the events (a re-sent event is stored once), run the rules over the new ones and store the
    exceptions; unreadable records go to the quarantine table and make the exit status 1."""
    from zoneinfo import ZoneInfo

    from storewatch.access.events import parse_access
    from storewatch.access.service import AccessIngestService
    from storewatch.store.access import AccessRepository

    rules, door_tracks = _rules(config, tracks)
    bad = 0
    with open_store(data_dir, database) as db:
        service = AccessIngestService(AccessRepository(db), rules, door_tracks)
        for path in files:
            report = service.ingest(parse_access(path, default_tz=ZoneInfo(timezone)), str(path))
            if as_json:
                body = report.to_dict()
                print(json.dumps(body | {"quarantined": len(report.quarantined), "exceptions": len(report.exceptions)}))
            else:
                print(f"{path}: {report.accepted} events ({report.new} new), {len(report.quarantined)} quarantined, "
                      f"{len(report.exceptions)} exceptions")  # fmt: skip
            _print([] if as_json else report.exceptions, report.quarantined, as_json)
            bad += len(report.quarantined)
    if bad:
        raise typer.Exit(1)


@app.command("watch")
def watch(
    folder: FolderArg,
    data_dir: DataDirOpt = None,
    database: DatabaseOpt = None,
    config: SiteOpt = None,
    tracks: TracksOpt = None,
    timezone: TimezoneOpt = "UTC",
    interval_s: IntervalOpt = 2.0,
    settle_s: SettleOpt = 2.0,
    once: OnceOpt = False,
) -> None:
    """Ingest each new event file of a folder, then move it to done/ or (with an .errors.json report)
    quarantine/. (`storewatch run` watches the site's access.sources.drop_folders itself.)"""
    from zoneinfo import ZoneInfo

    from storewatch.access.service import AccessIngestService
    from storewatch.store.access import AccessRepository

    rules, door_tracks = _rules(config, tracks)
    with open_store(data_dir, database) as db:
        service = AccessIngestService(AccessRepository(db), rules, door_tracks, ZoneInfo(timezone))
        watch_folder(folder, service.ingest_file, "access-drop-folder", interval_s, settle_s, once)
