"""Data subject requests (GDPR articles 15 and 17): find everything held about one person, from a reference.

A person is known to storewatch only as tracks: numbers a camera's tracker gave them while they were in view
(``store/camera/N``, named in ``events.track_ids``). A request starts from a reference — a track, an event or an
incident — and ``find`` widens it to the person's tracks and then to every event naming one of them:

- ``--track``: that track;
- ``--event``: the tracks the event names;
- ``--incident``: the tracks its events name (and its events, even one naming no track).

What is held about them: those events, their alerts, the incidents holding them, their evidence files (snapshot,
clip, the clip's faces-blurred copy, path picture), the lines of the events log (``events/<day>.jsonl``) and the
recorded track rows (``tracks/<store>/<camera>/<day>.csv``, the camera-days of their events). An event that also
names a track outside the request is *shared*: it is about someone else too, so it is reported but an erasure keeps
it (its track numbers alone no longer lead to anyone once the tracks are gone).

Not covered: finding a person by a picture of them (no appearance features are stored), copies in a media bucket
(``runtime.media.kind: s3``; retention purges them by age), continuous recordings and POS records (not linked to
tracks). The ``SubjectReport`` holds ids, paths, counts and bytes, never pictures or boxes: it is what the audit
log's ``subject_request`` row counts (``subject_actions`` exports and erases).

>>> Reference.parse(RefKind.TRACK, "s1/door/17").value
's1/door/17'
>>> Reference.parse(RefKind.TRACK, "17")  # doctest: +IGNORE_EXCEPTION_DETAIL
Traceback (most recent call last):
...
StorewatchError: '17' is not a track id: write it as store/camera/N (e.g. s1/door/17, as events name tracks)
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from pathlib import Path, PurePosixPath
from typing import Any

from storewatch.core.events import Event
from storewatch.errors import StorewatchError
from storewatch.privacy.clips import protected_path
from storewatch.retention.files import event_logs, track_files
from storewatch.store.db import Database
from storewatch.store.events import EventRepository
from storewatch.store.incidents import IncidentRepository
from storewatch.store.subjects import SubjectRepository, camera_of

TRACK_ID = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+/[0-9]+$")
KEY_PARTS = 4
"""An evidence file's key: ``<store>/<camera>/<day>/<file>``."""


class SubjectNotFoundError(StorewatchError):
    """The reference leads to nothing stored (an unknown track, event or incident, or one outside the requester's
    stores: not revealed to exist)."""


class RefKind(StrEnum):
    INCIDENT = "incident"
    TRACK = "track"
    EVENT = "event"


@dataclass(frozen=True, slots=True)
class Reference:
    kind: RefKind
    value: str

    @classmethod
    def parse(cls, kind: RefKind, text: str) -> Reference:
        value = text.strip()
        if kind is RefKind.TRACK and not TRACK_ID.match(value):
            raise StorewatchError(
                f"{text!r} is not a track id: write it as store/camera/N (e.g. s1/door/17, as events name tracks)"
            )
        if not value or len(value) > 128:
            raise StorewatchError(f"{text!r} is not {'an' if kind is RefKind.INCIDENT else 'a'} {kind.value} id")
        return cls(kind, value)

    def __str__(self) -> str:
        return f"{self.kind.value}:{self.value}"


@dataclass(frozen=True, slots=True)
class SubjectEvent:
    event: Event
    shared: bool
    """It names a track outside the request too (someone else is in it)."""
    alerts: tuple[str, ...]
    incidents: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class SubjectIncident:
    id: str
    store: str
    state: str
    legal_hold: bool


@dataclass(frozen=True, slots=True)
class HeldFile:
    path: Path
    kind: str
    """snapshot, clip, protected_clip, path (or another evidence key)."""
    event_id: str
    bytes: int


@dataclass(frozen=True, slots=True)
class TrackDay:
    """One camera-day of recorded tracks holding rows of the person's tracks."""

    path: Path
    camera: str
    day: date
    numbers: tuple[int, ...]
    """The track numbers (the file's ``track_id`` column) of the person on that camera."""
    rows: int
    bytes: int


