"""The audit log in the database: appended by one writer at a time, read with filters, checked end to end.

Appends are serialised so the chain never forks: on SQLite the write transaction takes the database's write lock
at its start (``Database.write_session``); on PostgreSQL a transaction-scoped advisory lock is taken first. Each
append reads the head (the row with the highest ``seq``), seals the new row after it and inserts it; the unique
``prev_hash`` would refuse a second row after the same head even without the lock (the append is then retried).

``verify`` walks the whole chain in pages (memory stays flat) from where it starts (row 1, or after the rows the
last retention purge removed) and names the first problem; with an ``anchor`` (a row number and hash written down
earlier) it also proves that row is still there unchanged, which catches the newest rows being cut off.

>>> from datetime import UTC, datetime
>>> from storewatch.store.db import open_database
>>> from storewatch.store.migrate import upgrade
>>> db = open_database("sqlite://"); upgrade(db)
>>> log = AuditLog(db)
>>> t = datetime(2026, 3, 1, 12, tzinfo=UTC)
>>> log.append(AuditRecord(t, "ana", ActorKind.USER, AuditAction.LOGIN_OK)).seq
1
>>> log.append(AuditRecord(t, "ana", ActorKind.USER, AuditAction.VIEW, "s1", "incident:i1")).seq
2
>>> report = log.verify(); report.ok, report.rows, report.head.seq
(True, 2, 2)
"""

from __future__ import annotations

import builtins
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Select, delete, func, select, text
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from storewatch.audit.chain import (
    GENESIS,
    ActorKind,
    AuditAction,
    AuditEntry,
    AuditRecord,
    ChainProblem,
    ChainReport,
    ProblemKind,
    check_chain,
    purge_start,
    seal,
)
from storewatch.store.audit_models import AuditRow
from storewatch.store.db import Database
from storewatch.store.types import utcnow

MAX_LIMIT = 10_000
PAGE = 2_000
_LOCK_KEY = 0x5357_4155_4449_54  # "SWAUDIT": the advisory lock of the audit chain on PostgreSQL
_RETRIES = 8

T = TypeVar("T")

__all__ = ["ActorKind", "AuditAction", "AuditFilter", "AuditLog", "AuditRecord", "parse_anchor"]


@dataclass(frozen=True, slots=True)
class AuditFilter:
    """Which rows to list: every given field must match (``since`` inclusive, ``until`` exclusive)."""

    since: datetime | None = None
    until: datetime | None = None
    store: str | None = None
    actor: str | None = None
    action: str | None = None
    stores: tuple[str, ...] | None = None
    """Only rows about one of these stores (a reader's scope); None: no such limit."""

    def apply(self, query: Select[Any]) -> Select[Any]:
        if self.since is not None:
            query = query.where(AuditRow.at_utc >= self.since)
        if self.until is not None:
            query = query.where(AuditRow.at_utc < self.until)
        for column, value in ((AuditRow.store, self.store), (AuditRow.actor, self.actor),
                              (AuditRow.action, self.action)):  # fmt: skip
            if value is not None:
                query = query.where(column == value)
        if self.stores is not None:
            query = query.where(AuditRow.store.in_(self.stores))
        return query


