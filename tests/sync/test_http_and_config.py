"""Sync over HTTPS (the hub's ``POST /api/v1/sync`` on a real server on 127.0.0.1): signed batches, idempotent
ingest, configuration carried back; and the edge's configuration: applied live when it fits, refused with the
reason when it does not, and run again after a restart."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from storewatch.alerts.webhook import SIGNATURE_HEADER, TIMESTAMP_HEADER, sign
from storewatch.config.schema import SiteConfig
from storewatch.core.events import Event
from storewatch.store.db import Database, open_database
from storewatch.store.migrate import upgrade
from storewatch.store.models import EventRow
from storewatch.sync.edge import EdgeConfig
from storewatch.sync.feed import EventFeed
from storewatch.sync.http import HttpTransport, SyncEndpoint, SyncServer
from storewatch.sync.live_config import ConfigVersion, LiveConfig
from storewatch.sync.outbox import Outbox
from storewatch.sync.payloads import ConfigAck
from storewatch.sync.publisher import Publisher
from storewatch.sync.registry import ConfigVersions, Registry
from tests.helpers import wait_for

SECRET = "0123456789abcdef-sync"
T0 = datetime(2026, 3, 2, 12, tzinfo=UTC)
SITE = {
    "site": {"id": "t"},
    "stores": [{"id": "s1", "cameras": [
        {"id": "door", "source": "door.mp4", "zones": [
            {"id": "office", "kind": "staff_only", "polygon": [[0.5, 0], [1, 0], [1, 1], [0.5, 1]]}]}]}],
}  # fmt: skip


@pytest.fixture
def edge_db(tmp_path: Path) -> Database:
    db = open_database(f"sqlite:///{tmp_path / 'edge.db'}")
    upgrade(db)
    return db


@pytest.fixture
def hub(database: Database) -> SyncServer:
    server = SyncServer(SyncEndpoint(database, SECRET))
    server.start()
    yield server  # type: ignore[misc]
    server.stop()


def _events(db: Database) -> int:
    with db.session() as session:
        return int(session.scalar(select(func.count()).select_from(EventRow)) or 0)


def test_an_edge_drains_its_outbox_to_the_hub_over_https(edge_db: Database, database: Database, hub: SyncServer):
    outbox = Outbox(edge_db)
    transport = HttpTransport(hub.url, SECRET)
    publisher = Publisher(outbox, transport, store="s1", idle_s=0.05)
    feed = EventFeed(outbox, wake=publisher.wake)
    events = [Event.start("loitering", "s1/door", T0, f"loitering {i}") for i in range(30)]
    feed(events[:10])
    publisher.start()
    try:
        feed(events[10:])
        wait_for(lambda: not outbox.pending(1), timeout_s=10)
    finally:
        publisher.stop()
    assert _events(database) == 30 and publisher.sent == 30
    (stream,) = Registry(database).streams()
    assert (stream.last_seq, stream.received, stream.gaps, stream.late) == (30, 30, 0, 0)


def test_a_batch_sent_twice_is_stored_once_and_a_bad_signature_is_refused(
    edge_db: Database, database: Database, hub: SyncServer
):
    from urllib.error import HTTPError
    from urllib.request import Request

    from storewatch.alerts.webhook import direct_opener

    outbox = Outbox(edge_db)
    EventFeed(outbox)([Event.start("loitering", "s1/door", T0, "x"), Event.start("loitering", "s1/door", T0, "y")])
    batch = outbox.pending(10)
    transport = HttpTransport(hub.url, SECRET)
    first, second = transport.send(batch), transport.send(batch)  # the reply to the first was "lost"
    assert first.sent == second.sent == [e.id for e in batch] and first.error is None
    assert _events(database) == 2
    (stream,) = Registry(database).streams()
    assert (stream.received, stream.late) == (2, 2)

    body = json.dumps({"schema": "storewatch.sync-batch/1", "store": "s1", "messages": []}).encode()
    ts = int(time.time())
    for headers, status in (({SIGNATURE_HEADER: sign(body, "another-secret-123", ts), TIMESTAMP_HEADER: str(ts)}, 401),
                            ({SIGNATURE_HEADER: sign(body, SECRET, ts - 3600), TIMESTAMP_HEADER: str(ts - 3600)}, 401),
                            ({}, 401)):  # fmt: skip
        with pytest.raises(HTTPError) as err:
            direct_opener().open(Request(hub.url, data=body, method="POST", headers=headers), timeout=5)
        assert err.value.code == status
    bad = b'{"schema": "storewatch.sync-batch/1", "messages": [{"kind": "event"}]}'
    signed = {SIGNATURE_HEADER: sign(bad, SECRET, ts), TIMESTAMP_HEADER: str(ts)}
    with pytest.raises(HTTPError) as err:
        direct_opener().open(Request(hub.url, data=bad, method="POST", headers=signed), timeout=5)
    assert err.value.code == 400 and "store" in err.value.read().decode()


def test_the_hub_answers_with_a_newer_configuration(database: Database, hub: SyncServer) -> None:
    transport = HttpTransport(hub.url, SECRET)
    assert transport.latest_config("s1", 0) is None
    ConfigVersions(database).push("s1", LiveConfig(rules={"loitering": {"dwell_s": 30}}), "ana")
    got = transport.latest_config("s1", 0)
    assert got is not None and got.version == 1 and got.config.rules == {"loitering": {"dwell_s": 30}}
    assert transport.latest_config("s1", 1) is None  # it runs the newest already


def test_an_unreachable_hub_is_a_transient_failure(edge_db: Database) -> None:
    from tests.sync.procs import free_port

    outbox = Outbox(edge_db)
    EventFeed(outbox)([Event.start("loitering", "s1/door", T0, "x")])
    result = HttpTransport(f"http://127.0.0.1:{free_port()}/api/v1/sync", SECRET, timeout_s=2).send(outbox.pending(5))
    assert result.sent == [] and result.error is not None and "cannot reach" in result.error


def _version(n: int, **config: object) -> ConfigVersion:
    return ConfigVersion(store="s1", version=n, created_utc=T0, config=LiveConfig.model_validate(config))


def test_the_edge_applies_a_version_that_fits_refuses_one_that_does_not_and_runs_it_after_a_restart(
    edge_db: Database,
) -> None:
    site = SiteConfig.model_validate(SITE)
    outbox = Outbox(edge_db)
    applied: list[SiteConfig] = []
    config = EdgeConfig(edge_db, outbox, site, "s1")
    assert config.load() is site and config.version == 0
    config.acknowledge_start()

    config.offer(_version(1, rules={"restricted_area": {"severity": "high"}}), applied.append)
    assert config.version == 1 and applied[-1].rules == {"restricted_area": {"severity": "high"}}
    bad = _version(2, cameras={"door": {"zones": []}}, rules={"restricted_area": {"zones": ["office"]}})
    config.offer(bad, applied.append)
    config.offer(bad, applied.append)  # refused once, acknowledged once
    assert config.version == 1 and len(applied) == 1
    config.offer(_version(1), applied.append)  # not newer: nothing
    acks = [ConfigAck.model_validate(e.payload) for e in outbox.pending(10)]
    assert [(a.version, a.received, a.ok) for a in acks] == [(0, None, True), (1, 1, True), (1, 2, False)]
    assert acks[2].error is not None and "office" in acks[2].error and acks[0].cameras == ("s1/door",)

    restarted = EdgeConfig(edge_db, outbox, site, "s1")
    assert restarted.load().rules == {"restricted_area": {"severity": "high"}} and restarted.version == 1
