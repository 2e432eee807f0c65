"""Handling a data subject request: report it, export it for a third party, or erase it; each one audited.

``SubjectRequests(db, data_dir, media_root)`` has one verb per kind of request, each recording one
``subject_request`` row in the audit log (kind, the reference, counts; never the person's data):

- ``find(reference, actor)``: the ``SubjectReport`` (``privacy.subjects``).
- ``export(reference, out, actor, protect_clip)``: an evidence pack (``incidents.pack.build_pack``: SHA-256
  manifest, ``storewatch incidents verify`` checks it) with the snapshots and path pictures (faces blurred when
  they were made), every clip only as its faces-blurred copy (``protect_clip``, ``privacy.clips.ClipProtector``;
  the original is never packed), the report as ``evidence/subject-report.json`` (and the pack's
  ``incident.json``) and the person's track rows as ``evidence/subject-tracks.csv``. The incidents involved note
  the export in their chain of custody.
- ``erase(report, actor, reason)``: removes the evidence files (and blurred copies) of the events only about the
  person, those events with their alerts, deliveries and deterrent-action rows (``RetentionRepository
  .remove_events``), their lines of the events log, and every recorded track row of the person (each day file
  rewritten without them, atomically). Refused (and the refusal audited) while an incident holding any of the
  events is under legal hold. Shared events (someone else is in them too) and the incidents' own records stay.
  A file recorded by a running ``storewatch run`` at the same moment may gain rows between the read and the
  rewrite: erase closed days, or erase again after the day ends.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

from storewatch.audit.chain import ActorKind, AuditAction
from storewatch.errors import StorewatchError
from storewatch.incidents.pack import build_pack
from storewatch.io.tracks import CSV_HEADER
from storewatch.privacy.subjects import (
    HeldFile,
    Reference,
    RefKind,
    SubjectFinder,
    SubjectNotFoundError,
    SubjectReport,
    log_event_id,
    track_lines,
)
from storewatch.store.audit import AuditLog
from storewatch.store.db import Database
from storewatch.store.incidents import IncidentRepository
from storewatch.store.models import CustodyAction
from storewatch.store.retention import RetentionRepository
from storewatch.sync.erasure import forward_erasure

Progress = Callable[[float, str], None]
ProtectClip = Callable[[Path, Progress | None], Path]
PICTURE_KINDS = ("snapshot", "path")


@dataclass(slots=True)
class Erasure:
    """What an erasure removed."""

    files: int = 0
    file_bytes: int = 0
    rows: dict[str, int] = field(default_factory=dict)
    track_rows: int = 0
    log_lines: int = 0
    kept_shared_events: int = 0
    hub_messages: int = 0
    """Erasure messages queued for the hub (0 when this store does not sync with one)."""
    errors: list[str] = field(default_factory=list)

    def public(self) -> dict[str, Any]:
        return {
            "files": self.files,
            "file_bytes": self.file_bytes,
            "rows": dict(self.rows),
            "track_rows": self.track_rows,
            "log_lines": self.log_lines,
            "kept_shared_events": self.kept_shared_events,
            "hub_messages": self.hub_messages,
            "errors": len(self.errors),
        }


class LegalHoldError(StorewatchError):
    """An erasure refused: an incident holding the person's events is under legal hold."""


