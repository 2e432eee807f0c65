"""POS over NATS JetStream against a real nats-server (and the store on SQLite and PostgreSQL): each message one
document; a malformed one, or a bad record in a batch, is quarantined while the rest is stored; a message is
acknowledged only once stored, so one whose ingest failed (the database away) is delivered again and stored."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.exc import OperationalError

from storewatch.cli.app import main
from storewatch.config.schema import SiteConfig
from storewatch.ingest.sources import site_workers
from storewatch.pos.config import NatsSource, PosConfig
from storewatch.pos.nats import PosNatsSource
from storewatch.pos.service import PosIngestService
from storewatch.store.db import Database, default_url, open_database
from storewatch.store.migrate import upgrade
from storewatch.sync.jetstream import NatsLink
from tests.pos.conftest import make_tx, sale
from tests.sync.conftest import nats_server  # noqa: F401  (the fixture)
from tests.sync.procs import NatsServer


def _publish(url: str, messages: list[tuple[str, bytes]]) -> None:
    link = NatsLink(url, name="test-publisher")
    try:
        assert link.wait_connected(10)
        for subject, body in messages:
            link.run(lambda s=subject, b=body: link.js.publish(s, b))  # type: ignore[misc]
    finally:
        link.close()


def _pending(source: PosNatsSource) -> tuple[int, int]:
    link = source._link
    assert link is not None
    info: Any = link.run(lambda: link.js.consumer_info(source.config.stream, source.config.durable))
    return info.num_pending, info.num_ack_pending


def _step(source: PosNatsSource) -> None:
    """One fetch; a fetch that timed out on a loaded machine is only tried again (as the worker would)."""
    with contextlib.suppress(TimeoutError):
        source.step()


def _ready(source: PosNatsSource) -> None:
    """Until the stream and the durable consumer are made (the first fetch makes them)."""
    for _ in range(5):
        _step(source)
        if source._sub is not None:
            return
    raise AssertionError("the stream and consumer were not made")


def _drain(source: PosNatsSource, messages: int) -> None:
    for _ in range(20):
        _step(source)
        if source.counts.done + source.counts.quarantined >= messages:
            return
    raise AssertionError(f"only {source.counts} after 20 fetches")


def test_messages_are_ingested_and_bad_ones_quarantined(
    nats_server: NatsServer,  # noqa: F811
    database: Database,
    poslog6: Path,
) -> None:
    source = PosNatsSource(NatsSource(url=nats_server.url), PosIngestService(database, PosConfig()))
    try:
        _ready(source)
        batch = [make_tx(1).model_dump(mode="json"), {"store": "9", "register": "2", "sequence": -1}]
        _publish(nats_server.url, [
            ("pos.transactions.s9", poslog6.read_bytes()),
            ("pos.transactions.s9", json.dumps(batch).encode()),
            ("pos.transactions.s9", b"\x00\x01 not a document"),
        ])  # fmt: skip
        _drain(source, 3)
        assert (source.counts.done, source.counts.quarantined, source.counts.records_accepted) == (1, 2, 9)
        assert source.service.repo.counts() == {"transactions": 9, "exceptions": 5, "quarantined": 2}
        assert _pending(source) == (0, 0)  # every message acknowledged
        assert source.last is not None and source.last.source.startswith("nats:pos.transactions.s9#3")
    finally:
        source.close()


def test_a_message_is_acknowledged_only_once_stored(
    nats_server: NatsServer,  # noqa: F811
    database: Database,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    service = PosIngestService(database, PosConfig())
    source = PosNatsSource(NatsSource(url=nats_server.url, ack_wait_s=5.0), service)
    try:
        _ready(source)
        _publish(nats_server.url, [("pos.transactions.s9", make_tx(7, (sale(1, 500),)).model_dump_json().encode())])
        real = service.ingest
        down = True

        def ingest(results: Any, name: str) -> Any:
            if down:
                raise OperationalError("INSERT", {}, Exception("the database is away"))
            return real(results, name)

        monkeypatch.setattr(service, "ingest", ingest)
        for _ in range(10):  # until the message arrives and its ingest fails
            try:
                source.step()
            except OperationalError:
                break
            except TimeoutError:
                continue
        else:
            raise AssertionError("the message never arrived")
        assert service.repo.counts()["transactions"] == 0 and source.counts.done == 0
        down = False
        _drain(source, 1)  # delivered again (negatively acknowledged), stored, acknowledged
        assert service.repo.counts()["transactions"] == 1 and _pending(source) == (0, 0)
    finally:
        source.close()


def test_the_runner_makes_a_worker_for_pos_sources_nats(
    nats_server: NatsServer,  # noqa: F811
    database: Database,
    tmp_path: Path,
) -> None:
    site = SiteConfig.model_validate({
        "site": {"id": "t"}, "stores": [{"id": "s1"}],
        "pos": {"sources": {"nats": {"url": nats_server.url, "subjects": ["till.>"], "stream": "TILLS"}}},
    })  # fmt: skip
    (worker,) = site_workers(site, database, tmp_path)
    assert (worker.name, worker.kind) == ("pos-nats:TILLS", "pos-nats")
    try:
        worker.run_once()
        _publish(nats_server.url, [("till.9", make_tx(3).model_dump_json().encode())])
        for _ in range(10):
            worker.run_once()
            if worker.status().done:
                break
        status = worker.status()
        assert (status.health.value, status.done, status.records_accepted) == ("ok", 1, 1)
    finally:
        worker.stop()


def test_pos_nats_command_reads_the_given_number_of_messages(
    nats_server: NatsServer,  # noqa: F811
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    site = tmp_path / "pos.yaml"
    site.write_text(f"pos:\n  sources:\n    nats: {{url: '{nats_server.url}'}}\n")
    upgrade(default_url(tmp_path))
    with open_database(default_url(tmp_path)) as db:  # the stream and consumer made first, then a message sent
        made = PosNatsSource(NatsSource(url=nats_server.url), PosIngestService(db, PosConfig()))
        _ready(made)
        made.close()
    _publish(nats_server.url, [("pos.transactions.9", make_tx(3).model_dump_json().encode())])
    assert main(["pos", "nats", "--config", str(site), "--data-dir", str(tmp_path), "--messages", "1"]) == 0
    assert "1 messages: 1 transactions accepted, 0 quarantined, 0 failed fetches" in capsys.readouterr().out
