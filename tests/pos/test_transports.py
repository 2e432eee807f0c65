"""The HTTP endpoint and the MQTT subscriber: each hands a document to the ingest service and reports what was
accepted, what was a duplicate and what was quarantined (with the record's error); a bad signature or an
unreadable body is refused with a 4xx."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
import yaml
from fastapi.testclient import TestClient
from paho.mqtt.enums import CallbackAPIVersion

from storewatch.alerts.webhook import SIGNATURE_HEADER, TIMESTAMP_HEADER, sign
from storewatch.config.loader import load_site_config
from storewatch.pos.config import MqttSource, PosConfig
from storewatch.pos.export import csv_text, jsonl, poslog
from storewatch.pos.http import POS_PATH
from storewatch.pos.mqtt import PosMqttSubscriber
from storewatch.pos.service import PosIngestService
from storewatch.store.db import default_url, open_database
from storewatch.store.migrate import upgrade
from storewatch.store.pos import PosRepository
from storewatch.web import WebSettings, create_app
from tests.alerts.servers import Broker
from tests.pos.conftest import T0, make_tx, sale

SECRET = "pos-test-secret-0123456789"
TXS = [make_tx(seq, (sale(1, 500),), end=T0) for seq in (1, 2, 3)]
BAD_LINE = '{"store": "9", "register": "2", "sequence": -4, "type": "sale", "end_utc": "2026-03-02T10:00:00Z"}\n'


def _signed(body: bytes, content_type: str, secret: str = SECRET) -> dict[str, str]:
    ts = int(time.time())
    return {"Content-Type": content_type, SIGNATURE_HEADER: sign(body, secret, ts), TIMESTAMP_HEADER: str(ts)}


@pytest.fixture
def client(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    monkeypatch.setenv("POS_TEST_SECRET", SECRET)
    http = {"enabled": True, "secret_env": "POS_TEST_SECRET", "max_body_mb": 1}
    site = {"site": {"id": "acme"}, "stores": [{"id": "s9"}], "pos": {"sources": {"http": http}}}
    (tmp_path / "site.yaml").write_text(yaml.safe_dump(site))
    settings = WebSettings(data_dir=tmp_path, site=load_site_config(tmp_path / "site.yaml"))
    with TestClient(create_app(settings)) as c:
        yield c


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("application/x-ndjson", jsonl(TXS)),
        ("application/xml", poslog(TXS)),
        ("text/csv; charset=utf-8", csv_text(TXS)),
    ],
)
def test_each_format_is_accepted_once(client: TestClient, content_type: str, body: str) -> None:
    data = body.encode()
    first = client.post(POS_PATH, content=data, headers=_signed(data, content_type))
    assert first.status_code == 200, first.text
    assert (first.json()["accepted"], first.json()["inserted"], first.json()["quarantined"]) == (3, 3, 0)
    again = client.post(POS_PATH, content=data, headers=_signed(data, content_type))
    assert again.status_code == 200 and (again.json()["inserted"], again.json()["duplicate"]) == (0, 3)


def test_a_bad_record_is_listed_and_the_rest_accepted(client: TestClient) -> None:
    data = (jsonl(TXS[:2]) + BAD_LINE).encode()
    reply = client.post(POS_PATH, content=data, headers=_signed(data, "application/x-ndjson"))
    assert reply.status_code == 200
    body = reply.json()
    assert (body["accepted"], body["quarantined"]) == (2, 1)
    error = body["errors"][0]
    assert error["record"].startswith("line 3") and error["path"] == "sequence" and "greater than" in error["error"]


@pytest.mark.parametrize(
    ("data", "content_type", "status", "message"),
    [
        (b"<POSLog><Transaction>", "application/xml", 400, "no transaction could be read"),
        (b"{not json", "application/json", 400, "no transaction could be read"),
        (b"   ", "application/json", 400, "empty body"),
        (b"x" * (2 << 20), "text/csv", 413, "over the limit"),
    ],
)
def test_unreadable_bodies_are_refused(
    client: TestClient, data: bytes, content_type: str, status: int, message: str
) -> None:
    reply = client.post(POS_PATH, content=data, headers=_signed(data, content_type))
    assert reply.status_code == status and message in reply.json()["error"]


def test_a_wrong_signature_is_refused(client: TestClient) -> None:
    data = jsonl(TXS).encode()
    assert client.post(POS_PATH, content=data, headers={"Content-Type": "application/json"}).status_code == 401
    wrong = _signed(data, "application/json", secret="another-secret-0123456789")
    assert client.post(POS_PATH, content=data, headers=wrong).status_code == 401


def test_mqtt_messages_are_ingested(tmp_path: Path) -> None:
    broker = Broker(tmp_path).start()
    url = default_url(tmp_path)
    upgrade(url)
    try:
        with open_database(url) as db:
            cfg = MqttSource(port=broker.port, topic="shop/pos/#", client_id="pos-test")
            sub = PosMqttSubscriber(cfg, PosIngestService(db, PosConfig())).start()
            try:
                pub = mqtt.Client(CallbackAPIVersion.VERSION2)
                pub.connect("127.0.0.1", broker.port)
                pub.loop_start()
                for payload in (poslog(TXS[:2]), jsonl(TXS[2:]) + BAD_LINE, csv_text(TXS)):
                    pub.publish("shop/pos/9", payload.encode(), qos=1).wait_for_publish(5)
                pub.disconnect()
                pub.loop_stop()
                assert sub.wait_for(3, timeout_s=30), sub.counts
            finally:
                sub.stop()
            assert (sub.counts.messages, sub.counts.accepted, sub.counts.quarantined) == (3, 6, 1)
            # the CSV repeats all three: nothing new (the two first read from POSLog carry a little less than CSV)
            assert sub.last is not None and (sub.last.accepted, sub.last.inserted) == (3, 0)
            counts = PosRepository(db).counts()
            assert (counts["transactions"], counts["quarantined"]) == (3, 1)
    finally:
        broker.stop()
