"""The POS repository: idempotent bulk writes of transactions, exception findings and quarantined records, and the
per-cashier counts the period rules need. SQL lives here; ``storewatch.pos.service`` decides what to write.

Idempotence: a transaction is keyed by ``store/register/business_day/sequence`` (``Transaction.key``: many POS
systems restart their sequence numbers every day, so yesterday's #42 and today's are two transactions); writing
one already stored with the same content (``fingerprint``) changes nothing, with other content replaces it (a
corrected re-send). Findings are
keyed by their stable id, quarantined records by a hash of where they came from and what was wrong. Inserts use
``ON CONFLICT DO NOTHING`` on both backends, so two ingesters racing on one key do not fail.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, cast

from sqlalchemy import Table, case, func, select

from storewatch.pos.exceptions import PosException
from storewatch.pos.model import Transaction, TransactionRef, TransactionStatus, TransactionType, transaction_key
from storewatch.pos.peers import OperatorActivity
from storewatch.pos.prepare import fingerprint, transaction_row
from storewatch.pos.records import Quarantined
from storewatch.store.bulk import chunks, insert_new, save_quarantined, update_by_id, upsert_by_id
from storewatch.store.db import Database
from storewatch.store.pos_models import PosExceptionRow, PosQuarantineRow, PosTransactionRow
from storewatch.store.types import utcnow

RETAIL = (TransactionType.SALE.value, TransactionType.RETURN.value, TransactionType.EXCHANGE.value)
"""The transaction types the cashier rates count."""


@dataclass
class SaveCounts:
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0


class PosRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    def save_transactions(self, transactions: Sequence[Transaction]) -> tuple[SaveCounts, list[Transaction]]:
        """Insert new transactions, replace changed ones; returns the counts and the transactions that were new or
        changed (the ones worth running the rules on). A key given twice in one call: the last one wins."""
        latest = {tx.key: tx for tx in transactions}
        counts, changed = self.save_rows([transaction_row(tx) for tx in latest.values()])
        return counts, [latest[k] for k in latest if k in changed]

    def save_rows(self, rows: Sequence[dict[str, Any]]) -> tuple[SaveCounts, set[str]]:
        """``save_transactions`` for rows made by ``transaction_row`` (e.g. in a worker process): the counts and
        the ids of the rows that were new or changed."""
        by_id = {r["id"]: r for r in rows}
        counts, changed = SaveCounts(), set[str]()
        table = cast(Table, PosTransactionRow.__table__)
        with self.db.write_session() as session:
            for keys in chunks(list(by_id)):
                stmt = select(PosTransactionRow.id, PosTransactionRow.fingerprint).where(PosTransactionRow.id.in_(keys))
                have = {i: f for i, f in session.execute(stmt)}
                now = utcnow()
                new = [{**by_id[k], "ingested_utc": now, "updated_utc": now} for k in keys if k not in have]
                diff = [
                    {**by_id[k], "b_id": k, "updated_utc": now}
                    for k in keys
                    if k in have and have[k] != by_id[k]["fingerprint"]
                ]
                if new:
                    session.execute(insert_new(session, table), new)
                if diff:
                    update_by_id(session, table, diff)
                counts.inserted += len(new)
                counts.updated += len(diff)
                counts.unchanged += len(keys) - len(new) - len(diff)
                changed.update(r["id"] for r in new)
                changed.update(r["b_id"] for r in diff)
        return counts, changed

    def save_exceptions(self, exceptions: Sequence[PosException]) -> SaveCounts:
        """Insert new findings, update the values of ones already stored (by their stable id)."""
        inserted, updated = upsert_by_id(self.db, PosExceptionRow, {e.id: _exception_row(e) for e in exceptions})
        return SaveCounts(inserted=inserted, updated=updated)

    def save_quarantine(self, items: Sequence[Quarantined]) -> int:
        """Keep each record that could not be read (once: the same record with the same error is not repeated)."""
        return save_quarantined(self.db, PosQuarantineRow, items)

    def operator_activity(self, store: str, business_day: date) -> list[OperatorActivity]:
        """Each cashier's completed retail transactions, void lines and refunds on one business day of a store."""
        return self.activity([store], business_day, business_day)

    def activity(self, stores: Sequence[str] | None, first_day: date, last_day: date) -> list[OperatorActivity]:
        """Each (store, cashier)'s completed retail transactions, void lines and refunds over the business days
        ``first_day`` to ``last_day`` of ``stores`` (None: every store)."""
        t = PosTransactionRow
        refunds = func.sum(case((t.refund.is_(True), 1), else_=0))
        stmt = (
            select(t.store, t.operator, func.count(), func.sum(t.void_lines), refunds)
            .where(t.business_day >= first_day, t.business_day <= last_day, t.operator.is_not(None))
            .where(t.type.in_(RETAIL), t.status == TransactionStatus.COMPLETED.value)
            .group_by(t.store, t.operator)
            .order_by(t.store, t.operator)
        )
        if stores is not None:
            stmt = stmt.where(t.store.in_(stores))
        with self.db.session() as session:
            return [
                OperatorActivity(str(s), str(op), int(n), int(v or 0), int(r or 0))
                for s, op, n, v, r in session.execute(stmt)
            ]

    def transaction(self, store: str, register: str, business_day: date, sequence: int) -> Transaction | None:
        """The stored transaction of that key, or None."""
        with self.db.session() as session:
            row = session.get(PosTransactionRow, transaction_key(store, register, business_day, sequence))
            return None if row is None else _transaction_of(row)

    def find(self, ref: TransactionRef, limit: int = 10) -> list[Transaction]:
        """The transactions a reference (a return's receipt, a post-void's voided one) may mean, latest day
        first: one when it names its register and business day; without them, each day's (and register's)
        transaction of that number, since sequences repeat."""
        t = PosTransactionRow
        stmt = select(t).where(t.store == ref.store, t.sequence == ref.sequence)
        if ref.register is not None:
            stmt = stmt.where(t.register == ref.register)
        if ref.business_day is not None:
            stmt = stmt.where(t.business_day == ref.business_day)
        stmt = stmt.order_by(t.business_day.desc(), t.register).limit(limit)
        with self.db.session() as session:
            return [_transaction_of(row) for row in session.scalars(stmt)]

    def exceptions(self, code: str | None = None) -> list[PosException]:
        with self.db.session() as session:
            stmt = select(PosExceptionRow).order_by(PosExceptionRow.at_utc, PosExceptionRow.id)
            if code is not None:
                stmt = stmt.where(PosExceptionRow.code == code)
            return [exception_of(r) for r in session.scalars(stmt)]

    def counts(self) -> dict[str, int]:
        with self.db.session() as session:
            return {
                name: int(session.scalar(select(func.count()).select_from(model)) or 0)
                for name, model in (
                    ("transactions", PosTransactionRow),
                    ("exceptions", PosExceptionRow),
                    ("quarantined", PosQuarantineRow),
                )
            }


