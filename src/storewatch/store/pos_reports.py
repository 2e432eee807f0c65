"""Reads for the cashier exception dashboard and report (``storewatch.pos.report``): exceptions by store, period,
cashier, register and code; each cashier's and register's activity over a range of business days; sign-on/off
records (the shifts); the transactions behind exceptions. SQL only: what the numbers mean is the report's.

A finding's time in a period filter is its period's start for a cashier's period finding (``excessive_*``, stored at
the end of the business day) and its time otherwise, so a day's findings fall in that day.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select, union

from storewatch.pos.exceptions import PosException
from storewatch.pos.model import Transaction, TransactionStatus, TransactionType
from storewatch.pos.shifts import SignEvent
from storewatch.store.bulk import chunks
from storewatch.store.db import Database
from storewatch.store.pos import RETAIL, exception_of
from storewatch.store.pos_models import PosExceptionRow, PosTransactionRow

SIGN = (TransactionType.SIGN_ON.value, TransactionType.SIGN_OFF.value)


@dataclass(frozen=True, slots=True)
class ExceptionFilter:
    """Which findings: ``stores`` (POS store ids; None: all), those whose time is in ``[start, end)``, and
    optionally one code, cashier and register."""

    stores: tuple[str, ...] | None
    start: datetime
    end: datetime
    code: str | None = None
    operator: str | None = None
    register: str | None = None


def _when() -> Any:
    return func.coalesce(PosExceptionRow.period_start_utc, PosExceptionRow.at_utc)


class PosReportRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    def pos_stores(self) -> list[str]:
        """Every POS store id with transactions or findings stored."""
        stmt = union(select(PosTransactionRow.store).distinct(), select(PosExceptionRow.store).distinct())
        with self.db.session() as session:
            return sorted({str(s) for (s,) in session.execute(stmt)})

    def exceptions(self, where: ExceptionFilter, limit: int | None = None) -> list[PosException]:
        """The findings matching ``where``, oldest first (at most ``limit``)."""
        e = PosExceptionRow
        stmt = select(e).where(_when() >= where.start, _when() < where.end)
        if where.stores is not None:
            stmt = stmt.where(e.store.in_(where.stores))
        for column, value in ((e.code, where.code), (e.operator, where.operator), (e.register, where.register)):
            if value is not None:
                stmt = stmt.where(column == value)
        stmt = stmt.order_by(_when(), e.id)
        if limit is not None:
            stmt = stmt.limit(limit)
        with self.db.session() as session:
            return [exception_of(r) for r in session.scalars(stmt)]

    def exceptions_of(self, store: str, register: str, business_day: date, sequence: int) -> list[PosException]:
        """The findings about one transaction."""
        e = PosExceptionRow
        stmt = select(e).where(e.store == store, e.register == register, e.business_day == business_day,
                               e.sequence == sequence).order_by(e.code)  # fmt: skip
        with self.db.session() as session:
            return [exception_of(r) for r in session.scalars(stmt)]

    def transactions(self, keys: Sequence[str]) -> dict[str, Transaction]:
        """The stored transactions of these keys (``store/register/day/sequence``; missing ones left out)."""
        found: dict[str, Transaction] = {}
        with self.db.session() as session:
            for part in chunks(sorted(set(keys))):
                stmt = select(PosTransactionRow.id, PosTransactionRow.record, PosTransactionRow.source)
                for key, record, source in session.execute(stmt.where(PosTransactionRow.id.in_(part))):
                    tx = Transaction.model_validate_json(record)  # parsed and checked in one pass (pydantic-core)
                    found[key] = tx.model_copy(update={"source": source}) if source else tx
        return found

    def register_transactions(
        self, stores: Sequence[str] | None, first_day: date, last_day: date
    ) -> dict[tuple[str, str], int]:
        """Completed retail transactions per (store, register) over the business days."""
        t = PosTransactionRow
        stmt = select(t.store, t.register, func.count()).where(t.business_day >= first_day, t.business_day <= last_day)
        stmt = stmt.where(t.type.in_(RETAIL), t.status == TransactionStatus.COMPLETED.value)
        if stores is not None:
            stmt = stmt.where(t.store.in_(stores))
        with self.db.session() as session:
            return {(str(s), str(r)): int(n) for s, r, n in session.execute(stmt.group_by(t.store, t.register))}

    def operators(
        self, stores: Sequence[str] | None, first_day: date, last_day: date, skip: set[str]
    ) -> dict[str, str]:
        """``store/operator`` -> the name the till gave on the cashier's newest transaction of the period, for the
        cashiers not in ``skip`` (``store/operator`` keys whose name is known already)."""
        t = PosTransactionRow
        stmt = select(t.store, t.operator, func.max(t.id)).where(
            t.operator.is_not(None), t.business_day >= first_day, t.business_day <= last_day
        )
        if stores is not None:
            stmt = stmt.where(t.store.in_(stores))
        with self.db.session() as session:
            rows = session.execute(stmt.group_by(t.store, t.operator)).all()
        ids = [str(i) for s, op, i in rows if f"{s}/{op}" not in skip]
        return {
            f"{tx.store}/{tx.operator}": tx.operator_name
            for tx in self.transactions(ids).values()
            if tx.operator and tx.operator_name
        }

    def sign_events(self, stores: Sequence[str] | None, start: datetime, end: datetime) -> list[SignEvent]:
        """The sign-ons and sign-offs between ``start`` and ``end``, oldest first."""
        t = PosTransactionRow
        stmt = select(t.store, t.register, t.operator, t.type, t.end_utc).where(
            t.type.in_(SIGN), t.end_utc >= start, t.end_utc < end
        )
        if stores is not None:
            stmt = stmt.where(t.store.in_(stores))
        with self.db.session() as session:
            return [
                SignEvent(str(s), str(r), op, kind == TransactionType.SIGN_ON.value, at)
                for s, r, op, kind, at in session.execute(stmt.order_by(t.end_utc))
            ]


__all__ = ["ExceptionFilter", "PosReportRepository"]
