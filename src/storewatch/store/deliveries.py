"""The alert delivery log in the database, so pending deliveries and dead letters outlive the process.

``SqlDeliveryLog`` is the ``DeliveryLog`` (``alerts/log.py``) of ``storewatch run``: one row per delivery in
``deliveries`` (the ``AlertMessage`` as JSON), every attempt in ``delivery_attempts``. It behaves as
``InMemoryDeliveryLog`` does, except that nothing is forgotten on its own: delivered rows stay until
``purge_finished`` removes them (retention calls it), dead ones until they are re-sent or purged explicitly. A
``Deliverer`` started later on the same database (after a restart, or a crash) carries on with what is pending,
and ``storewatch alerts resend`` in another process marks a dead letter pending for the running one to pick up.

Every call is its own short transaction on its own session, so the log is safe to call from the ``Deliverer``'s
worker threads. Each write starts with its write statement (an upsert, or ``UPDATE ... RETURNING``) rather than a
read, so SQLite takes its write lock at once and waits (busy timeout) instead of failing a read-then-write
upgrade. A transient database error (SQLite busy past the timeout, a PostgreSQL restart) is retried with backoff
for up to ``retry_s``: losing a write here would lose an alert, and the caller is a channel's worker thread, never
the detector's. Caveat: when a commit fails in a way that hides whether it happened, a retried
``record_attempt`` may log that attempt twice (harmless for delivery: the status it writes is the same).

In-memory SQLite (``sqlite://``) shares one connection between threads: fine for a doctest, not for a Deliverer.

>>> from datetime import UTC, datetime
>>> from storewatch.alerts.log import Attempt, Delivery, DeliveryStatus
>>> from storewatch.core.events import Event
>>> from storewatch.store.db import open_database
>>> from storewatch.store.migrate import upgrade
>>> db = open_database("sqlite://"); upgrade(db)
>>> t = datetime(2026, 1, 1, tzinfo=UTC)
>>> alert = AlertMessage.from_event(Event(id="e1", type="demo", camera="s1/c1", explanation="x", start_utc=t))
>>> log = SqlDeliveryLog(db)
>>> log.add(Delivery("d1", "ops", alert, created_at=t, due_at=t))
>>> [d.id for d in log.pending_due("ops", t)]
['d1']
>>> log.record_attempt("d1", Attempt(1, t, ok=False, error="HTTP 404"), DeliveryStatus.DEAD, None).status
<DeliveryStatus.DEAD: 'dead'>
>>> [d.id for d in log.dead()], log.mark_resend("d1", t).attempts, log.dead()
(['d1'], 0, [])
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Select, delete, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError

from storewatch.alerts.log import Attempt, Delivery, DeliveryStatus
from storewatch.alerts.message import AlertMessage
from storewatch.runtime.backoff import Backoff
from storewatch.store.db import Database
from storewatch.store.events import is_transient
from storewatch.store.models import DeliveryAttemptRow, DeliveryRow
from storewatch.store.types import utcnow

log = logging.getLogger(__name__)

T = TypeVar("T")


class SqlDeliveryLog:
    """A ``DeliveryLog`` in the database: ``deliveries`` and ``delivery_attempts`` (see the module docstring).

    ``now`` stamps ``updated_utc`` (when a row last changed: for a finished delivery, when it finished), which
    ``dead()`` orders by and ``purge_finished`` compares with.
    """

    def __init__(self, database: Database, *, retry_s: float = 10.0, now: Callable[[], datetime] = utcnow) -> None:
        self.db = database
        self.retry_s = retry_s
        self._now = now

    # --- the DeliveryLog Protocol -----------------------------------------------------------------------------
    def add(self, delivery: Delivery) -> None:
        """Insert ``delivery`` (or overwrite the row with its id; its attempts are kept)."""
        values = _columns(delivery) | {"updated_utc": self._now()}
        dialect = postgresql if self.db.backend == "postgresql" else sqlite
        stmt = dialect.insert(DeliveryRow).values(values)
        stmt = stmt.on_conflict_do_update(
            index_elements=[DeliveryRow.id], set_={k: v for k, v in values.items() if k != "id"}
        )

        def write() -> None:
            with self.db.session() as session:
                session.execute(stmt)

        self._retrying("add", write)

    def record_attempt(
        self, delivery_id: str, attempt: Attempt, status: DeliveryStatus, due_at: datetime | None
    ) -> Delivery:
        """Log ``attempt`` and set the delivery's status, attempt count, due time and last error; ``KeyError``
        for an unknown id."""
        stmt = (
            update(DeliveryRow)
            .where(DeliveryRow.id == delivery_id)
            .values(status=status, attempts=attempt.number, due_utc=due_at, last_error=attempt.error)
            .returning(DeliveryRow)
        )

        def write() -> Delivery:
            with self.db.session() as session:
                row = session.scalars(stmt.values(updated_utc=self._now())).one_or_none()
                if row is None:
                    raise KeyError(delivery_id)
                session.add(
                    DeliveryAttemptRow(
                        delivery_id=delivery_id, number=attempt.number, at_utc=attempt.at, ok=attempt.ok,
                        error=attempt.error,
                    )
                )  # fmt: skip
                return to_delivery(row)

        return self._retrying("record_attempt", write)

    def pending_due(self, channel: str, now: datetime, limit: int = 100) -> list[Delivery]:
        """Pending deliveries of ``channel`` due at ``now``, the earliest due (then the oldest) first; a range
        scan of the index (channel, status, due_utc)."""
        query = (
            select(DeliveryRow)
            .where(
                DeliveryRow.channel == channel,
                DeliveryRow.status == DeliveryStatus.PENDING,
                DeliveryRow.due_utc <= now,
            )
            .order_by(DeliveryRow.due_utc, DeliveryRow.created_utc, DeliveryRow.id)
            .limit(limit)
        )
        return self._retrying("pending_due", lambda: self._deliveries(query))

    def next_due(self, channel: str) -> datetime | None:
        query = select(func.min(DeliveryRow.due_utc)).where(
            DeliveryRow.channel == channel, DeliveryRow.status == DeliveryStatus.PENDING
        )

        def read() -> datetime | None:
            with self.db.session() as session:
                return session.scalar(query)  # min() keeps the column's type: timezone-aware UTC

        return self._retrying("next_due", read)

    def dead(self, channel: str | None = None) -> list[Delivery]:
        """The dead letters (of one channel, or all), in the order they died."""
        query = select(DeliveryRow).where(DeliveryRow.status == DeliveryStatus.DEAD)
        if channel is not None:
            query = query.where(DeliveryRow.channel == channel)
        query = query.order_by(DeliveryRow.updated_utc, DeliveryRow.id)
        return self._retrying("dead", lambda: self._deliveries(query))

    def mark_resend(self, delivery_id: str, now: datetime) -> Delivery:
        """A dead delivery back to pending, due ``now``, with a fresh round of attempts (history kept);
        ``KeyError`` for an unknown id, ``ValueError`` for one that is not dead."""
        stmt = (
            update(DeliveryRow)
            .where(DeliveryRow.id == delivery_id, DeliveryRow.status == DeliveryStatus.DEAD)
            .values(status=DeliveryStatus.PENDING, attempts=0, due_utc=now)
            .returning(DeliveryRow)
        )

        def write() -> Delivery:
            with self.db.session() as session:
                row = session.scalars(stmt.values(updated_utc=self._now())).one_or_none()
                if row is not None:
                    return to_delivery(row)
                found = session.scalar(select(DeliveryRow.status).where(DeliveryRow.id == delivery_id))
            if found is None:
                raise KeyError(f"no delivery {delivery_id!r} (unknown, or purged from the delivery log)")
            raise ValueError(f"delivery {delivery_id} is {found.value}; only dead deliveries are re-sent")

        return self._retrying("mark_resend", write)

    def get(self, delivery_id: str) -> Delivery | None:
        def read() -> Delivery | None:
            with self.db.session() as session:
                row = session.get(DeliveryRow, delivery_id)
                return None if row is None else to_delivery(row)

        return self._retrying("get", read)

    def attempts(self, delivery_id: str) -> list[Attempt]:
        """Every attempt of the delivery, in the order they were made (all rounds)."""
        query = (
            select(DeliveryAttemptRow)
            .where(DeliveryAttemptRow.delivery_id == delivery_id)
            .order_by(DeliveryAttemptRow.id)
        )

        def read() -> list[Attempt]:
            with self.db.session() as session:
                return [Attempt(r.number, r.at_utc, r.ok, r.error) for r in session.scalars(query)]

        return self._retrying("attempts", read)

    # --- retention ----------------------------------------------------------------------------------------------
    def purge_finished(self, older_than: datetime, *, dead: bool = False) -> int:
        """Delete delivered deliveries (and, with ``dead=True``, dead ones too) whose last change is before
        ``older_than``, with their attempts; returns how many deliveries went. Pending ones are never purged."""
        statuses = [DeliveryStatus.DELIVERED, *([DeliveryStatus.DEAD] if dead else [])]
        finished = select(DeliveryRow.id).where(DeliveryRow.status.in_(statuses), DeliveryRow.updated_utc < older_than)

        def write() -> int:
            with self.db.session() as session:
                # The attempts first, explicitly: not every connection to SQLite has foreign keys (and cascades) on.
                session.execute(delete(DeliveryAttemptRow).where(DeliveryAttemptRow.delivery_id.in_(finished)))
                gone = session.execute(
                    delete(DeliveryRow).where(DeliveryRow.id.in_(finished)).returning(DeliveryRow.id)
                )
                return len(gone.all())

        return self._retrying("purge_finished", write)

    # --- helpers ----------------------------------------------------------------------------------------------
    def _deliveries(self, query: Select[DeliveryRow]) -> list[Delivery]:
        with self.db.session() as session:
            return [to_delivery(row) for row in session.scalars(query)]

    def _retrying(self, what: str, call: Callable[[], T]) -> T:
        """``call()``, retried with backoff on transient database errors for up to ``retry_s``."""
        deadline = time.monotonic() + self.retry_s
        backoff = Backoff(initial_s=0.05, max_s=2.0)
        while True:
            try:
                return call()
            except SQLAlchemyError as exc:
                delay = backoff.next_delay()
                if not is_transient(exc) or time.monotonic() + delay > deadline:
                    raise
                log.warning("delivery log %s: database unavailable (%s); retrying", what, type(exc).__name__)
                time.sleep(delay)


def to_delivery(row: DeliveryRow) -> Delivery:
    """The ``Delivery`` a row holds."""
    return Delivery(
        id=row.id,
        channel=row.channel,
        message=AlertMessage.model_validate(row.message),
        created_at=row.created_utc,
        status=row.status,
        attempts=row.attempts,
        due_at=row.due_utc,
        last_error=row.last_error,
    )


def _columns(d: Delivery) -> dict[str, Any]:
    return {
        "id": d.id,
        "channel": d.channel,
        "event_id": d.message.event_id,
        "status": d.status,
        "attempts": d.attempts,
        "due_utc": d.due_at,
        "last_error": d.last_error,
        "message": _json_safe(d.message.model_dump(mode="json")),
        "created_utc": d.created_at,
    }


def _json_safe(value: Any) -> Any:
    """NaN and infinities are not JSON (PostgreSQL refuses them): stored as the strings ``nan``, ``inf``, as the
    event store does; an alert's ``values`` accept strings, so the message still loads."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_safe(v) for v in value]
    return value
