"""Purging by age: evidence media (local files and bucket objects), recorded tracks, event logs and database rows,
each kind after its own number of days, and one audit row saying what went.

What is kept whatever its age: everything about the events of an incident under legal hold or not closed yet
(open, acknowledged, investigating): their rows, alerts and deliveries, snapshots, clips and path pictures, their
camera-days of recorded tracks and their days of the events log. A closed incident without a hold keeps its own
record (timeline, chain of custody) but loses its events and evidence as they age out: place a hold to keep them.
Continuous recordings have their own limits (``cameras[].record.retention``, enforced by the runner) and are not
touched here.

``run(now, dry_run=...)`` returns a ``RetentionReport`` (per kind: items, bytes, kept); a dry run counts and
changes nothing, not even the audit log. A real run ends by purging the audit log itself and appending a
``retention_purge`` row with the counts, in one transaction, so the chain records where it now starts. A file that
cannot be deleted, or a bucket that cannot be reached, is counted as an error of its kind and the run goes on.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from storewatch.audit.chain import ActorKind, AuditAction, AuditRecord
from storewatch.errors import StorewatchError
from storewatch.media.store import MediaStore
from storewatch.retention.config import MEDIA_KINDS, DataKind, RetentionConfig
from storewatch.retention.files import (
    DayFile,
    MediaFile,
    classify,
    event_logs,
    local_media,
    remove_empty_days,
    track_files,
)
from storewatch.store.audit import AuditLog
from storewatch.store.db import Database
from storewatch.store.retention import KeptEvent, RetentionRepository, RowSet

log = logging.getLogger(__name__)

SYSTEM = "storewatch"
ROWS: dict[DataKind, tuple[RowSet, ...]] = {
    DataKind.SNAPSHOTS: (RowSet.HUB_THUMBNAILS,),
    DataKind.EVENTS: (RowSet.EVENTS,),
    DataKind.ALERTS: (RowSet.ALERTS, RowSet.DELIVERIES, RowSet.ACTION_LOG),
    DataKind.POS: (RowSet.POS_TRANSACTIONS, RowSet.POS_EXCEPTIONS, RowSet.POS_QUARANTINE),
}

Progress = Callable[[str, int, int | None], None]
"""``progress(step, done, total)``: told as a run goes (total None: not known in advance)."""


@dataclass(slots=True)
class KindResult:
    items: int = 0
    """Files, objects or rows removed (or, in a dry run, that would be)."""
    bytes: int = 0
    kept: int = 0
    """Expired items kept for an open or held incident."""
    errors: int = 0

    def public(self) -> dict[str, int]:
        return {"items": self.items, "bytes": self.bytes, "kept": self.kept, "errors": self.errors}


@dataclass(slots=True)
class RetentionReport:
    started: datetime
    dry_run: bool
    cutoffs: dict[DataKind, datetime | None]
    kinds: dict[DataKind, KindResult] = field(default_factory=lambda: {k: KindResult() for k in DataKind})
    audit_seq: int | None = None
    """The ``retention_purge`` row written (None for a dry run)."""

    @property
    def errors(self) -> int:
        return sum(r.errors for r in self.kinds.values())

    def public(self) -> dict[str, Any]:
        return {
            "dry_run": self.dry_run,
            "kinds": {k.value: r.public() for k, r in self.kinds.items()},
            "cutoffs": {k.value: (c.isoformat() if c else None) for k, c in self.cutoffs.items()},
        }


class RetentionService:
    def __init__(
        self,
        database: Database,
        config: RetentionConfig,
        data_dir: Path,
        media_root: Path,
        archive: MediaStore | None = None,
    ) -> None:
        """``media_root``: the local evidence folder; ``archive``: the bucket evidence is also uploaded to."""
        self.db, self.config, self.data_dir, self.media_root, self.archive = (
            database, config, data_dir, media_root, archive,
        )  # fmt: skip
        self.rows = RetentionRepository(database)
        self.audit = AuditLog(database)

    def run(self, now: datetime | None = None, *, dry_run: bool = False, progress: Progress | None = None
            ) -> RetentionReport:  # fmt: skip
        now = (now or datetime.now(UTC)).astimezone(UTC)
        cutoffs = {k: (now - timedelta(days=d) if (d := self.config.days(k)) is not None else None) for k in DataKind}
        report = RetentionReport(now, dry_run, cutoffs)
        tell = progress or (lambda _s, _d, _t: None)
        kept = self.rows.kept_events()
        kept_days: set[tuple[str | None, date]] = {(e.camera, e.start_utc.date()) for e in kept.values()}
        self._local_media(report, kept, dry_run, tell)
        if self.archive is not None:
            self._archived_media(report, kept, dry_run, tell)
        self._day_files(report, DataKind.TRACKS, track_files(self.data_dir / "tracks"), kept_days, dry_run, tell)
        log_days: set[tuple[str | None, date]] = {(None, day) for _, day in kept_days}
        self._day_files(report, DataKind.EVENTS, event_logs(self.data_dir / "events"), log_days, dry_run, tell)
        for kind, sets in ROWS.items():
            for rows in sets:
                self._rows(report, kind, rows, dry_run, tell)
        self._audit(report, dry_run, tell)
        return report

    # --- media ------------------------------------------------------------------------------------------------
    def _expired(self, found: MediaFile, report: RetentionReport, kept: dict[str, KeptEvent]) -> bool:
        cutoff = report.cutoffs[found.kind]
        if cutoff is None or found.day >= cutoff.date():
            return False
        if found.event_id in kept:
            report.kinds[found.kind].kept += 1
            return False
        return True

    def _local_media(self, report: RetentionReport, kept: dict[str, KeptEvent], dry_run: bool, tell: Progress) -> None:
        if all(report.cutoffs[k] is None for k in MEDIA_KINDS):
            return
        step, done = "media files", 0
        tell(step, 0, None)
        for found, path in local_media(self.media_root):
            if not self._expired(found, report, kept):
                continue
            result = report.kinds[found.kind]
            try:
                size = path.stat().st_size
                if not dry_run:
                    path.unlink()
            except OSError as exc:
                result.errors += 1
                log.error("retention: %s not deleted: %s", path, exc)
                continue
            result.items, result.bytes, done = result.items + 1, result.bytes + size, done + 1
            if done % 100 == 0:
                tell(step, done, None)
        tell(step, done, done)
        cutoffs = [c.date() for k in MEDIA_KINDS if (c := report.cutoffs[k]) is not None]
        if not dry_run and cutoffs:
            remove_empty_days(self.media_root, min(cutoffs))

    def _archived_media(self, report: RetentionReport, kept: dict[str, KeptEvent], dry_run: bool, tell: Progress
                        ) -> None:  # fmt: skip
        """The bucket's copies: the same keys, so the same rules. Counted apart from local files only by the
        report's log line (a kind's items include both copies)."""
        assert self.archive is not None
        step, done = "bucket objects", 0
        tell(step, 0, None)
        try:
            keys = list(self.archive.list(""))
        except StorewatchError as exc:
            log.error("retention: cannot list the media bucket: %s", exc)
            for kind in MEDIA_KINDS:
                report.kinds[kind].errors += 1
            return
        for key in keys:
            found = classify(key)
            if found is None or not self._expired(found, report, kept):
                continue
            result = report.kinds[found.kind]
            try:
                size = self.archive.size(key)
                if not dry_run:
                    self.archive.delete(key)
            except StorewatchError as exc:
                result.errors += 1
                log.error("retention: bucket object %s not deleted: %s", key, exc)
                continue
            result.items, result.bytes, done = result.items + 1, result.bytes + size, done + 1
            tell(step, done, None)
        tell(step, done, done)

    # --- files by day ----------------------------------------------------------------------------------------------
    def _day_files(
        self,
        report: RetentionReport,
        kind: DataKind,
        files: Iterable[DayFile],
        kept: set[tuple[str | None, date]],
        dry_run: bool,
        tell: Progress,
    ) -> None:
        cutoff = report.cutoffs[kind]
        if cutoff is None:
            return
        step, result = f"{kind.value} files", report.kinds[kind]
        tell(step, 0, None)
        for found in files:
            if found.day >= cutoff.date():
                continue
            if (found.camera, found.day) in kept:
                result.kept += 1
                continue
            try:
                size = found.path.stat().st_size
                if not dry_run:
                    found.path.unlink()
            except OSError as exc:
                result.errors += 1
                log.error("retention: %s not deleted: %s", found.path, exc)
                continue
            result.items, result.bytes = result.items + 1, result.bytes + size
            tell(step, result.items, None)

    # --- rows ----------------------------------------------------------------------------------------------------
    def _rows(self, report: RetentionReport, kind: DataKind, rows: RowSet, dry_run: bool, tell: Progress) -> None:
        cutoff = report.cutoffs[kind]
        if cutoff is None:
            return
        step, result, before = f"{kind.value}: {rows.value} rows", report.kinds[kind], report.kinds[kind].items

        def batch(n: int) -> None:
            result.items += n
            tell(step, result.items - before, None)

        tell(step, 0, None)
        counted = self.rows.purge(rows, cutoff, dry_run=dry_run, on_batch=None if dry_run else batch)
        if dry_run:
            result.items += counted
        tell(step, result.items - before, result.items - before)

    # --- the audit log, last -------------------------------------------------------------------------------------
    def _audit(self, report: RetentionReport, dry_run: bool, tell: Progress) -> None:
        tell("audit log", 0, None)
        cutoff = report.cutoffs[DataKind.AUDIT]
        record = AuditRecord(report.started, SYSTEM, ActorKind.SYSTEM, AuditAction.RETENTION_PURGE,
                             target="retention", detail=report.public())  # fmt: skip
        if cutoff is None:
            if not dry_run:
                report.audit_seq = self.audit.append(record).seq
            return
        if dry_run:
            report.kinds[DataKind.AUDIT].items, _ = self.audit.purge(cutoff, record, dry_run=True)
            return
        # The row carries the audit log's own count too: purge() adds it (rows, through_seq, through_hash).
        removed, entry = self.audit.purge(cutoff, record)
        report.kinds[DataKind.AUDIT].items = removed
        report.audit_seq = entry.seq if entry is not None else None
        tell("audit log", removed, removed)
