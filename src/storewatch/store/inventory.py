"""The inventory repository: idempotent writes of adjustments and cycle counts (by identity; a corrected re-send
replaces the row, an identical one changes nothing), the quarantine, a period's rows back, and the behaviour
events of a shelf zone the shrink report puts beside its loss. SQL lives here; ``storewatch.inventory.service``
decides what to write and read."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Select, func, select

from storewatch.inventory.model import CycleCount, StockAdjustment
from storewatch.inventory.shrink import AdjustmentLike, CountLike
from storewatch.pos.records import Quarantined
from storewatch.store.bulk import chunks, save_changed, save_quarantined
from storewatch.store.db import Database
from storewatch.store.inventory_models import InventoryAdjustmentRow, InventoryCountRow, InventoryQuarantineRow
from storewatch.store.models import EventRow, IncidentEventRow

_SHARED = ("store", "sku", "at_utc", "unit_cost_minor", "reference", "description", "source")
_READ = ("store", "sku", "at_utc", "unit_cost_minor", "description")
"""The columns a report reads."""


@dataclass(frozen=True, slots=True)
class SaveCounts:
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0


@dataclass(frozen=True, slots=True)
class ZoneEvent:
    """A behaviour event in a shelf zone (what the report lists and links)."""

    id: str
    type: str
    camera: str
    start_utc: datetime
    severity: str
    explanation: str
    incident_id: str | None


@dataclass(frozen=True, slots=True)
class ZoneEvents:
    by_type: dict[str, int]
    """Events per rule type in the period (all of them, not only the listed)."""
    newest: list[ZoneEvent]
    """The newest ones, at most the limit asked."""

    @property
    def total(self) -> int:
        return sum(self.by_type.values())


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def adjustment_row(a: StockAdjustment) -> dict[str, Any]:
    row = a.model_dump(mode="python", include={*_SHARED, "qty_delta", "reason", "zone"})
    row["reason"] = a.reason.value
    row["source"] = a.source[:300]
    row["id"] = _digest(a.key)
    row["fingerprint"] = _digest(a.model_dump_json(exclude={"source"}))
    return row


def count_row(c: CycleCount) -> dict[str, Any]:
    row = c.model_dump(mode="python", include={*_SHARED, "counted_qty", "expected_qty"})
    row["source"] = c.source[:300]
    row["id"] = _digest(c.key)
    row["fingerprint"] = _digest(c.model_dump_json(exclude={"source"}))
    return row


class InventoryRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    def save_adjustments(self, items: Sequence[StockAdjustment]) -> SaveCounts:
        return SaveCounts(*save_changed(self.db, InventoryAdjustmentRow, [adjustment_row(a) for a in items]))

    def save_counts(self, items: Sequence[CycleCount]) -> SaveCounts:
        return SaveCounts(*save_changed(self.db, InventoryCountRow, [count_row(c) for c in items]))

    def save_quarantine(self, items: Sequence[Quarantined]) -> int:
        """Keep each record that could not be read (once)."""
        return save_quarantined(self.db, InventoryQuarantineRow, items)

    def adjustments(self, stores: Sequence[str] | None, start: datetime, end: datetime) -> list[AdjustmentLike]:
        """The adjustments of the stores (None: all) with ``start <= at_utc < end``, as rows (no model: a report
        reads a month of a store's rows; validating each would cost more than the rest of it)."""
        t = InventoryAdjustmentRow
        query = select(*(getattr(t, c) for c in _READ), t.qty_delta, t.reason, t.zone)
        with self.db.session() as session:
            return cast(list[AdjustmentLike], list(session.execute(_period(query, t, stores, start, end))))

    def counts(self, stores: Sequence[str] | None, start: datetime, end: datetime) -> list[CountLike]:
        """The cycle counts of the stores (None: all) with ``start <= at_utc < end``, as rows."""
        t = InventoryCountRow
        query = select(*(getattr(t, c) for c in _READ), t.counted_qty, t.expected_qty)
        with self.db.session() as session:
            return cast(list[CountLike], list(session.execute(_period(query, t, stores, start, end))))

    def zone_events(
        self,
        store: str,
        zone: str,
        camera: str | None,
        types: Sequence[str] | None,
        start: datetime,
        end: datetime,
        limit: int = 20,
    ) -> ZoneEvents:
        """The events of a store's zone (on its camera, when known) that started in [start, end), of the given
        rule types (None: every type)."""
        e = EventRow
        where = [e.store == store, e.zone == zone, e.start_utc >= start, e.start_utc < end]
        if camera is not None:
            where.append(e.camera == camera)
        if types is not None:
            where.append(e.type.in_(types))
        with self.db.session() as session:
            by_type = {
                str(t): int(n) for t, n in session.execute(select(e.type, func.count()).where(*where).group_by(e.type))
            }
            rows = session.execute(
                select(e.id, e.type, e.camera, e.start_utc, e.severity, e.explanation)
                .where(*where)
                .order_by(e.start_utc.desc(), e.id)
                .limit(limit)
            ).all()
            incidents = _incidents(session, [r.id for r in rows])
        newest = [
            ZoneEvent(r.id, r.type, r.camera, r.start_utc, str(r.severity.value), r.explanation, incidents.get(r.id))
            for r in rows
        ]
        return ZoneEvents(dict(sorted(by_type.items(), key=lambda kv: (-kv[1], kv[0]))), newest)

    def stores(self) -> list[str]:
        """Every store with stock rows."""
        with self.db.session() as session:
            found = set(session.scalars(select(InventoryAdjustmentRow.store).distinct()))
            found |= set(session.scalars(select(InventoryCountRow.store).distinct()))
        return sorted(found)

    def totals(self) -> dict[str, int]:
        with self.db.session() as session:
            return {
                name: int(session.scalar(select(func.count()).select_from(model)) or 0)
                for name, model in (
                    ("adjustments", InventoryAdjustmentRow),
                    ("counts", InventoryCountRow),
                    ("quarantined", InventoryQuarantineRow),
                )
            }


def _period(query: Select[Any], t: Any, stores: Sequence[str] | None, start: datetime, end: datetime) -> Select[Any]:
    query = query.where(t.at_utc >= start, t.at_utc < end)
    if stores is not None:
        query = query.where(t.store.in_(stores))
    return query.order_by(t.at_utc, t.id)


def _incidents(session: Any, event_ids: list[str]) -> dict[str, str]:
    """An incident of each event that has one."""
    found: dict[str, str] = {}
    for ids in chunks(event_ids):
        stmt = select(IncidentEventRow.event_id, IncidentEventRow.incident_id).where(IncidentEventRow.event_id.in_(ids))
        for event_id, incident_id in session.execute(stmt):
            found.setdefault(event_id, incident_id)
    return found
