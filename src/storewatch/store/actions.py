"""The action log: every deterrent action (HTTP, MQTT, audio, public-view monitor) and its outcome, one row each.

A row is written for every firing and for every matching event that did *not* fire (``skipped``, with the reason:
cool-down, schedule, busy, queue full), so "why did the siren not sound?" has an answer. Rows are appended, never
changed (``action_log``, schema 0002).

>>> from datetime import UTC, datetime
>>> from storewatch.store.db import open_database
>>> from storewatch.store.migrate import upgrade
>>> db = open_database("sqlite://"); upgrade(db)
>>> repo = ActionLogRepository(db)
>>> t = datetime(2026, 3, 2, 21, 5, tzinfo=UTC)
>>> _ = repo.add(ActionRecord("siren", "http", ActionStatus.DONE, "HTTP 200", t, "s1/office", "e1", 0.05))
>>> _ = repo.add(ActionRecord("siren", "http", ActionStatus.SKIPPED, "cool-down", t, "s1/office", "e2"))
>>> [(r.status.value, r.outcome) for r in repo.list(action="siren")]
[('skipped', 'cool-down'), ('done', 'HTTP 200')]
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from sqlalchemy import select

from storewatch.store.db import Database
from storewatch.store.models import ActionLogRow

MAX_LIMIT = 1000


class ActionStatus(StrEnum):
    DONE = "done"
    FAILED = "failed"
    SKIPPED = "skipped"


@dataclass(frozen=True, slots=True)
class ActionRecord:
    """One firing (or non-firing) of an action; ``id`` is given by the log when stored."""

    action: str
    kind: str
    status: ActionStatus
    outcome: str
    at_utc: datetime
    camera: str | None = None
    event_id: str | None = None
    duration_s: float | None = None
    id: int | None = None


class ActionLogRepository:
    """The ``action_log`` table: append and query."""

    def __init__(self, database: Database) -> None:
        self.db = database

    def add(self, record: ActionRecord) -> ActionRecord:
        """Store ``record`` (its own transaction); returns it with its id."""
        row = ActionLogRow(
            action=record.action, kind=record.kind, camera=record.camera, event_id=record.event_id,
            at_utc=record.at_utc, status=record.status.value, outcome=record.outcome[:4000],
            duration_s=record.duration_s,
        )  # fmt: skip
        with self.db.session() as session:
            session.add(row)
            session.flush()
            return replace(record, id=row.id)

    def list(
        self,
        action: str | None = None,
        status: ActionStatus | None = None,
        since: datetime | None = None,
        limit: int = 100,
    ) -> list[ActionRecord]:
        """Records newest first, filtered by action name, status and time (``since`` inclusive)."""
        if not 1 <= limit <= MAX_LIMIT:
            raise ValueError(f"need 1 <= limit <= {MAX_LIMIT}, got {limit}")
        query = select(ActionLogRow)
        if action is not None:
            query = query.where(ActionLogRow.action == action)
        if status is not None:
            query = query.where(ActionLogRow.status == status.value)
        if since is not None:
            query = query.where(ActionLogRow.at_utc >= since)
        query = query.order_by(ActionLogRow.at_utc.desc(), ActionLogRow.id.desc()).limit(limit)
        with self.db.session() as session:
            return [_record(row) for row in session.scalars(query)]


def _record(row: ActionLogRow) -> ActionRecord:
    return ActionRecord(
        action=row.action, kind=row.kind, status=ActionStatus(row.status), outcome=row.outcome, at_utc=row.at_utc,
        camera=row.camera, event_id=row.event_id, duration_s=row.duration_s, id=row.id,
    )  # fmt: skip
