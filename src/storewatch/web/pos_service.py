"""The cashier exception dashboard's service: reports (``pos.report``) narrowed to the user's stores, the till video
of each exception, and one transaction with its findings.

Tenancy: a POS store belongs to the site store ``PosConfig.site_store`` names (``pos.report.site_stores``, else
its tills' cameras' store, else the same id); a user sees the POS stores of the site stores in their scope, and a
transaction of any other is "not found".

Video: an exception of a register mapped to a camera (``pos.tills``) carries the camera and a window around the
transaction. The video shown is the evidence of the camera's events that overlap the window (their snapshot, and
their clip as ``MediaLinks`` serves it: faces blurred while privacy is on, made on demand by the ``protect_clip``
form). Without such an event the page says no video was recorded then; continuous recordings are not served here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from storewatch.pos.config import PosConfig
from storewatch.pos.exceptions import ClipWindow, ExceptionCode, PosException, clip_for
from storewatch.pos.model import Transaction, transaction_key
from storewatch.pos.report import ExceptionReport, ExceptionReports, ReportError, ReportQuery
from storewatch.store.db import Database
from storewatch.store.events import EventRepository
from storewatch.store.pos_reports import PosReportRepository
from storewatch.web.directory import StoreDirectory
from storewatch.web.errors import InvalidError, NotFoundError
from storewatch.web.media import MediaLinks
from storewatch.web.schemas import Evidence
from storewatch.web.scope import StoreScope
from storewatch.web.services import stores_of

LOOK_BACK = timedelta(minutes=30)
"""How long before a window an event may have started and still overlap it (events end within this)."""


@dataclass(frozen=True)
class TillVideo:
    camera: str
    start_utc: datetime
    end_utc: datetime
    evidence: Evidence | None
    """Of the first event of the camera overlapping the window; None: no video recorded then."""
    event_id: str | None = None


@dataclass(frozen=True)
class TransactionView:
    transaction: Transaction
    site_store: str
    exceptions: list[PosException]
    video: TillVideo | None


class PosExceptionsService:
    def __init__(self, db: Database, config: PosConfig, directory: StoreDirectory, links: MediaLinks) -> None:
        self.reports = ExceptionReports(db, config)
        self.reads = PosReportRepository(db)
        self.events = EventRepository(db)
        self.config, self.directory, self.links = config, directory, links

    def site_stores(self, scope: StoreScope) -> list[str]:
        """The site stores with POS data the user may see (for the store filter)."""
        known = {self.config.site_store(p) for p in self.reads.pos_stores()}
        return sorted(scope.filter(known))

    def query(
        self,
        scope: StoreScope,
        store: str | None,
        first_day: date,
        last_day: date,
        operator: str | None = None,
        register: str | None = None,
        code: ExceptionCode | None = None,
        shift: str | None = None,
    ) -> ReportQuery:
        """The query for the user's stores (``store``: one site store of theirs); bad filters: ``InvalidError``."""
        site_stores = stores_of(scope, store)
        pos_stores = None if site_stores is None else tuple(self.reports.pos_stores_of(site_stores))
        try:
            return ReportQuery(first_day=first_day, last_day=last_day, stores=pos_stores, operator=operator,
                               register=register, code=code, shift=shift)  # fmt: skip
        except ValueError as exc:
            raise InvalidError(_first_error(exc), field="from") from exc

    def report(self, query: ReportQuery, details: int | None = None) -> ExceptionReport:
        try:
            return self.reports.report(query, details=details)
        except ReportError as exc:
            raise InvalidError(str(exc)) from exc

    def video(self, clip: ClipWindow | None) -> TillVideo | None:
        """The till's video of an exception's clip window (None: the register has no camera)."""
        if clip is None:
            return None
        events = self.events.list(camera=clip.camera, since=clip.start_utc - LOOK_BACK, until=clip.end_utc, limit=50)
        for event in sorted(events, key=lambda e: e.start_utc):
            end = event.end_utc or event.start_utc
            if end >= clip.start_utc and event.evidence:
                return TillVideo(clip.camera, clip.start_utc, clip.end_utc, self.links.evidence(event.evidence),
                                 event.id)  # fmt: skip
        return TillVideo(clip.camera, clip.start_utc, clip.end_utc, None)

    def transaction(
        self, scope: StoreScope, pos_store: str, register: str, business_day: date, sequence: int
    ) -> TransactionView:
        site_store = self.config.site_store(pos_store)
        key = transaction_key(pos_store, register, business_day, sequence)
        missing = NotFoundError(f"no transaction {key} among your stores")
        if not scope.allows(site_store):
            raise missing
        tx = self.reads.transactions([key]).get(key)
        if tx is None:
            raise missing
        exceptions = self.reads.exceptions_of(pos_store, register, business_day, sequence)
        clip = next((e.clip for e in exceptions if e.clip is not None), None)
        if clip is None:
            clip = self._clip_of(tx)
        return TransactionView(tx, site_store, exceptions, self.video(clip))

    def _clip_of(self, tx: Transaction) -> ClipWindow | None:
        return clip_for(tx, self.config.till(tx.store, tx.register), self.config.clip)


def _first_error(exc: ValueError) -> str:
    errors = getattr(exc, "errors", None)
    if callable(errors):
        first = errors()[0]
        return str(first["msg"]).removeprefix("Value error, ")
    return str(exc)
