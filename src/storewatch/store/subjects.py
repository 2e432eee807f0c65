"""The rows a data subject request reads: events naming given tracks, their alerts and the incidents holding them.

Track ids live in a JSON list on the event row (``events.track_ids``), which SQLite and PostgreSQL query
differently; a track id names its camera (``store/camera/N``), so the query narrows to that camera's events in SQL
and matches the list in Python. That reads every event row of the camera (ids and track lists only), which is
fine at a camera's event rate over the retention period (a few thousand rows) and keeps one portable query.

>>> from datetime import UTC, datetime
>>> from storewatch.core.events import Event
>>> from storewatch.store.db import open_database
>>> from storewatch.store.events import EventRepository
>>> from storewatch.store.migrate import upgrade
>>> db = open_database("sqlite://"); upgrade(db)
>>> t = datetime(2026, 3, 2, 12, tzinfo=UTC)
>>> EventRepository(db).upsert(Event.start("loitering", "s1/door", t, "95 s", track_ids=("s1/door/4",)))
>>> [e.type for e in SubjectRepository(db).events_naming({"s1/door/4"})]
['loitering']
"""

from __future__ import annotations

from collections.abc import Collection, Iterable

from sqlalchemy import select

from storewatch.core.events import Event
from storewatch.store.db import Database
from storewatch.store.events import to_event
from storewatch.store.models import AlertRow, EventRow, IncidentEventRow

_CHUNK = 500


def camera_of(track_id: str) -> str:
    """``store/camera`` of a namespaced track id."""
    return track_id.rsplit("/", 1)[0]


class SubjectRepository:
    def __init__(self, database: Database) -> None:
        self.db = database

    def events_naming(self, track_ids: Collection[str]) -> list[Event]:
        """The events whose ``track_ids`` name any of ``track_ids``, oldest first."""
        wanted = set(track_ids)
        cameras = sorted({camera_of(t) for t in wanted})
        found: list[str] = []
        with self.db.session() as session:
            query = select(EventRow.id, EventRow.track_ids).where(EventRow.camera.in_(cameras))
            found = [event_id for event_id, tracks in session.execute(query) if wanted & set(tracks or ())]
        return self.events(found)

    def events(self, ids: Iterable[str]) -> list[Event]:
        """The stored events among ``ids``, oldest first (unknown ids are left out)."""
        wanted = list(dict.fromkeys(ids))
        rows: list[EventRow] = []
        with self.db.session() as session:
            for start in range(0, len(wanted), _CHUNK):
                rows += session.scalars(select(EventRow).where(EventRow.id.in_(wanted[start : start + _CHUNK])))
            return [to_event(r) for r in sorted(rows, key=lambda r: (r.start_utc, r.id))]

    def alerts_for(self, event_ids: Collection[str]) -> dict[str, list[str]]:
        """Alert ids by event id."""
        out: dict[str, list[str]] = {}
        ids = list(event_ids)
        with self.db.session() as session:
            for start in range(0, len(ids), _CHUNK):
                query = select(AlertRow.event_id, AlertRow.id).where(AlertRow.event_id.in_(ids[start : start + _CHUNK]))
                for event_id, alert_id in session.execute(query.order_by(AlertRow.raised_utc, AlertRow.id)):
                    out.setdefault(event_id, []).append(alert_id)
        return out

    def incidents_for(self, event_ids: Collection[str]) -> dict[str, list[str]]:
        """Incident ids by event id."""
        out: dict[str, list[str]] = {}
        ids = list(event_ids)
        with self.db.session() as session:
            for start in range(0, len(ids), _CHUNK):
                chunk = ids[start : start + _CHUNK]
                query = select(IncidentEventRow.event_id, IncidentEventRow.incident_id).where(
                    IncidentEventRow.event_id.in_(chunk)
                )
                for event_id, incident_id in session.execute(query):
                    out.setdefault(event_id, []).append(incident_id)
        return out
