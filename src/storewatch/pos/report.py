"""The cashier exception report: the POS exceptions of some stores over a period of business days, filtered by
cashier, register, shift and code, with the aggregates a loss-prevention manager reads first: per cashier (counts
per code, and their void and refund rates against their peers), per register and per shift. The dashboard
(``/pos/exceptions``), the CSV and PDF exports and ``storewatch pos report`` all show one ``ExceptionReport``.

Peer statistics are the ``excessive_voids`` / ``excessive_refunds`` rules' own (``peers.peer_stats``): a cashier's
void lines (refund transactions) per completed retail transaction over the whole period, against the median and
MAD of the store's other cashiers with at least the rules' ``min_transactions``; robust z-score and ratio to the
median. The rules judge one business day at a time; the report shows the same statistics over the chosen period,
and the days a cashier was raised are the ``excessive_*`` findings in its counts. Shifts: ``pos.shifts``.

>>> q = ReportQuery(first_day=date(2026, 3, 2), last_day=date(2026, 3, 1))
Traceback (most recent call last):
...
pydantic_core._pydantic_core.ValidationError: 1 validation error for ReportQuery
  Value error, the period ends (2026-03-01) before it starts (2026-03-02) [type=value_error, ...]
...
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, model_validator

from storewatch.pos.config import PosConfig
from storewatch.pos.exceptions import ExceptionCode, PosException, money
from storewatch.pos.model import PosId, Transaction, TransactionStatus
from storewatch.pos.peers import PeerStats, peer_stats, rated
from storewatch.pos.shifts import Shift, ShiftBook
from storewatch.store.db import Database
from storewatch.store.pos import PosRepository
from storewatch.store.pos_reports import ExceptionFilter, PosReportRepository

MAX_DAYS = 366
MAX_LINES = 50_000
"""Findings one report holds at most (a longer list: narrow the filters)."""

AMOUNT_OF: dict[ExceptionCode, str] = {
    ExceptionCode.VOID_LINE: "voided_minor",
    ExceptionCode.REFUND_WITHOUT_RECEIPT: "refunded_minor",
    ExceptionCode.HIGH_DISCOUNT: "discount_minor",
    ExceptionCode.POST_VOID: "total_minor",
}
"""The value that is the money at stake of a finding; others show the transaction's total."""


class ReportError(ValueError):
    """The report cannot be made as asked (too many findings, ...); the message says what to change."""


class ReportQuery(BaseModel):
    """What a report covers: business days ``first_day`` to ``last_day`` (inclusive, in the POS time zone),
    ``stores`` (POS store ids; None: every store) and optional filters."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    first_day: date = Field(description="First business day.")
    last_day: date = Field(description="Last business day (inclusive).")
    stores: tuple[PosId, ...] | None = Field(None, description="POS store ids; None: all.")
    operator: PosId | None = Field(None, description="One cashier (operator id).")
    register: PosId | None = Field(None, description="One register.")
    code: ExceptionCode | None = Field(None, description="One exception code.")
    shift: str | None = Field(None, max_length=120, description="One shift, by its key.")

    @model_validator(mode="after")
    def _period(self) -> ReportQuery:
        if self.last_day < self.first_day:
            raise ValueError(f"the period ends ({self.last_day}) before it starts ({self.first_day})")
        if (self.last_day - self.first_day).days >= MAX_DAYS:
            raise ValueError(f"the period is longer than {MAX_DAYS} days: choose a shorter one")
        return self


@dataclass(frozen=True)
class ExceptionLine:
    exception: PosException
    site_store: str
    shift: Shift
    transaction: Transaction | None
    amount_minor: int | None
    currency: str | None

    @property
    def amount(self) -> str:
        return "" if self.amount_minor is None else money(self.amount_minor, self.currency)

    @property
    def details(self) -> str:
        """The transaction in a few words: type, status, lines (voided), total, tenders."""
        tx = self.transaction
        if tx is None:
            e = self.exception
            if e.period_start_utc is not None:
                return "cashier's business day"
            return "transaction not stored"
        parts = [tx.type.value.replace("_", " ")]
        if tx.status is not TransactionStatus.COMPLETED:
            parts.append(tx.status.value.replace("_", " "))
        if tx.lines:
            voided = len(tx.void_lines)
            parts.append(f"{len(tx.lines)} lines" + (f" ({voided} void)" if voided else ""))
        if tx.total_minor is not None:
            parts.append(f"total {money(tx.total_minor, tx.currency)}")
        if tx.tenders:
            parts.append("/".join(sorted({t.kind for t in tx.tenders})))
        return ", ".join(parts)


@dataclass(frozen=True)
class CashierRow:
    store: str
    site_store: str
    operator: str
    name: str | None
    transactions: int
    counts: dict[str, int]
    voids: PeerStats | None
    refunds: PeerStats | None

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def raised(self) -> bool:
        """Raised by a peer rule on at least one day of the period."""
        return any(self.counts.get(c.value) for c in (ExceptionCode.EXCESSIVE_VOIDS, ExceptionCode.EXCESSIVE_REFUNDS))


@dataclass(frozen=True)
class GroupRow:
    """Findings of one register or shift."""

    key: str
    label: str
    store: str
    site_store: str
    counts: dict[str, int]
    transactions: int | None = None
    start_utc: datetime | None = None

    @property
    def total(self) -> int:
        return sum(self.counts.values())


@dataclass(frozen=True)
class ExceptionReport:
    query: ReportQuery
    timezone: str
    generated_utc: datetime
    lines: list[ExceptionLine]
    cashiers: list[CashierRow]
    registers: list[GroupRow]
    shifts: list[GroupRow]
    peer_min_transactions: int
    codes: list[str] = field(default_factory=list)
    """The codes present, in the rules' order (the count columns)."""

    @property
    def start_utc(self) -> datetime:
        return period(self.query, ZoneInfo(self.timezone))[0]

    @property
    def end_utc(self) -> datetime:
        return period(self.query, ZoneInfo(self.timezone))[1]

    @property
    def max_total(self) -> int:
        return max((c.total for c in self.cashiers), default=0)


