"""The edge's outbox: every message for the hub, in the edge's database, until the transport has it acknowledged.

This is the store-and-forward: the hub (or the network, or NATS) may be away for hours; the messages wait on disk,
survive a restart, and leave in the order they were made. ``add`` numbers each message within its (store, camera)
stream in the same transaction that stores it (``sync_sequences`` keeps the numbering when sent rows are pruned);
``pending`` gives the oldest unsent as envelopes (same id on every attempt, so re-sending is harmless);
``mark_sent`` after the transport's acknowledgement; ``mark_dead`` for a message the other side refuses for good
(it must not block the ones behind it). ``prune`` deletes sent and dead rows after ``keep_s`` and, should the hub
stay away so long that more than ``max_pending`` wait, drops the oldest (counted, logged: the hub sees the gap).

Writers in one process are serialised by a lock (the event writer's thread, the incident feed, configuration
acknowledgements), so two numberings never interleave.

>>> from storewatch.store.db import open_database
>>> from storewatch.store.migrate import upgrade
>>> db = open_database("sqlite://"); upgrade(db)
>>> box = Outbox(db)
>>> box.add([Outgoing(Kind.EVENT, "s1", "s1/door", {"n": 1}), Outgoing(Kind.EVENT, "s1", "s1/door", {"n": 2}),
...          Outgoing(Kind.INCIDENT, "s1", None, {"n": 3})])
[1, 2, 1]
>>> [(e.camera, e.seq, e.payload["n"]) for e in box.pending(10)]
[('s1/door', 1, 1), ('s1/door', 2, 2), (None, 1, 3)]
>>> box.mark_sent([e.id for e in box.pending(2)]); [e.seq for e in box.pending(10)]
[1]
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from storewatch.store.db import Database
from storewatch.store.sync_models import OutboxRow, OutboxStatus, SequenceRow
from storewatch.store.types import utcnow
from storewatch.sync.envelope import Envelope, Kind

log = logging.getLogger(__name__)

KEEP_S = 24 * 3600.0
MAX_PENDING = 500_000


@dataclass(frozen=True, slots=True)
class Outgoing:
    """A message to add: its kind, store, camera (None: the store's stream) and JSON payload."""

    kind: Kind
    store: str
    camera: str | None
    payload: Mapping[str, Any]


class Outbox:
    def __init__(self, database: Database, *, max_pending: int = MAX_PENDING) -> None:
        if max_pending < 1:
            raise ValueError(f"max_pending must be >= 1, got {max_pending}")
        self.db = database
        self.max_pending = max_pending
        self.dropped = 0
        self._lock = threading.Lock()

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A write transaction holding the outbox's lock: for adding messages together with other changes."""
        with self._lock, self.db.write_session() as session:
            yield session

    def add(self, messages: Sequence[Outgoing], session: Session | None = None) -> list[int]:
        """Store ``messages`` numbered in their streams, in ``session`` (one from ``transaction()``) or in a
        transaction of their own; returns their sequence numbers."""
        if not messages:
            return []
        if session is not None:
            return self._add(session, messages)
        with self.transaction() as own:
            return self._add(own, messages)

    def _add(self, session: Session, messages: Sequence[Outgoing]) -> list[int]:
        streams = {(m.store, m.camera or "") for m in messages}
        last: dict[tuple[str, str], SequenceRow] = {}
        for store, camera in sorted(streams):
            query = select(SequenceRow).where(SequenceRow.store == store, SequenceRow.camera == camera)
            row = session.scalar(query.with_for_update())
            if row is None:
                row = SequenceRow(store=store, camera=camera, last_seq=0)
                session.add(row)
            last[(store, camera)] = row
        now = utcnow()
        seqs = []
        for m in messages:
            counter = last[(m.store, m.camera or "")]
            counter.last_seq += 1
            seqs.append(counter.last_seq)
            session.add(OutboxRow(msg_id=uuid.uuid4().hex, kind=m.kind.value, store=m.store, camera=m.camera or "",
                                  seq=counter.last_seq, created_utc=now, payload=dict(m.payload),
                                  status=OutboxStatus.PENDING, attempts=0))  # fmt: skip
        return seqs

    def pending(self, limit: int) -> list[Envelope]:
        """The oldest unsent messages (at most ``limit``), in the order they were made, as envelopes."""
        query = (
            select(OutboxRow).where(OutboxRow.status == OutboxStatus.PENDING.value).order_by(OutboxRow.id).limit(limit)
        )
        now = utcnow()
        with self.db.session() as session:
            return [
                Envelope(id=r.msg_id, kind=Kind(r.kind), store=r.store, camera=r.camera or None, seq=r.seq,
                         created_utc=r.created_utc, sent_utc=now, payload=r.payload)
                for r in session.scalars(query)
            ]  # fmt: skip

    def mark_sent(self, msg_ids: Iterable[str]) -> None:
        self._set(list(msg_ids), status=OutboxStatus.SENT, sent_utc=utcnow(), attempts=OutboxRow.attempts + 1)

    def mark_failed(self, msg_ids: Iterable[str], error: str) -> None:
        """Count an attempt that failed (the messages stay pending)."""
        self._set(list(msg_ids), last_error=error[:2000], attempts=OutboxRow.attempts + 1)

    def mark_dead(self, reasons: Mapping[str, str]) -> None:
        """Messages refused for good: kept (``dead``) for inspection, never sent again."""
        for msg_id, reason in reasons.items():
            log.error("sync: message %s refused for good: %s", msg_id, reason)
            self._set([msg_id], status=OutboxStatus.DEAD, last_error=reason[:2000], attempts=OutboxRow.attempts + 1)

    def _set(self, msg_ids: list[str], **values: Any) -> None:
        if not msg_ids:
            return
        with self.db.session() as session:
            session.execute(update(OutboxRow).where(OutboxRow.msg_id.in_(msg_ids)).values(**values))

    def prune(self, keep_s: float = KEEP_S) -> int:
        """Delete sent and dead rows older than ``keep_s``; drop the oldest pending beyond ``max_pending``."""
        cutoff = utcnow() - timedelta(seconds=keep_s)
        with self.transaction() as session:
            done = (OutboxStatus.SENT.value, OutboxStatus.DEAD.value)
            deleted = session.execute(
                delete(OutboxRow).where(OutboxRow.status.in_(done), OutboxRow.created_utc < cutoff)
            ).rowcount  # type: ignore[attr-defined]
            pending = self._count(session, OutboxStatus.PENDING)
            if pending > self.max_pending:
                excess = pending - self.max_pending
                oldest = select(OutboxRow.id).where(OutboxRow.status == OutboxStatus.PENDING.value)
                ids = list(session.scalars(oldest.order_by(OutboxRow.id).limit(excess)))
                session.execute(delete(OutboxRow).where(OutboxRow.id.in_(ids)))
                self.dropped += len(ids)
                log.error("sync: outbox over %d messages: dropped the %d oldest (%d so far)", self.max_pending,
                          len(ids), self.dropped)  # fmt: skip
            return int(deleted or 0)

    def stats(self) -> dict[str, int]:
        with self.db.session() as session:
            counts = {s.value: self._count(session, s) for s in OutboxStatus}
        return {**counts, "dropped": self.dropped}

    def last_seq(self, store: str, camera: str | None) -> int:
        """The last number given in a stream (0: none yet)."""
        with self.db.session() as session:
            query = select(SequenceRow.last_seq).where(SequenceRow.store == store, SequenceRow.camera == (camera or ""))
            return int(session.scalar(query) or 0)

    @staticmethod
    def _count(session: Session, status: OutboxStatus) -> int:
        query = select(func.count()).select_from(OutboxRow).where(OutboxRow.status == status.value)
        return int(session.scalar(query) or 0)
