"""What else travels between edge and hub: alerts (each state change, the later state winning at the hub however
late a copy arrives), thumbnails of snapshots (small, bounded, JPEG only), evidence files fetched from an edge on
demand over a real NATS server (in parts when larger than a message; a store that does not answer is offline),
and an acknowledgement made at the hub applied at the store."""

from __future__ import annotations

import base64
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

from storewatch.core.events import Event
from storewatch.store.alerts import AlertRepository
from storewatch.store.db import Database, open_database
from storewatch.store.migrate import upgrade
from storewatch.store.models import AlertStatus
from storewatch.sync.commands import AcknowledgeCommand, CommandRefusedError, CommandResponder, send_acknowledge
from storewatch.sync.envelope import Envelope, Kind
from storewatch.sync.feed import AlertFeed, EventFeed
from storewatch.sync.ingest import Ingester, Outcome
from storewatch.sync.jetstream import NatsLink
from storewatch.sync.media import (
    CHUNK_BYTES,
    MediaFetcher,
    MediaResponder,
    RemoteMediaNotFoundError,
    StoreOfflineError,
)
from storewatch.sync.outbox import Outbox
from storewatch.sync.payloads import MAX_THUMBNAIL_BYTES, AlertPayload
from storewatch.sync.registry import Registry
from tests.helpers import wait_for
from tests.sync.procs import NatsServer

T0 = datetime(2026, 3, 2, 12, tzinfo=UTC)


def _env(kind: Kind, seq: int, payload: dict[str, Any], camera: str = "s1/door") -> Envelope:
    return Envelope(id=uuid.uuid4().hex, kind=kind, store="s1", camera=camera, seq=seq, created_utc=T0,
                    sent_utc=T0, payload=payload)  # fmt: skip


def _alert(**changes: Any) -> dict[str, Any]:
    base = AlertPayload(id="a1", event_id="e1", route="guards", store="s1", camera="s1/door",
                        event_type="walk_out", severity="high", status="waiting", level=0, raised=T0)  # fmt: skip
    return base.model_copy(update=changes).model_dump(mode="json")


@pytest.fixture
def edge_db(tmp_path: Path) -> Iterator[Database]:
    db = open_database(f"sqlite:///{tmp_path / 'edge.db'}")
    upgrade(db)
    yield db
    db.close()


def test_an_alert_keeps_its_latest_state_at_the_hub_whatever_order_copies_arrive(database: Database) -> None:
    ingester = Ingester(database)
    repo = AlertRepository(database)
    acked = _alert(status=AlertStatus.ACKNOWLEDGED, level=1, acknowledged=T0 + timedelta(seconds=42),
                   acknowledged_by="ana", time_to_ack_s=42.0, last_sent=T0 + timedelta(seconds=30))  # fmt: skip
    escalated = _alert(level=1, last_sent=T0 + timedelta(seconds=30))
    assert ingester.apply(_env(Kind.ALERT, 1, _alert())) == Outcome.APPLIED
    assert ingester.apply(_env(Kind.ALERT, 3, acked)) == Outcome.APPLIED
    assert ingester.apply(_env(Kind.ALERT, 2, escalated)) == Outcome.LATE  # late: applied, changes nothing
    assert ingester.apply(_env(Kind.ALERT, 1, _alert())) == Outcome.LATE
    got = repo.get("a1")
    assert got is not None
    assert (got.status, got.level, got.acknowledged_by, got.time_to_ack_s) == (AlertStatus.ACKNOWLEDGED, 1, "ana", 42.0)
    assert Registry(database).alerts() == {"s1": (1, 0)}
    wrong = _env(Kind.ALERT, 4, _alert(id="a2", camera="s1/till"))
    assert ingester.apply(wrong) == Outcome.REFUSED  # sent on another camera's stream than its own


def _jpeg(width: int, height: int, noise: bool = False) -> bytes:
    rng = np.random.default_rng(1)
    image = rng.integers(0, 255, (height, width, 3), dtype=np.uint8) if noise else np.full((height, width, 3), 90,
                                                                                             np.uint8)  # fmt: skip
    return cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 95])[1].tobytes()


