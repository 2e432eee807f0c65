"""POS ingest as a service: results of any parser (a file, an HTTP body, a message from MQTT or NATS) go in
batches through the exception rules into the store. Transports stay thin: they hand ``ingest`` the parse results
and a source name, and report the ``IngestReport`` back.

Per batch: quarantined records are kept (nothing is dropped); transactions are saved idempotently; the rules run
on the transactions that were new or changed (a re-sent file raises nothing twice), with the video-joined rules
for registers mapped to a camera when track recordings are at hand; then the period rules (each cashier against
the store's other cashiers) are re-evaluated for every store and business day the batch touched.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from storewatch.behaviour.geometry import ZoneGeometry
from storewatch.pos.config import PosConfig
from storewatch.pos.exceptions import PosException
from storewatch.pos.formats import parse_file
from storewatch.pos.model import Transaction
from storewatch.pos.peers import excessive_refunds, excessive_voids
from storewatch.pos.prepare import Prepared, cycle_gc_paused, prepare_file
from storewatch.pos.records import ParseResult, Quarantined
from storewatch.pos.rules import TransactionRules
from storewatch.pos.tills import TillView, load_till_view
from storewatch.pos.video import VideoRules
from storewatch.store.db import Database
from storewatch.store.pos import PosRepository

if TYPE_CHECKING:
    from storewatch.config.schema import Zone

BATCH = 2000
"""Transactions per database write."""

Progress = Callable[[int, int], None]
"""Told (files done, transactions done) as ingest goes on."""


@dataclass
class IngestReport:
    source: str
    accepted: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    exceptions: int = 0
    quarantined: list[Quarantined] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "accepted": self.accepted,
            "inserted": self.inserted,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "exceptions": self.exceptions,
            "quarantined": [q.to_dict() for q in self.quarantined],
        }


@dataclass(frozen=True)
class TrackSource:
    """Where the till cameras' track recordings are and each camera's zones (site ``Zone`` or pixel geometry)."""

    root: Path
    zones: Mapping[str, Sequence[ZoneGeometry | Zone]]


class PosIngestService:
    def __init__(self, db: Database, config: PosConfig, tracks: TrackSource | None = None) -> None:
        self.repo = PosRepository(db)
        self.config = config
        self.tz = ZoneInfo(config.timezone)
        self.rules = TransactionRules(config)
        self.video = VideoRules(config)
        self.tracks = tracks

    def ingest_file(self, path: Path) -> IngestReport:
        return self.ingest(parse_file(path, self.tz), str(path))

    def ingest_files(
        self, paths: Sequence[Path], workers: int = 1, progress: Progress | None = None
    ) -> list[IngestReport]:
        """Ingest several files; with ``workers`` > 1 they are parsed and checked in that many processes while
        this one writes (the video rules need this process: with track recordings, files go one by one).
        ``progress(files_done, transactions_done)`` is called as each file is stored."""
        reports: list[IngestReport] = []

        def done(report: IngestReport) -> None:
            reports.append(report)
            if progress is not None:
                progress(len(reports), sum(r.accepted for r in reports))

        if workers <= 1 or len(paths) < 2 or self.tracks is not None:
            for p in paths:
                done(self.ingest_file(p))
            return reports
        days: set[tuple[str, date]] = set()
        context = multiprocessing.get_context("spawn")  # no fork of this process's database connections
        with ProcessPoolExecutor(workers, mp_context=context) as pool, cycle_gc_paused():
            config = self.config.model_dump_json()
            for prepared in pool.map(prepare_file, [str(p) for p in paths], [config] * len(paths)):
                done(self._save_prepared(prepared, days))
        extra = self._period_rules(days)
        if reports:
            reports[-1].exceptions += extra
        return reports

    def _save_prepared(self, prepared: Prepared, days: set[tuple[str, date]]) -> IngestReport:
        report = IngestReport(prepared.source, quarantined=prepared.quarantined)
        counts, changed = self.repo.save_rows(prepared.rows)
        report.accepted = len(prepared.rows)
        report.inserted, report.updated, report.unchanged = counts.inserted, counts.updated, counts.unchanged
        found = [e for e in prepared.exceptions if e.transaction_key in changed]
        if found:
            self.repo.save_exceptions(found)
        report.exceptions = len(found)
        self.repo.save_quarantine(prepared.quarantined)
        days.update((r["store"], r["business_day"]) for r in prepared.rows if r["id"] in changed)
        return report

    def ingest(self, results: Iterable[ParseResult], source: str) -> IngestReport:
        report = IngestReport(source)
        batch: list[Transaction] = []
        days: set[tuple[str, date]] = set()
        with cycle_gc_paused():
            for result in results:
                if isinstance(result, Quarantined):
                    report.quarantined.append(result)
                    continue
                batch.append(result)
                if len(batch) >= BATCH:
                    self._save(batch, report, days)
                    batch = []
            if batch:
                self._save(batch, report, days)
        self.repo.save_quarantine(report.quarantined)
        report.exceptions += self._period_rules(days)
        return report

    def _save(self, batch: list[Transaction], report: IngestReport, days: set[tuple[str, date]]) -> None:
        counts, changed = self.repo.save_transactions(batch)
        report.accepted += len(batch)
        report.inserted += counts.inserted
        report.updated += counts.updated
        report.unchanged += counts.unchanged
        found = [e for tx in changed for e in self.rules.check(tx)]
        found += self._video_rules(changed)
        if found:
            self.repo.save_exceptions(found)
        report.exceptions += len(found)
        days.update((tx.store, tx.day) for tx in changed)

    def _video_rules(self, transactions: list[Transaction]) -> list[PosException]:
        if self.tracks is None or not self.config.tills:
            return []
        groups: dict[tuple[str, date], list[Transaction]] = {}
        for tx in transactions:
            till = self.config.till(tx.store, tx.register)
            if till is not None and till.camera in self.tracks.zones:
                groups.setdefault((till.camera, tx.end_utc.date()), []).append(tx)
        found: list[PosException] = []
        for (camera, _), txs in groups.items():
            windows = [self.video.window(tx) for tx in txs]
            view: TillView = load_till_view(
                self.tracks.root,
                camera,
                self.tracks.zones[camera],
                min(a for a, _ in windows),
                max(b for _, b in windows),
            )
            found += [e for tx in txs for e in self.video.check(tx, view)]
        return found

    def _period_rules(self, days: set[tuple[str, date]]) -> int:
        found: list[PosException] = []
        rules = self.config.rules
        for store, day in sorted(days):
            activity = self.repo.operator_activity(store, day)
            start = datetime.combine(day, time(0), self.tz)
            end = start + timedelta(days=1)
            found += excessive_voids(activity, rules.excessive_voids, start, end)
            found += excessive_refunds(activity, rules.excessive_refunds, start, end)
        if found:
            self.repo.save_exceptions(found)
        return len(found)