class AuditLog:
    def __init__(self, database: Database) -> None:
        self.db = database

    # --- writing ------------------------------------------------------------------------------------------------
    def append(self, record: AuditRecord) -> AuditEntry:
        """Add ``record`` after the head; returns the stored entry."""
        return self._locked(lambda session: self._append(session, record))

    def record(
        self,
        actor: str,
        actor_kind: ActorKind,
        action: AuditAction,
        *,
        store: str | None = None,
        target: str | None = None,
        detail: dict[str, Any] | None = None,
    ) -> AuditEntry:
        """Append what just happened (now); an error propagates: what cannot be audited does not happen."""
        return self.append(AuditRecord(utcnow(), actor, actor_kind, action, store, target, detail or {}))

    def purge(self, before: datetime, record: AuditRecord, *, dry_run: bool = False) -> tuple[int, AuditEntry | None]:
        """Remove the oldest rows written before ``before`` (a prefix of the chain: removal stops at the first
        newer row) and append ``record`` with ``detail["audit"]`` saying which rows went (their count, the last
        one's number and hash: where the chain now starts). Returns the count and the appended entry; a dry run
        only counts and appends nothing."""
        if dry_run:
            with self.db.session() as session:
                return self._prefix(session, before)[0], None

        def work(session: Session) -> tuple[int, AuditEntry | None]:
            count, last = self._prefix(session, before)
            audit: dict[str, Any] = {"rows": count}
            if last is not None:
                session.execute(delete(AuditRow).where(AuditRow.seq <= last.seq))
                audit.update(through_seq=last.seq, through_hash=last.hash)
            return count, self._append(session, replace(record, detail={**record.detail, "audit": audit}))

        return self._locked(work)

    def _locked(self, work: Callable[[Session], T]) -> T:
        for attempt in range(_RETRIES):
            try:
                with self.db.write_session() as session:
                    if self.db.backend == "postgresql":
                        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})
                    return work(session)
            except (IntegrityError, OperationalError):  # another writer came first (or SQLite was busy)
                if attempt == _RETRIES - 1:
                    raise
                time.sleep(0.01 * 2**attempt)
        raise AssertionError("unreachable")

    def _append(self, session: Session, record: AuditRecord) -> AuditEntry:
        head = session.scalar(select(AuditRow).order_by(AuditRow.seq.desc()).limit(1))
        entry = seal(record, 1 if head is None else head.seq + 1, GENESIS if head is None else head.hash)
        session.add(
            AuditRow(seq=entry.seq, at_utc=entry.at, actor=entry.actor, actor_kind=entry.actor_kind,
                     action=entry.action, store=entry.store, target=entry.target, detail=entry.detail,
                     prev_hash=entry.prev_hash, hash=entry.hash)
        )  # fmt: skip
        session.flush()
        return entry

    @staticmethod
    def _prefix(session: Session, before: datetime) -> tuple[int, AuditRow | None]:
        """How many of the oldest rows lie before ``before`` (up to the first row that does not), and the last."""
        newer = session.scalar(select(func.min(AuditRow.seq)).where(AuditRow.at_utc >= before))
        query = select(AuditRow).where(AuditRow.at_utc < before)
        if newer is not None:
            query = query.where(AuditRow.seq < newer)
        last = session.scalar(query.order_by(AuditRow.seq.desc()).limit(1))
        if last is None:
            return 0, None
        count = session.scalar(select(func.count()).select_from(AuditRow).where(AuditRow.seq <= last.seq))
        return int(count or 0), last

    # --- reading ------------------------------------------------------------------------------------------------
    def list(self, where: AuditFilter | None = None, *, limit: int = 100, newest_first: bool = True
             ) -> builtins.list[AuditEntry]:  # fmt: skip
        if not 1 <= limit <= MAX_LIMIT:
            raise ValueError(f"limit must be 1..{MAX_LIMIT}, not {limit}")
        query = (where or AuditFilter()).apply(select(AuditRow))
        query = query.order_by(AuditRow.seq.desc() if newest_first else AuditRow.seq).limit(limit)
        with self.db.session() as session:
            return [_entry(r) for r in session.scalars(query)]

    def scan(self, where: AuditFilter | None = None) -> Iterator[AuditEntry]:
        """Every matching row, oldest first, read in pages (for exports and the chain check)."""
        after = 0
        while True:
            query = (where or AuditFilter()).apply(select(AuditRow)).where(AuditRow.seq > after)
            with self.db.session() as session:
                page = [_entry(r) for r in session.scalars(query.order_by(AuditRow.seq).limit(PAGE))]
            yield from page
            if len(page) < PAGE:
                return
            after = page[-1].seq

    def count(self, where: AuditFilter | None = None) -> int:
        with self.db.session() as session:
            query = (where or AuditFilter()).apply(select(func.count()).select_from(AuditRow))
            return int(session.scalar(query) or 0)

    def head(self) -> AuditEntry | None:
        with self.db.session() as session:
            row = session.scalar(select(AuditRow).order_by(AuditRow.seq.desc()).limit(1))
            return None if row is None else _entry(row)

    def verify(self, anchor: tuple[int, str] | None = None) -> ChainReport:
        """Check the whole chain (see the module doc); ``anchor`` (row number, hash) must still be in it."""
        start = purge_start(self.scan(AuditFilter(action=AuditAction.RETENTION_PURGE.value)))
        report = check_chain(self.scan(), start)
        if report.ok and anchor is not None:
            problem = self._anchor_problem(anchor, report)
            if problem is not None:
                return replace(report, problem=problem)
        return report

    def _anchor_problem(self, anchor: tuple[int, str], report: ChainReport) -> ChainProblem | None:
        seq, digest = anchor
        with self.db.session() as session:
            row = session.get(AuditRow, seq)
        if row is not None and row.hash == digest.lower():
            return None
        if row is None and seq < report.start.seq:
            return None  # removed by retention since it was written down: the purge row vouches for it
        if row is None:
            head = report.head.seq if report.head else 0
            text = f"anchored row {seq} is gone: the chain ends at row {head} (newest rows removed)"
        else:
            text = f"anchored row {seq} has another hash now: the chain was rewritten from row {seq} or before"
        return ChainProblem(ProblemKind.ANCHOR, seq, text)


def _entry(row: AuditRow) -> AuditEntry:
    return AuditEntry(row.seq, row.at_utc, row.actor, row.actor_kind, row.action, row.store, row.target, row.detail,
                      row.prev_hash, row.hash)  # fmt: skip


def parse_anchor(text: str) -> tuple[int, str]:
    """``SEQ:HASH`` as written by ``storewatch audit verify`` -> (seq, hash); ``ValueError`` naming the problem.

    >>> parse_anchor("12:" + "ab" * 32)[0]
    12
    """
    seq, _, digest = text.strip().partition(":")
    if not seq.isdigit() or len(digest) != 64 or any(c not in "0123456789abcdefABCDEF" for c in digest):
        raise ValueError(f"{text!r} is not an anchor: write it as SEQ:HASH (e.g. 1042:9f86d0...; 64 hex digits)")
    return int(seq), digest.lower()
