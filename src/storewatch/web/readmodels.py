"""The dashboard's reads that no store repository answers: what the estate overview and the live feed need.

All SQL, no business rules: which stores and cameras events name, the camera events still open (offline,
tampering), the newest event per camera, counts of waiting alerts and open incidents per store, events by id in
bulk, and what changed since a moment (events by ``updated_utc``; alerts by when they were raised, escalated or
acknowledged, as alerts have no ``updated_utc``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import InstrumentedAttribute

from storewatch.incidents.workflow import CLOSED
from storewatch.store.db import Database
from storewatch.store.models import AlertRow, AlertStatus, EventRow, IncidentEventRow, IncidentRow

CAMERA_PROBLEMS = ("camera.offline", "camera.tampering.")


@dataclass(frozen=True, slots=True)
class OpenProblem:
    camera: str
    type: str
    since: datetime
    explanation: str


def _in_stores(column: InstrumentedAttribute[str], stores: Sequence[str] | None) -> list[ColumnElement[bool]]:
    """The WHERE clauses limiting ``column`` to ``stores`` (none when None: every store)."""
    return [] if stores is None else [column.in_(list(stores))]


class ReadModels:
    def __init__(self, database: Database) -> None:
        self.db = database

    def cameras_seen(self, stores: Sequence[str] | None) -> dict[str, datetime]:
        """Every camera events name (``store/camera``), with the start of its newest event."""
        query = select(EventRow.camera, func.max(EventRow.start_utc)).where(*_in_stores(EventRow.store, stores))
        with self.db.session() as session:
            rows = session.execute(query.group_by(EventRow.camera)).all()
        return {str(camera): _utc(last) for camera, last in rows if last is not None}

    def open_problems(self, stores: Sequence[str] | None) -> list[OpenProblem]:
        """Camera health events not ended (an offline camera, a covered lens), oldest first."""
        query = select(EventRow.camera, EventRow.type, EventRow.start_utc, EventRow.explanation).where(
            EventRow.end_utc.is_(None),
            or_(EventRow.type == CAMERA_PROBLEMS[0], EventRow.type.startswith(CAMERA_PROBLEMS[1])),
        )
        query = query.where(*_in_stores(EventRow.store, stores)).order_by(EventRow.start_utc)
        with self.db.session() as session:
            return [OpenProblem(str(c), str(t), _utc(s), str(x)) for c, t, s, x in session.execute(query)]

    def waiting_alerts(self, stores: Sequence[str] | None) -> dict[str, int]:
        query = select(AlertRow.store, func.count()).where(AlertRow.status == AlertStatus.WAITING)
        query = query.where(*_in_stores(AlertRow.store, stores))
        with self.db.session() as session:
            return {str(s): int(n) for s, n in session.execute(query.group_by(AlertRow.store))}

    def open_incidents(self, stores: Sequence[str] | None) -> dict[str, int]:
        query = select(IncidentRow.store, func.count()).where(IncidentRow.state.not_in([s.value for s in CLOSED]))
        query = query.where(*_in_stores(IncidentRow.store, stores))
        with self.db.session() as session:
            return {str(s): int(n) for s, n in session.execute(query.group_by(IncidentRow.store))}

    def events(self, ids: Sequence[str]) -> dict[str, EventRow]:
        if not ids:
            return {}
        with self.db.session() as session:
            return {r.id: r for r in session.scalars(select(EventRow).where(EventRow.id.in_(list(set(ids)))))}

    def event_row(self, event_id: str) -> EventRow | None:
        with self.db.session() as session:
            return session.get(EventRow, event_id)

    def events_list(
        self, stores: Sequence[str] | None, since: datetime | None, limit: int, type_prefix: str | None = None
    ) -> list[EventRow]:
        query = select(EventRow)
        query = query.where(*_in_stores(EventRow.store, stores))
        if since is not None:
            query = query.where(EventRow.start_utc >= since)
        if type_prefix:
            query = query.where(EventRow.type.startswith(type_prefix, autoescape=True))
        with self.db.session() as session:
            return list(session.scalars(query.order_by(EventRow.start_utc.desc(), EventRow.id).limit(limit)))

    def incidents_of_events(self, event_ids: Sequence[str]) -> dict[str, list[str]]:
        if not event_ids:
            return {}
        found: dict[str, list[str]] = {}
        query = select(IncidentEventRow.event_id, IncidentEventRow.incident_id).where(
            IncidentEventRow.event_id.in_(list(set(event_ids)))
        )
        with self.db.session() as session:
            for event_id, incident_id in session.execute(query):
                found.setdefault(event_id, []).append(incident_id)
        return found

    def changed_events(self, since: datetime, limit: int = 500) -> list[EventRow]:
        """Events written or changed at or after ``since``, oldest change first."""
        query = select(EventRow).where(EventRow.updated_utc >= since).order_by(EventRow.updated_utc).limit(limit)
        with self.db.session() as session:
            return list(session.scalars(query))

    def changed_alerts(self, since: datetime, limit: int = 500) -> list[str]:
        """Ids of alerts raised, escalated or acknowledged at or after ``since``."""
        query = (
            select(AlertRow.id)
            .where(
                or_(AlertRow.raised_utc >= since, AlertRow.last_sent_utc >= since, AlertRow.acknowledged_utc >= since)
            )
            .order_by(AlertRow.raised_utc)
            .limit(limit)
        )
        with self.db.session() as session:
            return list(session.scalars(query))

    def alert_ids_for_events(self, event_ids: Sequence[str]) -> list[str]:
        if not event_ids:
            return []
        query = select(AlertRow.id).where(AlertRow.event_id.in_(list(set(event_ids))))
        with self.db.session() as session:
            return list(session.scalars(query))

    def alerts(self, ids: Sequence[str]) -> list[AlertRow]:
        if not ids:
            return []
        with self.db.session() as session:
            return list(session.scalars(select(AlertRow).where(AlertRow.id.in_(list(ids)))))

    def stores_seen(self) -> list[str]:
        with self.db.session() as session:
            found = set(session.scalars(select(EventRow.store).distinct()))
            found |= set(session.scalars(select(IncidentRow.store).distinct()))
            found |= set(session.scalars(select(AlertRow.store).distinct()))
        return sorted(found)


def _utc(value: datetime) -> datetime:
    """Aggregates of ``UTCDateTime`` columns may come back naive on SQLite: they are UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


__all__ = ["OpenProblem", "ReadModels"]