class SubjectRequests:
    """The requests of one requester kind: ``actor_kind`` and ``via`` go into every audit row (the CLI: ``cli``;
    the dashboard: ``user`` via ``dashboard``); ``allows(store)`` limits them to the requester's stores (a report
    reaching any other store is refused as not found, before anything is recorded or touched)."""

    def __init__(
        self,
        database: Database,
        data_dir: Path,
        media_root: Path,
        actor_kind: ActorKind = ActorKind.CLI,
        *,
        via: str | None = None,
        allows: Callable[[str], bool] | None = None,
    ) -> None:
        self.db, self.actor_kind, self.via, self.allows = database, actor_kind, via, allows
        self.finder = SubjectFinder(database, data_dir, media_root)
        self.audit = AuditLog(database)

    def report(self, reference: Reference) -> SubjectReport:
        """What is held about the person (not recorded: ``find`` records it); ``SubjectNotFoundError`` when the
        reference leads nowhere or to a store the requester may not see."""
        if reference.kind is RefKind.TRACK and not self._allowed(reference.value.split("/", 1)[0]):
            raise SubjectNotFoundError(f"no stored event names the track {reference.value!r}")
        report = self.finder.find(reference)
        stores = {*report.stores, *(i.store for i in report.incidents)}
        if not all(self._allowed(s) for s in stores):
            raise SubjectNotFoundError(f"nothing held about {reference} among your stores")
        return report

    def _allowed(self, store: str) -> bool:
        return self.allows is None or self.allows(store)

    def _record(self, actor: str, kind: str, report: SubjectReport, **detail: Any) -> None:
        stores = report.stores
        self.audit.record(
            actor,
            self.actor_kind,
            AuditAction.SUBJECT_REQUEST,
            store=stores[0] if len(stores) == 1 else None,
            target=str(report.reference),
            detail={
                "kind": kind,
                "reference": str(report.reference),
                "stores": stores,
                "counts": report.counts(),
                **({"via": self.via} if self.via else {}),
                **detail,
            },
        )

    # --- access -------------------------------------------------------------------------------------------------
    def find(self, reference: Reference, actor: str) -> SubjectReport:
        report = self.report(reference)
        self._record(actor, "find", report)
        return report

    def export(
        self, reference: Reference, out: Path, actor: str, protect_clip: ProtectClip, progress: Progress | None = None
    ) -> tuple[SubjectReport, int]:
        """Write the pack (see the module doc); returns the report and how many files the pack's evidence holds."""
        say = progress or (lambda fraction, message: None)
        report = self.report(reference)
        files = [f.path for f in report.files if f.kind in PICTURE_KINDS]
        clips = [f for f in report.files if f.kind == "clip"]
        for i, clip in enumerate(clips):

            def step(fraction: float, message: str, i: int = i) -> None:
                say(0.8 * (i + fraction) / len(clips), f"Clip {i + 1} of {len(clips)}: {message}")

            files.append(protect_clip(clip.path, step))
        now = datetime.now(UTC)
        with tempfile.TemporaryDirectory(prefix="storewatch-subject-") as tmp:
            extra = [Path(tmp) / "subject-report.json", Path(tmp) / "subject-tracks.csv"]
            extra[0].write_text(json.dumps(report.public(), indent=2, sort_keys=True))
            extra[1].write_text(tracks_csv(report), encoding="utf-8")
            record = {
                "schema": "storewatch.subject-export/1",
                "id": f"subject request {report.reference}",
                "title": f"Data subject access request ({report.reference})",
                "store": ", ".join(report.stores),
                "state": "exported",
                "created_utc": now.isoformat(),
                "events": [json.loads(e.event.model_dump_json()) for e in report.events],
                "timeline": [],
                "report": report.public(),
            }

            def rest(fraction: float, message: str) -> None:
                say(0.8 + 0.2 * fraction if clips else fraction, message)

            build_pack(out, record, [*files, *extra], [], actor=actor, now=now, progress=rest)
        repo = IncidentRepository(self.db)
        for incident in report.incidents:
            repo.record_custody(
                incident.id, actor, CustodyAction.EXPORTED, {"file": out.name, "subject_request": str(report.reference)}
            )
        self._record(actor, "export", report, file=out.name, packed_files=len(files) + len(extra))
        return report, len(files) + len(extra)

    # --- erasure ------------------------------------------------------------------------------------------------
    def erase(self, report: SubjectReport, actor: str, reason: str) -> Erasure:
        """Erase what ``report`` found (see the module doc); ``StorewatchError`` when a legal hold forbids it."""
        if not reason.strip():
            raise StorewatchError("an erasure needs a reason (--reason): it is kept in the audit log")
        if report.held:
            ids = ", ".join(i.id for i in report.held)
            self._record(
                actor, "erase", report, reason=reason.strip(), refused="legal_hold", held=[i.id for i in report.held]
            )
            raise LegalHoldError(
                f"incident(s) {ids} holding this person's events are under legal hold: nothing was erased",
                fix="a hold keeps evidence on purpose; release it (`storewatch incidents hold ID --release`) only "
                "when the erasure lawfully overrides it",
            )
        done = Erasure()
        sole = {e.event.id for e in report.events if not e.shared}
        done.kept_shared_events = len(report.events) - len(sole)
        for held in report.files:
            if held.event_id in sole:
                _unlink(held, done)
        for day in report.track_days:
            done.track_rows += _rewrite(day.path, partial(_is_track_row, numbers=set(day.numbers)), done)
        for path in report.log_lines:
            done.log_lines += _rewrite(path, lambda line: log_event_id(line) in sole, done)
        done.rows = {k.value: v for k, v in RetentionRepository(self.db).remove_events(sorted(sole)).items()}
        by_store: dict[str, list[str]] = {}
        for e in report.events:
            if e.event.id in sole:
                by_store.setdefault(e.event.store, []).append(e.event.id)
        done.hub_messages = forward_erasure(self.db, by_store, str(report.reference))
        self._record(actor, "erase", report, reason=reason.strip(), erased=done.public())
        return done


def tracks_csv(report: SubjectReport) -> str:
    """The person's recorded track rows, with the camera and day of each (``camera,day,`` + the file's columns)."""
    lines = [f"camera,day,{CSV_HEADER}\n"]
    for day in report.track_days:
        lines += [
            f"{day.camera},{day.day.isoformat()},{line.rstrip()}\n" for line in track_lines(day.path, set(day.numbers))
        ]
    return "".join(lines)


def _is_track_row(line: str, numbers: set[int]) -> bool:
    cells = line.split(",", 3)
    return len(cells) > 3 and cells[0].isdigit() and cells[2].isdigit() and int(cells[2]) in numbers


def _unlink(held: HeldFile, done: Erasure) -> None:
    try:
        held.path.unlink()
    except FileNotFoundError:
        return
    except OSError as exc:
        done.errors.append(f"{held.path}: {exc}")
        return
    done.files, done.file_bytes = done.files + 1, done.file_bytes + held.bytes


def _rewrite(path: Path, drop: Callable[[str], bool], done: Erasure) -> int:
    """Rewrite ``path`` without the lines ``drop`` picks (a temporary file renamed over it); returns how many."""
    try:
        with path.open(encoding="utf-8") as f:
            lines = f.readlines()
        kept = [line for line in lines if not drop(line)]
        if len(kept) == len(lines):
            return 0
        tmp = path.with_name(path.name + ".erasing")
        tmp.write_text("".join(kept), encoding="utf-8")
        os.replace(tmp, path)
    except OSError as exc:
        done.errors.append(f"{path}: {exc}")
        return 0
    return len(lines) - len(kept)
