"""Alerts in the database: raised by the router, escalated, acknowledged (or called a false alarm) from anywhere.

The router (``runtime.alerting``) keeps escalation timers in memory and writes every step here, so that the
dashboard, the API, the signed link or another process can acknowledge an alert (``acknowledge`` is one
conditional UPDATE: of two people acknowledging at once, exactly one wins), the router learns of it within a
second (``statuses``) and stops escalating, and after a restart the alerts still waiting are picked up again
(``waiting``).

>>> from datetime import UTC, datetime
>>> from storewatch.core.events import Event
>>> from storewatch.store.db import open_database
>>> from storewatch.store.migrate import upgrade
>>> db = open_database("sqlite://"); upgrade(db)
>>> repo = AlertRepository(db)
>>> t = datetime(2026, 3, 2, 12, tzinfo=UTC)
>>> e = Event.start("walk_out", "s1/door", t, "left with unpaid goods")
>>> repo.raise_alert("a1", e, "guards", t)
'a1'
>>> repo.acknowledge("a1", "guard-7", t.replace(second=42)).time_to_ack_s
42.0
>>> repo.acknowledge("a1", "guard-8", t)  # doctest: +IGNORE_EXCEPTION_DETAIL
Traceback (most recent call last):
...
AlertNotWaitingError: alert a1 was acknowledged already (by guard-7)
"""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from storewatch.core.events import Event, Severity
from storewatch.errors import StorewatchError
from storewatch.store.db import Database
from storewatch.store.models import AlertRow, AlertStatus

MAX_LIMIT = 1000


class AlertNotFoundError(StorewatchError):
    """No alert has that id."""


class AlertNotWaitingError(StorewatchError):
    """The alert was acknowledged (or called a false alarm) already."""


@dataclass(frozen=True, slots=True)
class AlertRecord:
    id: str
    event_id: str
    route: str
    store: str
    camera: str
    event_type: str
    severity: Severity
    status: AlertStatus
    level: int
    raised: datetime
    last_sent: datetime | None
    acknowledged: datetime | None
    acknowledged_by: str | None
    time_to_ack_s: float | None
    false_alarm_reason: str | None

    @classmethod
    def of(cls, r: AlertRow) -> AlertRecord:
        return cls(r.id, r.event_id, r.route, r.store, r.camera, r.event_type, r.severity, r.status, r.level,
                   r.raised_utc, r.last_sent_utc, r.acknowledged_utc, r.acknowledged_by, r.time_to_ack_s,
                   r.false_alarm_reason)  # fmt: skip


class AlertRepository:
    def __init__(self, database: Database) -> None:
        self.db = database

    def raise_alert(self, alert_id: str, event: Event, route: str, at: datetime) -> str:
        """Record a new alert; returns its id, or the id of the alert already raised for this event and route
        (a replayed event does not raise a second one)."""
        try:
            with self.db.session() as session:
                session.add(AlertRow(id=alert_id, event_id=event.id, route=route, store=event.store,
                                     camera=str(event.camera), event_type=event.type, severity=event.severity,
                                     status=AlertStatus.WAITING, level=0, raised_utc=at, last_sent_utc=at))  # fmt: skip
            return alert_id
        except IntegrityError:
            with self.db.session() as session:
                query = select(AlertRow.id).where(AlertRow.event_id == event.id, AlertRow.route == route)
                found = session.scalar(query)
            if found is None:
                raise
            return found

    def escalated(self, alert_id: str, level: int, at: datetime) -> None:
        with self.db.session() as session:
            session.execute(update(AlertRow).where(AlertRow.id == alert_id, AlertRow.status == AlertStatus.WAITING)
                            .values(level=level, last_sent_utc=at))  # fmt: skip

    def acknowledge(self, alert_id: str, by: str, at: datetime, false_alarm_reason: str | None = None) -> AlertRecord:
        """Acknowledge a waiting alert (or, with a reason, call it a false alarm); exactly one caller wins."""
        reason = (false_alarm_reason or "").strip() or None
        if false_alarm_reason is not None and reason is None:
            raise StorewatchError("a false alarm needs a reason (what it really was)")
        status = AlertStatus.FALSE_ALARM if reason else AlertStatus.ACKNOWLEDGED
        with self.db.write_session() as session:
            row = session.get(AlertRow, alert_id)
            if row is None:
                raise AlertNotFoundError(f"no alert has the id {alert_id!r}")
            took = max(0.0, (at - row.raised_utc).total_seconds())
            done = session.execute(
                update(AlertRow)
                .where(AlertRow.id == alert_id, AlertRow.status == AlertStatus.WAITING)
                .values(
                    status=status,
                    acknowledged_utc=at,
                    acknowledged_by=by,
                    time_to_ack_s=round(took, 3),
                    false_alarm_reason=reason,
                )
                .execution_options(synchronize_session=False)
            )
            if done.rowcount != 1:  # type: ignore[attr-defined]
                session.refresh(row)
                what = "called a false alarm" if row.status == AlertStatus.FALSE_ALARM else "acknowledged"
                raise AlertNotWaitingError(f"alert {alert_id} was {what} already (by {row.acknowledged_by})")
            session.refresh(row)
            return AlertRecord.of(row)

    def get(self, alert_id: str) -> AlertRecord | None:
        with self.db.session() as session:
            row = session.get(AlertRow, alert_id)
            return None if row is None else AlertRecord.of(row)

    def statuses(self, alert_ids: Sequence[str]) -> dict[str, AlertStatus]:
        if not alert_ids:
            return {}
        with self.db.session() as session:
            query = select(AlertRow.id, AlertRow.status).where(AlertRow.id.in_(list(alert_ids)))
            return {i: s for i, s in session.execute(query)}

    def waiting(self, since: datetime) -> builtins.list[AlertRecord]:
        """Alerts raised since ``since`` that nobody has acknowledged, oldest first."""
        query = (select(AlertRow).where(AlertRow.status == AlertStatus.WAITING, AlertRow.raised_utc >= since)
                 .order_by(AlertRow.raised_utc))  # fmt: skip
        with self.db.session() as session:
            return [AlertRecord.of(r) for r in session.scalars(query)]

    def list(
        self,
        *,
        store: str | Sequence[str] | None = None,
        status: AlertStatus | None = None,
        since: datetime | None = None,
        limit: int = 100,
    ) -> builtins.list[AlertRecord]:
        """Newest first."""
        if not 1 <= limit <= MAX_LIMIT:
            raise ValueError(f"limit must be 1..{MAX_LIMIT}, not {limit}")
        query = select(AlertRow)
        if store is not None:
            query = query.where(AlertRow.store.in_([store] if isinstance(store, str) else list(store)))
        if status is not None:
            query = query.where(AlertRow.status == status)
        if since is not None:
            query = query.where(AlertRow.raised_utc >= since)
        query = query.order_by(AlertRow.raised_utc.desc(), AlertRow.id).limit(limit)
        with self.db.session() as session:
            return [AlertRecord.of(r) for r in session.scalars(query)]
