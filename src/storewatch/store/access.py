"""The door access repository: idempotent writes of events (a re-sent event is stored once), findings (by stable
id: re-evaluating updates) and quarantined records, and the events of a span the rules need as context. SQL lives
here; ``storewatch.access.service`` decides what to write."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from storewatch.access.events import AccessEvent
from storewatch.access.rules import AccessException
from storewatch.pos.records import Quarantined
from storewatch.store.bulk import chunks, insert_new, save_quarantined, upsert_by_id
from storewatch.store.db import Database
from storewatch.store.door_models import AccessEventRow, AccessExceptionRow, AccessQuarantineRow
from storewatch.store.types import utcnow


def event_id(e: AccessEvent) -> str:
    return hashlib.sha256(e.key.encode()).hexdigest()


class AccessRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    def save_events(self, events: Sequence[AccessEvent]) -> list[AccessEvent]:
        """Store the events not stored yet; returns those (the ones worth running the rules for)."""
        latest = {event_id(e): e for e in events}
        new_events: list[AccessEvent] = []
        with self.db.write_session() as session:
            for ids in chunks(list(latest)):
                have = set(session.scalars(select(AccessEventRow.id).where(AccessEventRow.id.in_(ids))))
                fresh = [i for i in ids if i not in have]
                if fresh:
                    rows = [_event_row(i, latest[i]) for i in fresh]
                    session.execute(insert_new(session, AccessEventRow.__table__), rows)
                new_events += [latest[i] for i in fresh]
        return new_events

    def events_between(self, stores: Sequence[str], start: datetime, end: datetime) -> list[AccessEvent]:
        t = AccessEventRow
        stmt = select(t).where(t.store.in_(stores), t.at_utc >= start, t.at_utc <= end).order_by(t.at_utc)
        with self.db.session() as session:
            return [
                AccessEvent.model_validate(
                    {
                        "store": r.store,
                        "door": r.door,
                        "kind": r.kind,
                        "at_utc": r.at_utc,
                        "badge": r.badge,
                        "person": r.person,
                        "result": r.result,
                        "source": r.source,
                    }
                )
                for r in session.scalars(stmt)
            ]

    def save_exceptions(self, found: Sequence[AccessException]) -> int:
        """Insert new findings, update the values of ones already stored (by their stable id); returns how many
        were new."""
        inserted, _ = upsert_by_id(self.db, AccessExceptionRow, {e.id: _exception_row(e) for e in found})
        return inserted

    def save_quarantine(self, items: Sequence[Quarantined]) -> int:
        """Keep each event record that could not be read (once)."""
        return save_quarantined(self.db, AccessQuarantineRow, items)

    def exception_codes(self) -> list[tuple[str, str, str]]:
        """(code, door, id) of every finding, oldest first (for tests and reports)."""
        with self.db.session() as session:
            t = AccessExceptionRow
            return [(c, d, i) for c, d, i in session.execute(select(t.code, t.door, t.id).order_by(t.at_utc, t.id))]

    def counts(self) -> dict[str, int]:
        with self.db.session() as session:
            return {
                name: int(session.scalar(select(func.count()).select_from(model)) or 0)
                for name, model in (
                    ("events", AccessEventRow),
                    ("exceptions", AccessExceptionRow),
                    ("quarantined", AccessQuarantineRow),
                )
            }


def _event_row(ident: str, e: AccessEvent) -> dict[str, Any]:
    return {
        "id": ident, "store": e.store, "door": e.door, "kind": e.kind.value, "badge": e.badge, "person": e.person,
        "result": e.result.value if e.result else None, "at_utc": e.at_utc, "source": e.source[:300],
        "received_utc": utcnow(),
    }  # fmt: skip


def _exception_row(e: AccessException) -> dict[str, Any]:
    return {
        "id": e.id, "code": e.code.value, "store": e.store, "door": e.door, "at_utc": e.at_utc, "badge": e.badge,
        "person": e.person, "values": dict(e.values), "explanation": e.explanation[:500],
        "camera": e.clip.camera if e.clip else None,
        "clip_start_utc": e.clip.start_utc if e.clip else None, "clip_end_utc": e.clip.end_utc if e.clip else None,
    }  # fmt: skip