@dataclass(slots=True)
class SubjectReport:
    reference: Reference
    track_ids: tuple[str, ...]
    events: list[SubjectEvent] = field(default_factory=list)
    incidents: list[SubjectIncident] = field(default_factory=list)
    files: list[HeldFile] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    """Evidence the events name that is no longer there (retention removed it)."""
    track_days: list[TrackDay] = field(default_factory=list)
    log_lines: dict[Path, int] = field(default_factory=dict)
    """Lines of the events log about the events, by day file."""

    @property
    def stores(self) -> list[str]:
        return sorted({e.event.store for e in self.events})

    @property
    def held(self) -> list[SubjectIncident]:
        return [i for i in self.incidents if i.legal_hold]

    def counts(self) -> dict[str, int]:
        """Counts only (what the audit log keeps)."""
        return {
            "tracks": len(self.track_ids),
            "events": len(self.events),
            "shared_events": sum(e.shared for e in self.events),
            "alerts": sum(len(e.alerts) for e in self.events),
            "incidents": len(self.incidents),
            "files": len(self.files),
            "file_bytes": sum(f.bytes for f in self.files),
            "track_rows": sum(d.rows for d in self.track_days),
            "track_days": len(self.track_days),
            "log_lines": sum(self.log_lines.values()),
        }

    def public(self) -> dict[str, Any]:
        """JSON-ready: the reference, the counts and the ids and files found."""
        return {
            "schema": "storewatch.subject-report/1",
            "reference": {"kind": self.reference.kind.value, "value": self.reference.value},
            "track_ids": list(self.track_ids),
            "stores": self.stores,
            "counts": self.counts(),
            "events": [
                {
                    "id": e.event.id,
                    "type": e.event.type,
                    "camera": str(e.event.camera),
                    "start_utc": e.event.start_utc.isoformat(),
                    "track_ids": list(e.event.track_ids),
                    "shared": e.shared,
                    "alerts": list(e.alerts),
                    "incidents": list(e.incidents),
                }
                for e in self.events
            ],
            "incidents": [
                {"id": i.id, "store": i.store, "state": i.state, "legal_hold": i.legal_hold} for i in self.incidents
            ],
            "files": [
                {"path": str(f.path), "kind": f.kind, "event_id": f.event_id, "bytes": f.bytes} for f in self.files
            ],
            "missing_files": list(self.missing),
            "track_days": [
                {
                    "path": str(d.path),
                    "camera": d.camera,
                    "day": d.day.isoformat(),
                    "track_numbers": list(d.numbers),
                    "rows": d.rows,
                    "bytes": d.bytes,
                }
                for d in self.track_days
            ],
            "log_lines": {str(p): n for p, n in self.log_lines.items()},
        }


