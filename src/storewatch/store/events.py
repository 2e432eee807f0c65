"""Storing events: a repository (idempotent upserts keyed by event id, queries) and the one writer thread.

``EventRepository.upsert_many`` folds a batch of messages into rows with ``merge_events`` inside one transaction:
rows that exist are locked (``SELECT ... FOR UPDATE`` on PostgreSQL), merged and updated only when something
changed; new ids are inserted with ``ON CONFLICT DO NOTHING`` and, should another writer have won the race,
merged on a second pass. A replay or restart therefore never duplicates a row nor undoes a newer state.

``EventWriter`` is the single writer: it subscribes to the ``EventBus``, batches, writes, and on a transient
database error (server restarting, SQLite busy) keeps the batch and retries with backoff instead of dropping it.

>>> from datetime import UTC, datetime
>>> from storewatch.store.db import open_database
>>> from storewatch.store.migrate import upgrade
>>> db = open_database("sqlite://"); upgrade(db)
>>> repo = EventRepository(db)
>>> e = Event.start("camera.offline", "s1/c1", datetime(2026, 1, 1, tzinfo=UTC), "no frames")
>>> repo.upsert(e); repo.upsert(e.end(datetime(2026, 1, 1, 0, 5, tzinfo=UTC)))
>>> [(x.state.value, x.duration_s) for x in repo.list(store="s1")]
[('ended', 300.0)]
"""

from __future__ import annotations

import builtins
import logging
import math
import queue
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError, OperationalError, SQLAlchemyError
from sqlalchemy.exc import InterfaceError as SAInterfaceError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.orm import Session

from storewatch.core.events import Event
from storewatch.runtime.backoff import Backoff
from storewatch.runtime.bus import EventBus
from storewatch.store.db import Database
from storewatch.store.merge import merge_events
from storewatch.store.models import EventRow
from storewatch.store.types import utcnow

log = logging.getLogger(__name__)

MAX_LIMIT = 1000
_CHUNK = 500  # ids per IN (...) query