def test_thumbnails_are_stored_and_bad_ones_refused_saying_why(database: Database) -> None:
    ingester = Ingester(database)

    def thumb(data: bytes) -> dict[str, Any]:
        return {"event_id": "e1", "width": 320, "height": 240, "jpeg": base64.b64encode(data).decode()}

    assert ingester.apply(_env(Kind.THUMBNAIL, 1, thumb(_jpeg(320, 240)))) == Outcome.APPLIED
    assert ingester.apply(_env(Kind.THUMBNAIL, 2, thumb(b"GIF89a" + bytes(100)))) == Outcome.REFUSED
    big = _jpeg(1280, 960, noise=True)
    assert len(big) > MAX_THUMBNAIL_BYTES
    assert ingester.apply(_env(Kind.THUMBNAIL, 3, thumb(big))) == Outcome.REFUSED
    assert Registry(database).thumbnails() == {"s1": 1}


def test_the_edge_sends_each_alert_change_once_and_a_thumbnail_with_the_first_snapshot(
    edge_db: Database, tmp_path: Path
) -> None:
    outbox = Outbox(edge_db)
    alerts = AlertFeed(edge_db, outbox, "s1")
    repo = AlertRepository(edge_db)
    now = datetime.now(UTC)
    event = Event.start("walk_out", "s1/door", now, "left with unpaid goods")
    repo.raise_alert("a1", event, "guards", now)
    assert (alerts.poll(), alerts.poll()) == (1, 0)
    repo.acknowledge("a1", "ana", now + timedelta(seconds=5))
    assert alerts.poll() == 1
    sent = [e for e in outbox.pending(10) if e.kind == Kind.ALERT]
    assert [(e.camera, e.seq, e.payload["status"]) for e in sent] == [("s1/door", 1, "waiting"),
                                                                      ("s1/door", 2, "acknowledged")]  # fmt: skip

    snapshot = tmp_path / "e.jpg"
    snapshot.write_bytes(_jpeg(1280, 720, noise=True))  # a big, noisy picture: scaled and squeezed under the bound
    feed = EventFeed(outbox)
    with_snapshot = event.with_evidence(snapshot=str(snapshot))
    feed([with_snapshot])
    feed([with_snapshot.with_evidence(clip=str(tmp_path / "e.mp4"))])  # the clip later: no second thumbnail
    kinds = [(e.kind, e.seq) for e in outbox.pending(10) if e.kind in (Kind.EVENT, Kind.THUMBNAIL)]
    assert kinds == [(Kind.EVENT, 3), (Kind.THUMBNAIL, 4), (Kind.EVENT, 5)]
    thumb = next(e for e in outbox.pending(10) if e.kind == Kind.THUMBNAIL).payload
    assert (thumb["event_id"], thumb["width"], thumb["height"]) == (event.id, 320, 180)
    assert len(base64.b64decode(thumb["jpeg"])) <= MAX_THUMBNAIL_BYTES


@pytest.fixture
def edge_link(nats_server: NatsServer) -> Iterator[NatsLink]:
    link = NatsLink(nats_server.url, name="test-edge")
    assert link.wait_connected(10)
    yield link
    link.close()


def test_evidence_is_fetched_from_the_edge_in_parts_and_an_offline_store_is_said_to_be(
    nats_server: NatsServer, edge_link: NatsLink, tmp_path: Path
) -> None:
    media = tmp_path / "media"
    clip = media / "s1" / "door" / "2026-03-02" / "e1.mp4"
    clip.parent.mkdir(parents=True)
    clip.write_bytes(np.random.default_rng(2).integers(0, 255, CHUNK_BYTES * 2 + 1000, dtype=np.uint8).tobytes())
    (media / "secret.txt").write_text("not evidence")
    responder = MediaResponder(edge_link, "s1", media)
    responder.start()
    fetcher = MediaFetcher(nats_server.url, timeout_s=2.0)
    try:
        wait_for(lambda: _answers(fetcher), timeout_s=10)
        assert fetcher.fetch("s1", "s1/door/2026-03-02/e1.mp4") == clip.read_bytes()  # three parts
        for key in ("s1/door/2026-03-02/e2.mp4", "s2/door/2026-03-02/e1.mp4", "s1/../secret.txt"):
            with pytest.raises(RemoteMediaNotFoundError):
                fetcher.fetch("s1", key)
        started = time.monotonic()
        with pytest.raises(StoreOfflineError, match="did not answer"):
            fetcher.fetch("s2", "s2/door/2026-03-02/e1.mp4")  # nobody answers for s2
        assert time.monotonic() - started < 5
    finally:
        responder.stop()
        fetcher.close()


def _answers(fetcher: MediaFetcher) -> bool:
    try:
        fetcher.fetch("s1", "s1/door/2026-03-02/none.mp4")
    except RemoteMediaNotFoundError:
        return True
    except StoreOfflineError:
        return False
    return True


