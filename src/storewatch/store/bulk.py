"""Writing many rows at once, idempotently, on SQLite and PostgreSQL: inserts that skip rows already there (by
primary key), in chunks that keep each statement's parameter count bounded, and the quarantine of records that
could not be read (POS transactions, door events), each kept once."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from typing import Any, cast

from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session
from sqlalchemy.sql import Insert

from storewatch.pos.records import Quarantined
from storewatch.store.db import Database
from storewatch.store.types import utcnow

CHUNK = 500
"""Keys per ``IN (...)`` look-up and rows per insert."""


def insert_new(session: Session, table: Any) -> Insert:
    """``INSERT ... ON CONFLICT DO NOTHING`` for this session's database."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return postgresql.insert(table).on_conflict_do_nothing()
    if dialect == "sqlite":
        return sqlite.insert(table).on_conflict_do_nothing()
    raise ValueError(f"unsupported database {dialect}")


def chunks(items: Sequence[Any], size: int = CHUNK) -> Iterable[Sequence[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def update_by_id(session: Session, table: Any, rows: Sequence[dict[str, Any]]) -> None:
    """Bulk ``UPDATE`` of rows that are there: each row's values, matched by its ``b_id`` (its id)."""
    values: dict[str, Any] = {c: bindparam(c) for c in rows[0] if c not in ("b_id", "id")}
    session.connection().execute(update(table).where(table.c.id == bindparam("b_id")).values(values), rows)


def upsert_by_id(db: Database, row_type: Any, latest: dict[str, dict[str, Any]]) -> tuple[int, int]:
    """Insert the rows (by id) not stored yet, with ``created_utc`` now, and update the values of the others;
    returns (inserted, updated)."""
    table = cast(Table, row_type.__table__)
    inserted = updated = 0
    with db.write_session() as session:
        for ids in chunks(list(latest)):
            have = set(session.scalars(select(row_type.id).where(row_type.id.in_(ids))))
            new = [{**latest[i], "created_utc": utcnow()} for i in ids if i not in have]
            old = [{**latest[i], "b_id": i} for i in ids if i in have]
            if new:
                session.execute(insert_new(session, table), new)
            if old:
                update_by_id(session, table, old)
            inserted, updated = inserted + len(new), updated + len(old)
    return inserted, updated


def save_changed(db: Database, row_type: Any, rows: Sequence[dict[str, Any]]) -> tuple[int, int, int]:
    """Insert the rows (by id) not stored yet and replace those stored with another ``fingerprint`` (a hash of
    the content; ``ingested_utc`` and ``updated_utc`` set now); returns (inserted, updated, unchanged)."""
    table = cast(Table, row_type.__table__)
    by_id = {r["id"]: r for r in rows}
    inserted = updated = 0
    with db.write_session() as session:
        for ids in chunks(list(by_id)):
            stmt = select(row_type.id, row_type.fingerprint).where(row_type.id.in_(ids))
            have: dict[str, str] = {i: f for i, f in session.execute(stmt)}
            now = utcnow()
            new = [{**by_id[i], "ingested_utc": now, "updated_utc": now} for i in ids if i not in have]
            diff = [{**by_id[i], "b_id": i, "updated_utc": now} for i in ids
                    if i in have and have[i] != by_id[i]["fingerprint"]]  # fmt: skip
            if new:
                session.execute(insert_new(session, table), new)
            if diff:
                update_by_id(session, table, diff)
            inserted, updated = inserted + len(new), updated + len(diff)
    return inserted, updated, len(by_id) - inserted - updated


def save_quarantined(db: Database, row_type: Any, items: Sequence[Quarantined]) -> int:
    """Keep each record that could not be read in ``row_type``'s table (once: the same record with the same error
    is not repeated); returns how many were new."""
    rows = {}
    for q in items:
        ident = hashlib.sha256("\x1f".join((q.source, q.record, q.path, q.error)).encode()).hexdigest()
        rows[ident] = {"id": ident, "source": q.source[:500], "record": q.record[:300], "path": q.path[:300],
                       "error": q.error, "raw": q.raw, "received_utc": utcnow()}  # fmt: skip
    if not rows:
        return 0
    with db.write_session() as session:
        have: set[str] = set()
        for ids in chunks(list(rows)):
            have |= set(session.scalars(select(row_type.id).where(row_type.id.in_(ids))))
        new = [r for i, r in rows.items() if i not in have]
        if new:
            session.execute(insert_new(session, row_type.__table__), new)
    return len(new)
