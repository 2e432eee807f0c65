"""Incidents in the database: the workflow's ``Incident`` stored, read back, changed safely by several processes.

``save`` writes an ``Incident`` (``incidents.workflow``): the row's fields, the timeline entries not stored yet
(the timeline is append-only, so what is stored is always a prefix of it) and new links to events. ``change(id,
fn)`` is how anything changes a stored incident: it reads it, applies ``fn`` (a workflow move, a note...) and saves,
in one transaction; should another process have written in between (SQLite refuses a stale write, PostgreSQL locks
the row with ``FOR UPDATE``), it starts again from a fresh read. The chain of custody (who created, viewed,
exported) is appended with ``record_custody`` and read with ``custody``.

>>> from datetime import UTC, datetime
>>> from storewatch.store.db import open_database
>>> from storewatch.store.migrate import upgrade
>>> from storewatch.incidents.workflow import Incident, IncidentState
>>> db = open_database("sqlite://"); upgrade(db)
>>> repo = IncidentRepository(db)
>>> t = datetime(2026, 3, 2, 12, tzinfo=UTC)
>>> repo.save(Incident.open("i1", "s1", t, "loitering at electronics"))
>>> repo.change("i1", lambda i: i.move(IncidentState.RESOLVED, "ana", t)).state.value
'resolved'
>>> [e.kind for e in repo.get("i1").timeline]
['opened', 'resolved']
"""

from __future__ import annotations

import builtins
import time
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from storewatch.core.events import Event
from storewatch.errors import StorewatchError
from storewatch.incidents.workflow import Incident, IncidentState, TimelineEntry
from storewatch.store.db import Database
from storewatch.store.events import EventRepository
from storewatch.store.models import CustodyAction, CustodyRow, IncidentEventRow, IncidentRow, TimelineRow

MAX_LIMIT = 1000
_RETRIES = 8


class IncidentNotFoundError(StorewatchError):
    """No incident has that id (in the stores the caller may see)."""


