"""Removing old rows for retention, a few hundred at a time, never what an open or held incident needs.

The events an incident under legal hold or not yet closed is about are *kept*: their rows, their alerts and
deliveries, and (``retention.service``) their evidence files and their camera-days of tracks. Everything else
older than its kind's cut-off goes. Deletes run in short transactions of ``BATCH`` rows so the event writer never
waits long for the database (SQLite has one writer). Deleting an event removes its incident links (cascade); the
incident itself, its timeline and its chain of custody stay.

>>> from storewatch.store.db import open_database
>>> from storewatch.store.migrate import upgrade
>>> from datetime import UTC, datetime
>>> db = open_database("sqlite://"); upgrade(db)
>>> RetentionRepository(db).purge(RowSet.EVENTS, datetime(2026, 1, 1, tzinfo=UTC), dry_run=True)
0
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, delete, func, or_, select
from sqlalchemy.orm import InstrumentedAttribute

from storewatch.incidents.workflow import IncidentState
from storewatch.store.db import Database
from storewatch.store.models import (
    ActionLogRow,
    AlertRow,
    DeliveryRow,
    EventRow,
    IncidentEventRow,
    IncidentRow,
)
from storewatch.store.pos_models import PosExceptionRow, PosQuarantineRow, PosTransactionRow
from storewatch.store.sync_models import HubThumbnailRow

BATCH = 500
OPEN_STATES = (IncidentState.OPEN, IncidentState.ACKNOWLEDGED, IncidentState.INVESTIGATING)


@dataclass(frozen=True, slots=True)
class KeptEvent:
    """An event retention must keep, and why."""

    id: str
    camera: str
    start_utc: datetime
    held: bool
    """Its incident is under legal hold (else: its incident is not closed yet)."""


class RowSet(StrEnum):
    EVENTS = "events"
    ALERTS = "alerts"
    DELIVERIES = "deliveries"
    ACTION_LOG = "action_log"
    POS_TRANSACTIONS = "pos_transactions"
    POS_EXCEPTIONS = "pos_exceptions"
    POS_QUARANTINE = "pos_quarantine"
    HUB_THUMBNAILS = "hub_thumbnails"
    """At a hub: the stores' event thumbnails (snapshots, so they go with the snapshots' days)."""


def _kept_ids() -> Any:
    """Ids of the events of incidents under legal hold or not closed (a subquery)."""
    return (
        select(IncidentEventRow.event_id)
        .join(IncidentRow, IncidentRow.id == IncidentEventRow.incident_id)
        .where(or_(IncidentRow.legal_hold.is_(True), IncidentRow.state.in_([s.value for s in OPEN_STATES])))
    )


def _not_kept(column: InstrumentedAttribute[Any], nullable: bool = False) -> ColumnElement[bool]:
    free = column.not_in(_kept_ids())
    return or_(column.is_(None), free) if nullable else free


_Spec = tuple[Any, InstrumentedAttribute[Any], InstrumentedAttribute[Any], Callable[[], ColumnElement[bool] | None]]
SPECS: dict[RowSet, _Spec] = {
    RowSet.EVENTS: (EventRow, EventRow.id, EventRow.start_utc, lambda: _not_kept(EventRow.id)),
    RowSet.ALERTS: (AlertRow, AlertRow.id, AlertRow.raised_utc, lambda: _not_kept(AlertRow.event_id)),
    RowSet.DELIVERIES: (DeliveryRow, DeliveryRow.id, DeliveryRow.created_utc, lambda: _not_kept(DeliveryRow.event_id)),
    RowSet.ACTION_LOG: (ActionLogRow, ActionLogRow.id, ActionLogRow.at_utc,
                        lambda: _not_kept(ActionLogRow.event_id, nullable=True)),
    RowSet.POS_TRANSACTIONS: (PosTransactionRow, PosTransactionRow.id, PosTransactionRow.end_utc, lambda: None),
    RowSet.POS_EXCEPTIONS: (PosExceptionRow, PosExceptionRow.id, PosExceptionRow.at_utc, lambda: None),
    RowSet.POS_QUARANTINE: (PosQuarantineRow, PosQuarantineRow.id, PosQuarantineRow.received_utc, lambda: None),
    RowSet.HUB_THUMBNAILS: (HubThumbnailRow, HubThumbnailRow.event_id, HubThumbnailRow.received_utc,
                            lambda: _not_kept(HubThumbnailRow.event_id)),
}  # fmt: skip
"""Each set of rows: its table, key, time column and what of it is kept whatever its age."""


class RetentionRepository:
    def __init__(self, database: Database) -> None:
        self.db = database

    def kept_events(self) -> dict[str, KeptEvent]:
        """The events of held or open incidents, by id (held wins when an event is in both)."""
        query = (
            select(EventRow.id, EventRow.camera, EventRow.start_utc, IncidentRow.legal_hold)
            .join(IncidentEventRow, IncidentEventRow.event_id == EventRow.id)
            .join(IncidentRow, IncidentRow.id == IncidentEventRow.incident_id)
            .where(or_(IncidentRow.legal_hold.is_(True), IncidentRow.state.in_([s.value for s in OPEN_STATES])))
        )
        kept: dict[str, KeptEvent] = {}
        with self.db.session() as session:
            for event_id, camera, start, held in session.execute(query):
                previous = kept.get(event_id)
                kept[event_id] = KeptEvent(
                    event_id, camera, start, bool(held) or (previous is not None and previous.held)
                )
        return kept

    def remove_events(self, event_ids: Sequence[str]) -> dict[RowSet, int]:
        """Remove these events and everything that is only about them (alerts, deliveries, deterrent actions'
        log), whatever their age: a data subject's erasure (``privacy.subjects``). Incident links go with the
        events (cascade); the incidents stay. Returns how many rows of each set went."""
        columns = {RowSet.ALERTS: AlertRow.event_id, RowSet.DELIVERIES: DeliveryRow.event_id,
                   RowSet.ACTION_LOG: ActionLogRow.event_id, RowSet.HUB_THUMBNAILS: HubThumbnailRow.event_id,
                   RowSet.EVENTS: EventRow.id}  # fmt: skip
        removed = dict.fromkeys(columns, 0)
        ids = list(dict.fromkeys(event_ids))
        with self.db.write_session() as session:
            for start in range(0, len(ids), BATCH):
                chunk = ids[start : start + BATCH]
                for rows, column in columns.items():  # events last: the others point at them
                    table = SPECS[rows][0]
                    result = session.execute(delete(table).where(column.in_(chunk)))
                    removed[rows] += int(getattr(result, "rowcount", 0) or 0)
        return removed

    def purge(
        self, rows: RowSet, before: datetime, *, dry_run: bool = False, on_batch: Callable[[int], None] | None = None
    ) -> int:
        """Remove (or with ``dry_run`` count) the rows of ``rows`` older than ``before`` that nothing keeps."""
        table, key, when, keep = SPECS[rows]
        condition = when < before
        extra = keep()
        if extra is not None:
            condition = condition & extra
        if dry_run:
            with self.db.session() as session:
                return int(session.scalar(select(func.count()).select_from(table).where(condition)) or 0)
        removed = 0
        while True:
            with self.db.write_session() as session:
                ids = list(session.scalars(select(key).where(condition).limit(BATCH)))
                if ids:
                    session.execute(delete(table).where(key.in_(ids)))
            removed += len(ids)
            if on_batch is not None and ids:
                on_batch(len(ids))
            if len(ids) < BATCH:
                return removed