class EventRepository:
    """Events in the database, one row per event id."""

    def __init__(self, database: Database) -> None:
        self.db = database

    def upsert(self, event: Event) -> None:
        """Store one message of an event (its own transaction)."""
        self.upsert_many([event])

    def upsert_many(self, events: Iterable[Event]) -> int:
        """Store messages in one transaction; returns how many rows were inserted or changed."""
        folded: dict[str, Event] = {}
        for e in events:
            folded[e.id] = merge_events(folded[e.id], e) if e.id in folded else e
        changed = 0
        with self.db.write_session() as session:
            for start in range(0, len(folded), _CHUNK):
                chunk = dict(list(folded.items())[start : start + _CHUNK])
                found, n_merged = self._merge_existing(session, chunk)
                inserted = self._insert_new(session, [e for i, e in chunk.items() if i not in found])
                raced = {i: e for i, e in chunk.items() if i not in found and i not in inserted}
                changed += n_merged + len(inserted) + (self._merge_existing(session, raced)[1] if raced else 0)
        return changed

    def get(self, event_id: str) -> Event | None:
        """The event with this id, its messages merged; None if never stored."""
        with self.db.session() as session:
            row = session.get(EventRow, event_id)
            return None if row is None else to_event(row)

    def list(
        self,
        store: str | None = None,
        camera: str | None = None,
        type: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> builtins.list[Event]:
        """Events newest first (by start), filtered by store, camera (``store/camera``), type and start time
        (``since`` inclusive, ``until`` exclusive); ``limit`` at most 1000."""
        if not 1 <= limit <= MAX_LIMIT or offset < 0:
            raise ValueError(f"need 1 <= limit <= {MAX_LIMIT} and offset >= 0, got {limit}, {offset}")
        query = _filtered(select(EventRow), store, camera, type, since, until)
        query = query.order_by(EventRow.start_utc.desc(), EventRow.id).limit(limit).offset(offset)
        with self.db.session() as session:
            return [to_event(row) for row in session.scalars(query)]

    def count(
        self,
        store: str | None = None,
        camera: str | None = None,
        type: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> int:
        """How many events ``list`` would page through."""
        query = _filtered(select(func.count()).select_from(EventRow), store, camera, type, since, until)
        with self.db.session() as session:
            return int(session.scalar(query) or 0)

    def _merge_existing(self, session: Session, chunk: dict[str, Event]) -> tuple[set[str], int]:
        """Merge into the rows that exist; returns their ids and how many changed."""
        query = select(EventRow).where(EventRow.id.in_(chunk)).with_for_update()
        rows = session.scalars(query).all()
        changed = 0
        for row in rows:
            stored = to_event(row)
            merged = merge_events(stored, chunk[row.id])
            if merged != stored:
                _apply(row, merged)
                row.updated_utc = utcnow()
                changed += 1
        return {row.id for row in rows}, changed

    def _insert_new(self, session: Session, events: Sequence[Event]) -> set[str]:
        """Insert rows for new ids; returns the ids inserted (others were inserted meanwhile by someone else)."""
        if not events:
            return set()
        dialect = postgresql if self.db.backend == "postgresql" else sqlite
        now = utcnow()
        rows = [{**_columns(e), "stored_utc": now, "updated_utc": now} for e in events]
        stmt = dialect.insert(EventRow).values(rows).on_conflict_do_nothing(index_elements=["id"])
        return set(session.scalars(stmt.returning(EventRow.id)))


def _filtered(
    query: Select[Any],
    store: str | None,
    camera: str | None,
    type_: str | None,
    since: datetime | None,
    until: datetime | None,
) -> Select[Any]:
    if store is not None:
        query = query.where(EventRow.store == store)
    if camera is not None:
        query = query.where(EventRow.camera == camera)
    if type_ is not None:
        query = query.where(EventRow.type == type_)
    if since is not None:
        query = query.where(EventRow.start_utc >= since)
    if until is not None:
        query = query.where(EventRow.start_utc < until)
    return query


def _columns(e: Event) -> dict[str, Any]:
    return {
        "id": e.id,
        "type": e.type,
        "severity": e.severity,
        "state": e.state,
        "store": e.store,
        "camera": str(e.camera),
        "zone": e.zone,
        "track_ids": list(e.track_ids),
        "start_utc": e.start_utc,
        "end_utc": e.end_utc,
        "start_s": e.start_s,
        "end_s": e.end_s,
        "values": {k: _json_safe(v) for k, v in e.values.items()},
        "explanation": e.explanation,
        "evidence": dict(e.evidence),
    }


def _json_safe(value: float | int | str | bool) -> float | int | str | bool:
    """NaN and infinities are not JSON (PostgreSQL refuses them): stored as the strings ``nan``, ``inf``."""
    return str(value) if isinstance(value, float) and not math.isfinite(value) else value


def _apply(row: EventRow, e: Event) -> None:
    for key, value in _columns(e).items():
        if key != "id":
            setattr(row, key, value)


def to_event(row: EventRow) -> Event:
    """The ``Event`` a row holds."""
    return Event(
        id=row.id,
        type=row.type,
        severity=row.severity,
        state=row.state,
        camera=row.camera,
        zone=row.zone,
        track_ids=tuple(row.track_ids),
        start_utc=row.start_utc,
        end_utc=row.end_utc,
        start_s=row.start_s,
        end_s=row.end_s,
        values=row.values,
        explanation=row.explanation,
        evidence=row.evidence,
    )


def is_transient(exc: BaseException) -> bool:
    """Whether retrying may succeed: the connection or the server failed, not the data."""
    if isinstance(exc, OperationalError | SAInterfaceError | PoolTimeoutError):
        return True
    return isinstance(exc, DBAPIError) and exc.connection_invalidated


class EventWriter:
    """The one thread that writes events: subscribes to ``bus`` (a bounded drop-oldest queue named ``name``),
    writes batches of up to ``batch_size`` messages, at most ``max_wait_s`` after the first one arrived.

    A transient database error keeps the batch and retries with backoff (forever while running; until the
    ``stop`` deadline when stopping). A batch the database refuses is retried one event at a time, so one bad
    event is counted in ``failed`` and logged with its id, and the rest are written.
    """

    def __init__(
        self,
        bus: EventBus,
        database: Database,
        *,
        name: str = "store",
        queue_size: int = 10_000,
        batch_size: int = 200,
        max_wait_s: float = 0.2,
        backoff: Backoff | None = None,
    ) -> None:
        self.repository = EventRepository(database)
        self.bus, self.name = bus, name
        self.batch_size, self.max_wait_s = batch_size, max_wait_s
        self.backoff = backoff or Backoff(initial_s=0.05, max_s=5.0)
        self.inbox = bus.subscribe(name, maxsize=queue_size)
        self.written = self.failed = self.retries = self._taken = 0
        self._stopping = threading.Event()
        self._wake = threading.Event()
        self._deadline: float | None = None
        self._idle = threading.Condition()
        self._thread: threading.Thread | None = None
        self._listeners: builtins.list[Callable[[Sequence[Event]], None]] = []

    def on_stored(self, listener: Callable[[Sequence[Event]], None]) -> None:
        """Call ``listener`` with each batch once it is committed (on the writer's thread: keep it quick, e.g. put
        the events on a queue). Who needs an event to be in the database (an incident linking to it) listens
        here rather than on the bus."""
        self._listeners.append(listener)

    def _stored(self, batch: Sequence[Event]) -> None:
        for listener in self._listeners:
            try:
                listener(batch)
            except Exception:  # a listener's bug must not stop the writer
                log.exception("event writer: a listener failed")

    def start(self) -> None:
        if self._thread is not None:
            raise RuntimeError("the event writer was started already")
        self._thread = threading.Thread(target=self._run, name=f"event-writer-{self.name}", daemon=True)
        self._thread.start()

    def stop(self, timeout_s: float = 30.0) -> bool:
        """Write what is queued, then stop and unsubscribe; True when everything was written in time."""
        # The writer gives up retrying a little before the deadline, so the join sees it finish.
        self._deadline = time.monotonic() + 0.9 * timeout_s
        self._stopping.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout_s)
        self.bus.unsubscribe(self.name)
        return not (self._thread is not None and self._thread.is_alive()) and len(self.inbox) == 0

    def wait_idle(self, timeout_s: float) -> bool:
        """Wait until every message received so far is written (or failed); False on timeout."""
        with self._idle:
            return self._idle.wait_for(
                lambda: len(self.inbox) == 0 and self._taken == self.written + self.failed, timeout_s
            )

    def stats(self) -> dict[str, int]:
        return {
            "written": self.written,
            "failed": self.failed,
            "retries": self.retries,
            "queued": len(self.inbox),
            "dropped": self.inbox.dropped,
        }

    def _run(self) -> None:
        while True:
            batch = self._collect()
            if batch:
                self._write(batch)
                with self._idle:
                    self._idle.notify_all()
            elif self._stopping.is_set():
                return

    def _collect(self) -> builtins.list[Event]:
        batch: builtins.list[Event] = []
        wait_until = time.monotonic() + (0.0 if self._stopping.is_set() else self.max_wait_s)
        while len(batch) < self.batch_size:
            try:
                timeout = 0.0 if batch and self._stopping.is_set() else max(0.0, wait_until - time.monotonic())
                batch.append(self.inbox.get(timeout=timeout if batch else max(timeout, 0.05)))
            except queue.Empty:
                break
        self._taken += len(batch)
        return batch

    def _write(self, batch: builtins.list[Event]) -> None:
        attempt = 0
        while True:
            try:
                self.repository.upsert_many(batch)
            except SQLAlchemyError as exc:
                if not is_transient(exc):
                    self._isolate(batch, exc)
                    return
                if self._deadline is not None and time.monotonic() >= self._deadline:
                    self.failed += len(batch)
                    log.error(
                        "event writer stopping: %d events not written (database unavailable: %s)", len(batch), exc
                    )
                    return
                self.retries += 1
                delay = min(self.backoff.next_delay(), self._remaining_s())
                if attempt % 10 == 0:
                    log.warning(
                        "event writer: database unavailable (%s: %s); retrying %d events (attempt %d)",
                        type(exc).__name__,
                        str(exc).splitlines()[0],
                        len(batch),
                        attempt + 1,
                    )
                attempt += 1
                self._wake.wait(delay)  # stop() wakes a long backoff so the deadline is kept
                self._wake.clear()
            else:
                self.backoff.reset()
                self.written += len(batch)
                self._stored(batch)
                return

    def _remaining_s(self) -> float:
        return float("inf") if self._deadline is None else max(0.0, self._deadline - time.monotonic())

    def _isolate(self, batch: builtins.list[Event], exc: SQLAlchemyError) -> None:
        if len(batch) == 1:
            e = batch[0]
            self.failed += 1
            log.error("event writer: event %s (%s, %s) refused by the database: %s", e.id, e.type, e.camera, exc)
            return
        for e in batch:
            self._write([e])