def _transaction_of(row: PosTransactionRow) -> Transaction:
    return Transaction.model_validate({**json.loads(row.record), "source": row.source})


def _exception_row(e: PosException) -> dict[str, Any]:
    return {
        "id": e.id,
        "code": e.code.value,
        "store": e.store,
        "register": e.register,
        "sequence": e.sequence,
        "business_day": e.business_day,
        "operator": e.operator,
        "at_utc": e.at_utc,
        "period_start_utc": e.period_start_utc,
        "period_end_utc": e.period_end_utc,
        "values": dict(e.values),
        "explanation": e.explanation,
        "camera": e.clip.camera if e.clip else None,
        "clip_start_utc": e.clip.start_utc if e.clip else None,
        "clip_end_utc": e.clip.end_utc if e.clip else None,
    }


def exception_of(r: PosExceptionRow) -> PosException:
    clip = None
    if r.camera and r.clip_start_utc and r.clip_end_utc:
        clip = {"camera": r.camera, "start_utc": r.clip_start_utc, "end_utc": r.clip_end_utc}
    return PosException.model_validate({
        "id": r.id, "code": r.code, "store": r.store, "register": r.register, "sequence": r.sequence,
        "business_day": r.business_day, "operator": r.operator, "at_utc": r.at_utc,
        "period_start_utc": r.period_start_utc, "period_end_utc": r.period_end_utc, "values": r.values,
        "explanation": r.explanation, "clip": clip,
    })  # fmt: skip


__all__ = ["RETAIL", "PosRepository", "SaveCounts", "exception_of", "fingerprint", "transaction_row"]
