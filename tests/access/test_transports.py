"""Door access over HTTP (``POST /api/v1/access/events``), authenticated as the POS endpoint is: a body signed with
the shared secret, or an API token holding ``access.ingest`` (which sends only for its stores); a bad record is
quarantined with its error and the rest stored once; the POS endpoint takes API tokens too."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml
from fastapi.testclient import TestClient

from storewatch.access.http import ACCESS_PATH
from storewatch.alerts.webhook import SIGNATURE_HEADER, TIMESTAMP_HEADER, sign
from storewatch.config.loader import load_site_config
from storewatch.pos.http import POS_PATH
from storewatch.store.access import AccessRepository
from storewatch.store.db import default_url, open_database
from storewatch.web import WebSettings, create_app
from storewatch.web.permissions import Capability
from storewatch.web.tokens import TokenIn, TokenService

SECRET = "access-test-secret-0123456789"
EVENT = '{"store": "%s", "door": "D-1", "kind": "badge", "badge": "%s", "result": "granted", "at_utc": "%s"}\n'
GOOD = EVENT % ("s1", "B7", "2026-03-02T10:00:00Z") + EVENT % ("s1", "B8", "2026-03-02T10:05:00Z")
DAY = (datetime(2026, 3, 2, tzinfo=UTC), datetime(2026, 3, 3, tzinfo=UTC))
BAD = '{"store": "s1", "door": "D-1", "kind": "badge", "badge": "B9"}\n'


@dataclass
class Api:
    client: TestClient
    data_dir: Path

    def token(self, *capabilities: Capability, stores: tuple[str, ...] = ("s1",)) -> str:
        with open_database(default_url(self.data_dir)) as db:
            made = TokenIn(name="door feed", capabilities=list(capabilities), stores=list(stores))
            return TokenService(db).create(made, "test")[1]

    def events(self) -> list[tuple[str, str | None]]:
        with open_database(default_url(self.data_dir)) as db:
            found = AccessRepository(db).events_between(["s1", "s2"], *DAY)
            return [(e.store, e.badge) for e in found]


def _signed(body: bytes, content_type: str = "application/x-ndjson", secret: str = SECRET) -> dict[str, str]:
    ts = int(time.time())
    return {"Content-Type": content_type, SIGNATURE_HEADER: sign(body, secret, ts), TIMESTAMP_HEADER: str(ts)}


def _bearer(token: str, content_type: str = "application/x-ndjson") -> dict[str, str]:
    return {"Content-Type": content_type, "Authorization": f"Bearer {token}"}


@pytest.fixture
def api(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Api]:
    monkeypatch.setenv("ACCESS_TEST_SECRET", SECRET)
    site = {
        "site": {"id": "acme"}, "stores": [{"id": "s1"}, {"id": "s2"}],
        "access": {"sources": {"http": {"enabled": True, "secret_env": "ACCESS_TEST_SECRET"}}},
        "pos": {"sources": {"http": {"enabled": True, "secret_env": "UNSET_POS_SECRET"}}},
    }  # fmt: skip
    (tmp_path / "site.yaml").write_text(yaml.safe_dump(site))
    settings = WebSettings(data_dir=tmp_path, site=load_site_config(tmp_path / "site.yaml"))
    with TestClient(create_app(settings)) as client:
        yield Api(client, tmp_path)


def test_signed_events_are_stored_once_and_a_bad_record_quarantined(api: Api) -> None:
    data = (GOOD + BAD).encode()
    first = api.client.post(ACCESS_PATH, content=data, headers=_signed(data))
    assert first.status_code == 200, first.text
    body = first.json()
    assert (body["accepted"], body["new"], body["quarantined"]) == (2, 2, 1)
    assert body["errors"][0]["record"].startswith("line 3") and body["errors"][0]["path"] == "at_utc"
    again = api.client.post(ACCESS_PATH, content=data, headers=_signed(data))
    assert again.status_code == 200 and (again.json()["accepted"], again.json()["new"]) == (2, 0)
    assert api.events() == [("s1", "B7"), ("s1", "B8")]


def test_csv_events_by_content_type(api: Api) -> None:
    data = b"store,door,kind,badge,result,at_utc\ns1,D-1,badge,B1,denied,2026-03-02T11:00:00Z\n"
    reply = api.client.post(ACCESS_PATH, content=data, headers=_signed(data, "text/csv"))
    assert reply.status_code == 200 and reply.json()["accepted"] == 1


def test_an_api_token_sends_for_its_stores_only(api: Api) -> None:
    token = api.token(Capability.INGEST_ACCESS)
    data = (GOOD + EVENT % ("s2", "B5", "2026-03-02T10:00:00Z")).encode()
    reply = api.client.post(ACCESS_PATH, content=data, headers=_bearer(token))
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert (body["accepted"], body["quarantined"]) == (2, 1)
    assert body["errors"][0]["path"] == "store" and "'s2' is not one this API token may send for" in body["errors"][0][
        "error"]  # fmt: skip
    assert api.events() == [("s1", "B7"), ("s1", "B8")]


@pytest.mark.parametrize(
    ("headers", "status", "message"),
    [
        ({}, 401, "bad or missing signature"),
        ({"Authorization": "Bearer swt_nope"}, 401, "unknown, revoked or expired API token"),
        ("pos-only", 403, "lacks the access.ingest capability"),
        ("wrong-secret", 401, "bad or missing signature"),
    ],
)
def test_requests_without_the_right_credentials_are_refused(
    api: Api, headers: dict[str, str] | str, status: int, message: str
) -> None:
    data = GOOD.encode()
    if headers == "pos-only":
        headers = _bearer(api.token(Capability.INGEST_POS))
    elif headers == "wrong-secret":
        headers = _signed(data, secret="another-secret-0123456789")
    assert isinstance(headers, dict)
    reply = api.client.post(ACCESS_PATH, content=data, headers=headers)
    assert reply.status_code == status and message in reply.json()["error"]
    assert api.events() == []


def test_the_pos_endpoint_takes_an_api_token_when_no_secret_is_set(api: Api) -> None:
    tx = '{"store": "9", "register": "2", "sequence": 1, "type": "no_sale", "end_utc": "2026-03-02T10:00:00Z"}\n'
    reply = api.client.post(POS_PATH, content=tx.encode(), headers=_bearer(api.token(Capability.INGEST_POS)))
    assert reply.status_code == 200 and reply.json()["inserted"] == 1
    signed = api.client.post(POS_PATH, content=tx.encode(), headers=_signed(tx.encode()))
    assert signed.status_code == 401  # no POS secret in the environment: tokens only


def test_not_enabled_is_404(tmp_path: Path) -> None:
    (tmp_path / "site.yaml").write_text(yaml.safe_dump({"site": {"id": "acme"}, "stores": [{"id": "s1"}]}))
    settings = WebSettings(data_dir=tmp_path, site=load_site_config(tmp_path / "site.yaml"))
    with TestClient(create_app(settings)) as client:
        reply = client.post(ACCESS_PATH, content=GOOD.encode(), headers=_signed(GOOD.encode()))
    assert reply.status_code == 404 and "access.sources.http.enabled" in reply.json()["error"]


def test_access_watch_once_moves_files_to_done_or_quarantine(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from storewatch.cli.app import main
    from storewatch.store.migrate import upgrade

    upgrade(default_url(tmp_path))
    drop = tmp_path / "drop"
    drop.mkdir()
    (drop / "good.jsonl").write_text(GOOD)
    (drop / "mixed.jsonl").write_text(GOOD + BAD)
    assert main(["access", "watch", str(drop), "--data-dir", str(tmp_path), "--once", "--settle-s", "0"]) == 0
    out = capsys.readouterr().out
    assert f"{drop / 'done' / 'good.jsonl'}: 2 accepted, 0 quarantined" in out
    assert f"{drop / 'quarantine' / 'mixed.jsonl'}: 2 accepted, 1 quarantined" in out
    assert "at_utc" in (drop / "quarantine" / "mixed.jsonl.errors.json").read_text()