class SubjectFinder:
    """``find(reference) -> SubjectReport``: what is held about the person ``reference`` leads to."""

    def __init__(self, database: Database, data_dir: Path, media_root: Path) -> None:
        self.db, self.data_dir, self.media_root = database, data_dir, media_root
        self.rows = SubjectRepository(database)

    def find(self, reference: Reference) -> SubjectReport:
        tracks, anchors = self._start(reference)
        events = {e.id: e for e in [*anchors, *(self.rows.events_naming(tracks) if tracks else [])]}
        ordered = sorted(events.values(), key=lambda e: (e.start_utc, e.id))
        alerts = self.rows.alerts_for(events)
        incidents = self.rows.incidents_for(events)
        report = SubjectReport(reference, tuple(sorted(tracks)))
        for e in ordered:
            shared = bool(set(e.track_ids) - tracks)
            report.events.append(SubjectEvent(e, shared, tuple(alerts.get(e.id, ())), tuple(incidents.get(e.id, ()))))
        repo = IncidentRepository(self.db)
        for incident_id in sorted({i for ids in incidents.values() for i in ids}):
            case = repo.get(incident_id)
            if case is not None:
                report.incidents.append(SubjectIncident(case.id, case.store, case.state.value, case.legal_hold))
        for e in ordered:
            self._files(e, report)
        report.track_days = list(self._track_days(tracks, ordered))
        report.log_lines = log_lines(self.data_dir, set(events), {e.start_utc.date() for e in ordered})
        return report

    def _start(self, reference: Reference) -> tuple[set[str], list[Event]]:
        """The person's tracks and the events the reference itself names."""
        if reference.kind is RefKind.TRACK:
            found = self.rows.events_naming({reference.value})
            if not found:
                raise SubjectNotFoundError(
                    f"no stored event names the track {reference.value!r}",
                    fix="track ids are store/camera/N as events list them (`storewatch incidents show ID`)",
                )
            return {reference.value}, found
        if reference.kind is RefKind.EVENT:
            event = EventRepository(self.db).get(reference.value)
            if event is None:
                raise SubjectNotFoundError(f"no stored event has the id {reference.value!r}")
            return set(event.track_ids), [event]
        repo = IncidentRepository(self.db)
        try:
            case = repo.get(repo.resolve_id(reference.value))
        except StorewatchError as exc:
            raise SubjectNotFoundError(exc.message, fix=exc.fix) from exc
        assert case is not None
        anchors = self.rows.events(case.event_ids)
        if not anchors:
            raise SubjectNotFoundError(f"incident {case.id} has no stored events: nothing about a person is held by it")
        return {t for e in anchors for t in e.track_ids}, anchors

    def _files(self, event: Event, report: SubjectReport) -> None:
        for kind, text in sorted(event.evidence.items()):
            path = self.local(text)
            if path is None:
                report.missing.append(text)
                continue
            report.files.append(HeldFile(path, kind, event.id, path.stat().st_size))
            copy = protected_path(path)
            if kind == "clip" and copy.is_file():
                report.files.append(HeldFile(copy, "protected_clip", event.id, copy.stat().st_size))

    def local(self, text: str) -> Path | None:
        """The evidence file an event names: its key under this media folder, else the path as stored (a data
        folder copied or moved acts on its own files, never on the ones it was copied from)."""
        parts = PurePosixPath(text.replace("\\", "/")).parts
        if len(parts) >= KEY_PARTS:
            under = self.media_root.joinpath(*parts[-KEY_PARTS:])
            if under.is_file():
                return under
        path = Path(text)
        return path if path.is_file() else None

    def _track_days(self, tracks: set[str], events: list[Event]) -> Iterator[TrackDay]:
        days: dict[tuple[str, date], set[int]] = {}
        for e in events:
            for track in set(e.track_ids) & tracks:
                for day in {e.start_utc.date(), (e.end_utc or e.start_utc).date()}:
                    days.setdefault((camera_of(track), day), set()).add(int(track.rsplit("/", 1)[1]))
        for found in track_files(self.data_dir / "tracks"):
            numbers = days.get((found.camera or "", found.day))
            if numbers:
                rows, size = 0, 0
                for line in track_lines(found.path, numbers):
                    rows, size = rows + 1, size + len(line.encode())
                if rows:
                    yield TrackDay(found.path, found.camera or "", found.day, tuple(sorted(numbers)), rows, size)


def track_lines(path: Path, numbers: set[int]) -> Iterator[str]:
    """The rows of a recorded tracks file (``frame,t_s,track_id,...``) whose track number is in ``numbers``."""
    wanted = {str(n) for n in numbers}
    with path.open(encoding="utf-8") as f:
        for line in f:
            cells = line.split(",", 3)
            if len(cells) > 3 and cells[0].isdigit() and cells[2] in wanted:
                yield line


def log_lines(data_dir: Path, event_ids: set[str], days: set[date]) -> dict[Path, int]:
    """How many lines of the events log (one per message of an event, in its start day's file) are about them."""
    out: dict[Path, int] = {}
    for found in event_logs(data_dir / "events"):
        if found.day in days:
            n = sum(1 for line in found.path.open(encoding="utf-8") if log_event_id(line) in event_ids)
            if n:
                out[found.path] = n
    return out


def log_event_id(line: str) -> str | None:
    try:
        value = json.loads(line)
    except json.JSONDecodeError:
        return None
    return value.get("id") if isinstance(value, dict) else None