def test_an_acknowledgement_from_the_hub_is_applied_at_the_store_once(
    nats_server: NatsServer, edge_link: NatsLink, edge_db: Database
) -> None:
    now = datetime.now(UTC)
    AlertRepository(edge_db).raise_alert("a1", Event.start("walk_out", "s1/door", now, "unpaid"), "guards", now)
    responder = CommandResponder(edge_link, "s1", edge_db)
    responder.start()
    requests = MediaFetcher(nats_server.url, timeout_s=2.0)
    command = AcknowledgeCommand(alert_id="a1", by="ana")
    try:
        wait_for(lambda: _acknowledged(requests, command), timeout_s=10)
        stored = AlertRepository(edge_db).get("a1")
        assert stored is not None and (stored.status, stored.acknowledged_by) == ("acknowledged", "ana (at the hub)")
        with pytest.raises(CommandRefusedError, match="acknowledged already") as refused:
            send_acknowledge(requests, "s1", command)
        assert refused.value.reply.status == "conflict"
        with pytest.raises(CommandRefusedError, match="no alert"):
            send_acknowledge(requests, "s1", AcknowledgeCommand(alert_id="zz", by="ana"))
    finally:
        responder.stop()
        requests.close()


def _acknowledged(requests: MediaFetcher, command: AcknowledgeCommand) -> bool:
    try:
        reply = send_acknowledge(requests, "s1", command)
    except StoreOfflineError:
        return False
    assert reply.alert is not None and reply.alert.status == AlertStatus.ACKNOWLEDGED
    return True


def test_hub_status_counts_each_stores_alerts_and_thumbnails(db_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    import json

    from storewatch.cli.app import main

    with open_database(db_url) as db:
        upgrade(db)
        ingester = Ingester(db)
        jpeg = base64.b64encode(_jpeg(320, 240)).decode()
        assert ingester.apply(_env(Kind.ALERT, 1, _alert())) == Outcome.APPLIED
        false_alarm = _alert(
            id="a2", event_id="e2", status=AlertStatus.FALSE_ALARM, false_alarm_reason="a shelf stocker"
        )
        assert ingester.apply(_env(Kind.ALERT, 2, false_alarm)) == Outcome.APPLIED
        thumb = {"event_id": "e1", "width": 320, "height": 240, "jpeg": jpeg}
        assert ingester.apply(_env(Kind.THUMBNAIL, 3, thumb)) == Outcome.APPLIED
    assert main(["hub", "--database", db_url, "status"]) == 0
    assert "  alerts: 2 (1 waiting); thumbnails: 1" in capsys.readouterr().out
    assert main(["hub", "--database", db_url, "status", "--json"]) == 0
    store = json.loads(capsys.readouterr().out)["stores"][0]
    assert (store["id"], store["alerts"], store["alerts_waiting"], store["thumbnails"]) == ("s1", 2, 1, 1)


def test_a_run_of_messages_is_applied_together_with_the_outcomes_of_one_by_one(database: Database) -> None:
    from storewatch.store.events import EventRepository
    from storewatch.sync.feed import event_payload

    ingester = Ingester(database)
    started = Event.start("walk_out", "s1/door", T0, "left with unpaid goods")
    ended = started.end(T0 + timedelta(seconds=5))
    run = [
        _env(Kind.EVENT, 1, event_payload(started)),
        _env(Kind.ALERT, 2, _alert(event_id=started.id)),
        _env(Kind.THUMBNAIL, 3, {"event_id": started.id, "width": 2, "height": 2, "jpeg": "bm90IGEganBlZw=="}),
        _env(Kind.EVENT, 4, event_payload(ended)),
        _env(Kind.EVENT, 2, event_payload(started)),  # a late copy: applied, changes nothing
    ]
    assert ingester.apply_run(run) == [Outcome.APPLIED, Outcome.APPLIED, Outcome.REFUSED, Outcome.APPLIED,
                                       Outcome.LATE]  # fmt: skip
    stored = EventRepository(database).get(started.id)
    assert stored is not None and stored.state.value == "ended"
    assert Registry(database).alerts() == {"s1": (1, 1)}
    stream = Registry(database).streams("s1")[0]
    assert (stream.last_seq, stream.received, stream.gaps, stream.late) == (4, 3, 1, 1)  # 3 never applied: a gap
    for kind in (Kind.INCIDENT, Kind.ERASURE):  # applied one by one: an incident may wait, an erasure deletes
        with pytest.raises(ValueError, match=f"no {kind.value} messages"):
            ingester.apply_run([_env(kind, 5, {})])