def period(query: ReportQuery, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """The UTC span of the query's business days in ``tz``."""
    start = datetime.combine(query.first_day, time(0), tz)
    end = datetime.combine(query.last_day + timedelta(days=1), time(0), tz)
    return start.astimezone(UTC), end.astimezone(UTC)


class ExceptionReports:
    """Makes reports from the store. ``site_store`` maps a POS store id to the site's store (tenancy, labels)."""

    def __init__(self, db: Database, config: PosConfig) -> None:
        self.reads, self.pos, self.config = PosReportRepository(db), PosRepository(db), config
        self.tz = ZoneInfo(config.timezone)

    def site_store(self, pos_store: str) -> str:
        return self.config.site_store(pos_store)

    def pos_stores_of(self, site_stores: Sequence[str] | None) -> list[str]:
        """The POS stores (with data) that are ``site_stores`` (None: every one)."""
        known = self.reads.pos_stores()
        return known if site_stores is None else [p for p in known if self.site_store(p) in site_stores]

    def report(self, query: ReportQuery, now: datetime | None = None, details: int | None = None) -> ExceptionReport:
        """The report of ``query``. ``details``: read the transactions (details, totals) of only the newest this
        many exceptions (a page that lists only those); the counts and statistics are over every exception."""
        start, end = period(query, self.tz)
        stores = query.stores
        where = ExceptionFilter(stores, start, end, query.code.value if query.code else None, query.operator,
                                query.register)  # fmt: skip
        found = self.reads.exceptions(where, limit=MAX_LINES + 1)
        if len(found) > MAX_LINES:
            raise ReportError(f"more than {MAX_LINES} exceptions match: choose a shorter period or more filters")
        described = found if details is None else found[len(found) - details :] if details else []
        keys = [k for e in described if (k := e.transaction_key) is not None]
        txs = self.reads.transactions(keys)
        longest = timedelta(hours=self.config.report.max_shift_h)
        book = ShiftBook(self.reads.sign_events(stores, start - longest, end), self.config.report, self.tz)
        lines = [self._line(e, txs, book) for e in found]
        if query.shift is not None:
            lines = [ln for ln in lines if ln.shift.key == query.shift]
        codes = [c.value for c in ExceptionCode if any(ln.exception.code is c for ln in lines)]
        return ExceptionReport(
            query=query,
            timezone=self.config.timezone,
            generated_utc=now or datetime.now(UTC),
            lines=lines,
            cashiers=self._cashiers(query, lines),
            registers=self._registers(query, lines),
            shifts=_group(lines, lambda ln: (ln.shift.key, ln.shift.label, ln.shift.start_utc)),
            peer_min_transactions=self.config.rules.excessive_voids.min_transactions,
            codes=codes,
        )

    def _line(self, e: PosException, txs: dict[str, Transaction], book: ShiftBook) -> ExceptionLine:
        tx = txs.get(key) if (key := e.transaction_key) is not None else None
        value = e.values.get(AMOUNT_OF.get(e.code, ""))
        amount = value if isinstance(value, int) and not isinstance(value, bool) else None
        if amount is None and tx is not None:
            amount = tx.total_minor
        if e.period_start_utc is not None:  # a cashier's business day: its own "shift"
            day = e.period_start_utc.astimezone(self.tz).date()
            shift = Shift(f"day {day}", "day", f"business day {day}", e.period_start_utc, e.period_end_utc)
        else:
            shift = book.shift_of(e.store, e.register, e.operator, e.at_utc)
        return ExceptionLine(e, self.site_store(e.store), shift, tx, amount, tx.currency if tx else None)

    def _cashiers(self, query: ReportQuery, lines: list[ExceptionLine]) -> list[CashierRow]:
        activity = self.pos.activity(query.stores, query.first_day, query.last_day)
        rules = self.config.rules
        void_peers, refund_peers = rated(activity, rules.excessive_voids), rated(activity, rules.excessive_refunds)
        counts: dict[tuple[str, str], Counter[str]] = {}
        for ln in lines:
            if ln.exception.operator is not None:
                counts.setdefault((ln.exception.store, ln.exception.operator), Counter())[ln.exception.code.value] += 1
        names = {f"{ln.transaction.store}/{ln.transaction.operator}": ln.transaction.operator_name for ln in lines
                 if ln.transaction is not None and ln.transaction.operator_name}  # fmt: skip
        names |= self.reads.operators(query.stores, query.first_day, query.last_day, set(names))
        by_key = {(a.store, a.operator): a for a in activity}
        rows = []
        for store, operator in sorted(set(by_key) | set(counts)):
            if query.operator is not None and operator != query.operator:
                continue
            a = by_key.get((store, operator))
            rows.append(
                CashierRow(
                    store=store,
                    site_store=self.site_store(store),
                    operator=operator,
                    name=names.get(f"{store}/{operator}"),
                    transactions=a.transactions if a else 0,
                    counts=dict(counts.get((store, operator), Counter())),
                    voids=peer_stats(a, void_peers, "void_lines") if a else None,
                    refunds=peer_stats(a, refund_peers, "refunds") if a else None,
                )
            )
        return sorted(rows, key=lambda r: (-r.total, r.store, r.operator))

    def _registers(self, query: ReportQuery, lines: list[ExceptionLine]) -> list[GroupRow]:
        rows = _group(
            [ln for ln in lines if ln.exception.register is not None],
            lambda ln: (f"{ln.exception.store}/{ln.exception.register}", f"register {ln.exception.register}", None),
        )
        volume = self.reads.register_transactions(query.stores, query.first_day, query.last_day)
        return [
            GroupRow(r.key, r.label, r.store, r.site_store, r.counts, volume.get((r.store, r.key.split("/", 1)[1]), 0))
            for r in rows
        ]


def _group(
    lines: list[ExceptionLine], key_of: Callable[[ExceptionLine], tuple[str, str, datetime | None]]
) -> list[GroupRow]:
    """Findings counted per code under each key, the most findings first."""
    groups: dict[str, tuple[str, ExceptionLine, datetime | None, Counter[str]]] = {}
    for ln in lines:
        key, label, start = key_of(ln)
        groups.setdefault(key, (label, ln, start, Counter()))[3][ln.exception.code.value] += 1
    rows = [
        GroupRow(key, label, ln.exception.store, ln.site_store, dict(c), start_utc=start)
        for key, (label, ln, start, c) in groups.items()
    ]
    return sorted(rows, key=lambda r: (-r.total, r.key))


__all__ = [
    "CashierRow",
    "ExceptionLine",
    "ExceptionReport",
    "ExceptionReports",
    "GroupRow",
    "ReportError",
    "ReportQuery",
    "period",
]
