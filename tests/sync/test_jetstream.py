"""Sync through a real NATS JetStream server on 127.0.0.1: the edge's publisher and the hub's consumer in this
process (the multi-process tests run them as commands): order, server-side de-duplication, NATS going away and
coming back, configuration versions from the hub to the edge."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from storewatch.core.events import Event
from storewatch.store.db import Database, open_database
from storewatch.store.events import EventRepository
from storewatch.store.migrate import upgrade
from storewatch.sync.envelope import Envelope
from storewatch.sync.feed import EventFeed
from storewatch.sync.hub import HubService
from storewatch.sync.jetstream import SYNC_STREAM, NatsTransport
from storewatch.sync.live_config import LiveConfig
from storewatch.sync.outbox import Outbox
from storewatch.sync.publisher import Publisher
from storewatch.sync.registry import ConfigVersions, Registry
from tests.helpers import wait_for
from tests.sync.procs import NatsServer

T0 = datetime(2026, 3, 2, 12, tzinfo=UTC)


@pytest.fixture
def edge_db(tmp_path: Path) -> Iterator[Database]:
    db = open_database(f"sqlite:///{tmp_path / 'edge.db'}")
    upgrade(db)
    yield db
    db.close()


@pytest.fixture
def hub_db(tmp_path: Path) -> Iterator[Database]:
    db = open_database(f"sqlite:///{tmp_path / 'hub.db'}")
    upgrade(db)
    yield db
    db.close()


def _stream_messages(transport: NatsTransport) -> int:
    async def info() -> int:
        return int((await transport.link.js.stream_info(SYNC_STREAM)).state.messages)

    return transport.link.run(info)


def test_events_flow_in_order_and_a_repeated_publish_is_stored_once(
    nats_server: NatsServer, edge_db: Database, hub_db: Database
) -> None:
    outbox = Outbox(edge_db)
    transport = NatsTransport(nats_server.url)
    hub = HubService(hub_db, nats_server.url)
    publisher = Publisher(outbox, transport, store="s1", idle_s=0.05)
    feed = EventFeed(outbox, wake=publisher.wake)
    try:
        assert transport.link.wait_connected(10)
        feed([Event.start("loitering", f"s1/c{i % 2}", T0, f"loitering {i}") for i in range(150)])
        publisher.start()
        hub.start()
        wait_for(lambda: sum(s.last_seq for s in Registry(hub_db).streams()) == 150, timeout_s=20)
        sent_again = transport.send(_resend(edge_db))  # their acknowledgements were "lost": sent again
        assert len(sent_again.sent) == 10 and sent_again.error is None
        assert _stream_messages(transport) == 150  # the server dropped the repeats by Nats-Msg-Id
    finally:
        publisher.stop()
        hub.stop()
        transport.close()
    streams = Registry(hub_db).streams()
    assert [(s.camera, s.last_seq, s.received, s.gaps, s.late) for s in streams] == [
        ("s1/c0", 75, 75, 0, 0), ("s1/c1", 75, 75, 0, 0)]  # fmt: skip
    assert EventRepository(hub_db).count(store="s1") == 150


def _resend(db: Database) -> list[Envelope]:
    """The first ten messages again, as the outbox would resend them had their acknowledgements been lost."""
    from sqlalchemy import update

    from storewatch.store.sync_models import OutboxRow, OutboxStatus

    with db.session() as session:
        session.execute(update(OutboxRow).where(OutboxRow.id <= 10).values(status=OutboxStatus.PENDING))
    return Outbox(db).pending(10)


def test_messages_wait_while_nats_is_away_and_go_when_it_is_back(
    nats_server: NatsServer, edge_db: Database, hub_db: Database
) -> None:
    outbox = Outbox(edge_db)
    transport = NatsTransport(nats_server.url)
    hub = HubService(hub_db, nats_server.url)
    publisher = Publisher(outbox, transport, store="s1", idle_s=0.05, max_backoff_s=1.0)
    feed = EventFeed(outbox, wake=publisher.wake)
    try:
        publisher.start()
        hub.start()
        feed([Event.start("loitering", "s1/c0", T0, "before")])
        wait_for(lambda: EventRepository(hub_db).count() == 1, timeout_s=15)
        nats_server.stop()
        feed([Event.start("loitering", "s1/c0", T0, f"during {i}") for i in range(20)])
        wait_for(lambda: publisher.last_error is not None, timeout_s=10)
        assert len(outbox.pending(100)) == 20  # waiting on disk
        nats_server.start()
        wait_for(lambda: EventRepository(hub_db).count() == 21, timeout_s=30)
    finally:
        publisher.stop()
        hub.stop()
        transport.close()
    (stream,) = Registry(hub_db).streams()
    assert (stream.last_seq, stream.received, stream.gaps) == (21, 21, 0)


def test_a_configuration_version_pushed_at_the_hub_reaches_the_edge(nats_server: NatsServer, hub_db: Database):
    ConfigVersions(hub_db).push("s1", LiveConfig(rules={"loitering": {"dwell_s": 45}}), "ana")
    hub = HubService(hub_db, nats_server.url, republish_every_s=0.5)
    transport = NatsTransport(nats_server.url)
    try:
        hub.start()
        assert transport.link.wait_connected(10)
        wait_for(lambda: transport.latest_config("s1", 0) is not None, timeout_s=15)
        got = transport.latest_config("s1", 0)
        assert got is not None and got.version == 1 and got.config.rules == {"loitering": {"dwell_s": 45}}
        assert transport.latest_config("s2", 0) is None
    finally:
        hub.stop()
        transport.close()