class IncidentRepository:
    def __init__(self, database: Database) -> None:
        self.db = database

    # --- writing ------------------------------------------------------------------------------------------
    def save(self, incident: Incident) -> None:
        with self.db.write_session() as session:
            self._save(session, incident)

    def change(self, incident_id: str, fn: Callable[[Incident], Incident]) -> Incident:
        """Apply ``fn`` to the stored incident and store the result, atomically; returns the new incident.
        ``fn``'s own errors (a move the workflow forbids) pass through unchanged."""
        for attempt in range(_RETRIES):
            try:
                with self.db.write_session() as session:
                    current = self._load(session, incident_id, lock=True)
                    if current is None:
                        raise IncidentNotFoundError(f"no incident has the id {incident_id!r}")
                    changed = fn(current)
                    if changed is not current:
                        self._save(session, changed)
                    return changed
            except OperationalError:  # another writer won (SQLite: stale snapshot or busy): read again
                if attempt == _RETRIES - 1:
                    raise
                time.sleep(0.02 * 2**attempt)
        raise AssertionError("unreachable")

    def record_custody(
        self, incident_id: str, actor: str, action: CustodyAction, detail: dict[str, Any] | None = None
    ) -> None:
        with self.db.write_session() as session:
            if session.get(IncidentRow, incident_id) is None:
                raise IncidentNotFoundError(f"no incident has the id {incident_id!r}")
            session.add(CustodyRow(incident_id=incident_id, actor=actor, action=action, detail=detail or {}))

    def _save(self, session: Session, incident: Incident) -> None:
        row = session.get(IncidentRow, incident.id)
        if row is None:
            row = IncidentRow(id=incident.id, created_utc=incident.created)
            session.add(row)
        row.store, row.camera, row.zone, row.title = incident.store, incident.camera, incident.zone, incident.title
        row.state, row.assignee, row.tags = incident.state, incident.assignee, list(incident.tags)
        row.loss_value_minor, row.loss_currency = incident.loss_minor, incident.currency
        row.legal_hold, row.false_alarm_reason = incident.legal_hold, incident.false_alarm_reason
        row.updated_utc, row.resolved_utc = incident.updated, incident.resolved
        session.flush()
        stored = session.scalar(select(func.count()).where(TimelineRow.incident_id == incident.id)) or 0
        for entry in incident.timeline[stored:]:
            session.add(TimelineRow(incident_id=incident.id, at_utc=entry.at, actor=entry.actor, kind=entry.kind,
                                    text=entry.text))  # fmt: skip
        linked = set(
            session.scalars(select(IncidentEventRow.event_id).where(IncidentEventRow.incident_id == incident.id))
        )
        for event_id in incident.event_ids:
            if event_id not in linked:
                session.add(IncidentEventRow(incident_id=incident.id, event_id=event_id, linked_utc=incident.updated))

    # --- reading ------------------------------------------------------------------------------------------
    def get(self, incident_id: str) -> Incident | None:
        with self.db.session() as session:
            return self._load(session, incident_id)

    def _load(self, session: Session, incident_id: str, lock: bool = False) -> Incident | None:
        query = select(IncidentRow).where(IncidentRow.id == incident_id)
        row = session.scalar(query.with_for_update() if lock and self.db.engine.dialect.name != "sqlite" else query)
        if row is None:
            return None
        return self._incidents(session, [row])[0]

    def list(
        self,
        *,
        store: str | Sequence[str] | None = None,
        state: IncidentState | Sequence[IncidentState] | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 100,
    ) -> builtins.list[Incident]:
        """Newest first; ``store``/``state`` take one value or several."""
        if not 1 <= limit <= MAX_LIMIT:
            raise ValueError(f"limit must be 1..{MAX_LIMIT}, not {limit}")
        query = select(IncidentRow)
        if store is not None:
            query = query.where(IncidentRow.store.in_([store] if isinstance(store, str) else list(store)))
        if state is not None:
            states = [state] if isinstance(state, IncidentState) else list(state)
            query = query.where(IncidentRow.state.in_([s.value for s in states]))
        if since is not None:
            query = query.where(IncidentRow.created_utc >= since)
        if until is not None:
            query = query.where(IncidentRow.created_utc < until)
        query = query.order_by(IncidentRow.created_utc.desc(), IncidentRow.id).limit(limit)
        with self.db.session() as session:
            return self._incidents(session, builtins.list(session.scalars(query)))

    def open_incidents(self) -> builtins.list[tuple[Incident, builtins.list[Event]]]:
        """Every incident not closed, with its events (for grouping to carry on after a restart)."""
        found = self.list(state=[IncidentState.OPEN, IncidentState.ACKNOWLEDGED, IncidentState.INVESTIGATING],
                          limit=MAX_LIMIT)  # fmt: skip
        events = EventRepository(self.db)
        return [(i, [e for e in (events.get(x) for x in i.event_ids) if e is not None]) for i in found]

    def resolve_id(self, prefix: str) -> str:
        """The full id of the incident whose id is ``prefix`` or starts with it (at least 6 characters)."""
        if not prefix or len(prefix) > 32 or not all(c.isalnum() or c in "-_" for c in prefix):
            raise IncidentNotFoundError(f"{prefix!r} is not an incident id")
        with self.db.session() as session:
            if session.get(IncidentRow, prefix) is not None:
                return prefix
            if len(prefix) < 6:
                raise IncidentNotFoundError(f"no incident has the id {prefix!r} (give at least 6 characters)")
            query = select(IncidentRow.id).where(IncidentRow.id.startswith(prefix, autoescape=True)).limit(2)
            found = builtins.list(session.scalars(query))
        if len(found) != 1:
            what = "no incident's id starts" if not found else "more than one incident's id starts"
            raise IncidentNotFoundError(f"{what} with {prefix!r}", fix="`storewatch incidents list` shows the ids")
        return found[0]

    def for_event(self, event_id: str) -> builtins.list[str]:
        """Ids of the incidents an event belongs to."""
        with self.db.session() as session:
            query = select(IncidentEventRow.incident_id).where(IncidentEventRow.event_id == event_id)
            return builtins.list(session.scalars(query))

    def custody(self, incident_id: str) -> builtins.list[dict[str, Any]]:
        """The chain of custody, oldest first, JSON-ready."""
        query = select(CustodyRow).where(CustodyRow.incident_id == incident_id).order_by(CustodyRow.id)
        with self.db.session() as session:
            return [{"action": r.action.value, "actor": r.actor, "at_utc": r.at_utc.isoformat(), **r.detail}
                    for r in session.scalars(query)]  # fmt: skip

    def _incidents(self, session: Session, rows: builtins.list[IncidentRow]) -> builtins.list[Incident]:
        ids = [r.id for r in rows]
        if not ids:
            return []
        timelines: dict[str, builtins.list[TimelineEntry]] = {i: [] for i in ids}
        query = select(TimelineRow).where(TimelineRow.incident_id.in_(ids)).order_by(TimelineRow.id)
        for t in session.scalars(query):
            timelines[t.incident_id].append(TimelineEntry(t.at_utc, t.actor, t.kind, t.text))
        links: dict[str, builtins.list[tuple[datetime, str]]] = {i: [] for i in ids}
        for link in session.scalars(select(IncidentEventRow).where(IncidentEventRow.incident_id.in_(ids))):
            links[link.incident_id].append((link.linked_utc, link.event_id))
        return [
            Incident(
                id=r.id, store=r.store, state=r.state, title=r.title, created=r.created_utc, updated=r.updated_utc,
                assignee=r.assignee, tags=tuple(r.tags), loss_minor=r.loss_value_minor, currency=r.loss_currency,
                event_ids=tuple(e for _, e in sorted(links[r.id])), timeline=tuple(timelines[r.id]),
                false_alarm_reason=r.false_alarm_reason, camera=r.camera, zone=r.zone, legal_hold=r.legal_hold,
                resolved=r.resolved_utc,
            )
            for r in rows
        ]  # fmt: skip
