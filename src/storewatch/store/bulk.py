"""Writing many rows at once, idempotently, on SQLite and PostgreSQL: inserts that skip rows already there (by
primary key), in chunks that keep each statement's parameter count bounded, and the quarantine of records that
could not be read (POS transactions, door events), each kept once."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session
from sqlalchemy.sql import Insert

from storewatch.pos.records import Quarantined
from storewatch.store.db import Database
from storewatch.store.types import utcnow

CHUNK = 500


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
