"""Passing a data subject's erasure on to the hub: the store erases first (``privacy.subject_actions``), then, if
its database is an edge's (it has numbered messages for a hub), queues one ``erasure`` message per store in the
outbox. The hub removes its copies of those events when the message arrives (``sync.ingest``); the outbox sends it
after every message already waiting, so no copy of an erased event reaches the hub after it.

>>> from storewatch.store.db import open_database
>>> from storewatch.store.migrate import upgrade
>>> db = open_database("sqlite://"); upgrade(db)
>>> forward_erasure(db, {"s1": ["e1"]}, "incident:i1")  # never synced with a hub: nothing to tell
0
>>> _ = Outbox(db).add([Outgoing(Kind.EVENT, "s1", "s1/door", {"id": "e0"})])
>>> forward_erasure(db, {"s1": ["e1", "e2"]}, "incident:i1")
1
>>> last = Outbox(db).pending(10)[-1]
>>> last.kind.value, last.camera, last.payload["event_ids"]
('erasure', None, ['e1', 'e2'])
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sqlalchemy import select

from storewatch.store.db import Database
from storewatch.store.sync_models import SequenceRow
from storewatch.sync.envelope import Kind
from storewatch.sync.outbox import Outbox, Outgoing
from storewatch.sync.payloads import ErasurePayload

PER_MESSAGE = 5_000
"""Event ids per message (well within a NATS message and ``ErasurePayload``'s limit)."""


def forward_erasure(database: Database, events_by_store: Mapping[str, Sequence[str]], request: str) -> int:
    """Queue the erasure of these events (by store) for the hub; how many messages were queued (0 when this
    database has never had anything for a hub)."""
    with database.session() as session:
        if session.scalar(select(SequenceRow.store).limit(1)) is None:
            return 0
    messages = [
        Outgoing(Kind.ERASURE, store, None,
                 ErasurePayload(request=request[:200], event_ids=list(ids[i : i + PER_MESSAGE])).model_dump())
        for store, ids in sorted(events_by_store.items())
        for i in range(0, len(ids), PER_MESSAGE)
    ]  # fmt: skip
    Outbox(database).add(messages)
    return len(messages)
