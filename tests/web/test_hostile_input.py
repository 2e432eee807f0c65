"""Hostile input through the real app: path traversal on evidence routes, oversized and malformed bodies, SQL in
every filter. Each is refused with a 4xx (and logged), never a 5xx; nothing else is affected (the server still
answers, the database is unchanged, another store's rows never appear)."""

from __future__ import annotations

import json
import logging
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from storewatch.store.db import default_url, open_database
from storewatch.web import WebSettings, create_app
from tests.web.conftest import login, login_form, settings_for
from tests.web.hub_seed import GUARD as HUB_GUARD
from tests.web.hub_seed import HubSeeded, seed_hub
from tests.web.seed import ADMIN, GUARD, Seeded, s1_only_ids

TABLES = ("events", "alerts", "incidents", "users", "api_tokens")
INJECTIONS = (
    "' OR '1'='1",
    "s2' OR 1=1 --",
    's2"; DROP TABLE events; --',
    "%' UNION SELECT id, store, 1, 1 FROM events --",
    "s1%",
    "*",
    "%",
    "_",
    "\x00",
    "s2\\' OR 1=1#",
    "../s1",
)


def _counts(seeded: Seeded) -> dict[str, int]:
    with open_database(default_url(seeded.data_dir)) as db, db.engine.connect() as conn:
        return {t: int(conn.exec_driver_sql(f"SELECT COUNT(*) FROM {t}").scalar_one()) for t in TABLES}


@pytest.fixture
def client(seeded: Seeded) -> Iterator[TestClient]:
    with TestClient(create_app(settings_for(seeded.data_dir)), follow_redirects=False) as client:
        yield client


@pytest.mark.parametrize(
    "path",
    [
        "/media/..%2f..%2fstorewatch.db",
        "/media/%252e%252e/%252e%252e/storewatch.db",
        "/media/s1/door/%2e%2e/%2e%2e/%2e%2e/secrets/web.key",
        "/media/..%5c..%5csecrets%5cweb.key",
        "/media//etc/passwd",
        "/media/%2Fetc%2Fpasswd",
        "/media/s1/door/x.jpg%00.txt",
        "/media/s1/door/..%c0%af..%c0%afstorewatch.db",
        "/media/s1/door/%ef%bc%8e%ef%bc%8e/storewatch.db",
        "/media/" + "a/" * 400 + "x.jpg",
    ],
)
def test_path_traversal_on_media_is_a_logged_404(
    client: TestClient, path: str, caplog: pytest.LogCaptureFixture
) -> None:
    login(client, GUARD)
    with caplog.at_level(logging.INFO):
        response = client.get(path)
    assert response.status_code == 404, (path, response.status_code)
    assert b"SQLite" not in response.content and b"root:" not in response.content
    assert any("media not served" in r.getMessage() for r in caplog.records), path


def test_oversized_bodies_are_413_and_the_server_keeps_answering(
    client: TestClient, seeded: Seeded, caplog: pytest.LogCaptureFixture
) -> None:
    login(client, GUARD)
    alert = seeded.alerts["fight"]
    big_json = json.dumps({"note": "x" * (5 * 1024 * 1024)})
    with caplog.at_level(logging.WARNING):
        declared = client.post(
            f"/api/v1/alerts/{alert}/acknowledge", content=big_json, headers={"content-type": "application/json"}
        )
        form = client.post("/login", data={"username": "bo", "password": "p" * (3 * 1024 * 1024)})  # 413 before all

        def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it is read
            for _ in range(40):
                yield b"x" * (128 * 1024)

        chunked = client.post(
            f"/api/v1/alerts/{alert}/acknowledge", content=chunks(), headers={"content-type": "application/json"}
        )
    for response in (declared, form, chunked):
        assert response.status_code == 413, response.text[:300]
        assert "over the limit of 2097152 bytes" in response.text
    assert sum("request body refused" in r.getMessage() for r in caplog.records) == 3
    assert client.get("/healthz").status_code == 200
    assert client.get("/api/v1/me").json()["username"] == GUARD[0]
    assert client.get(f"/api/v1/alerts/{alert}").json()["status"] == "acknowledged"  # untouched


def test_the_body_limit_is_a_setting(seeded: Seeded) -> None:
    with TestClient(create_app(settings_for(seeded.data_dir, max_body_bytes=4096))) as client:
        assert login_form(client, {"username": "bo", "password": "p" * 5000}).status_code == 413
        assert login_form(client, {"username": "bo", "password": "p" * 100}).status_code == 401


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ('{"note": ', "body", "the body is not valid JSON (Expecting value at character 9)"),
        ("not json", "body", "the body is not valid JSON (Expecting value at character 0)"),
        ("\xff\xfe", "body", "the body is not valid JSON"),
        ('{"note": "\ud800"}', "note", "Extra inputs are not permitted"),
        ("[]", "body", "the body must be a JSON object"),
        ('"x"', "body", "the body must be a JSON object"),
        ('{"false_alarm_reason": 5}', "false_alarm_reason", "Input should be a valid string"),
    ],
)
def test_malformed_json_is_a_422_naming_the_problem(
    client: TestClient, seeded: Seeded, body: str, field: str, message: str
) -> None:
    login(client, GUARD)
    alert = seeded.alerts["fight"]
    notes = f"/api/v1/incidents/{seeded.incidents['fight']}/notes"
    for path in (f"/api/v1/alerts/{alert}/acknowledge", *([notes] if field == "body" else [])):
        response = client.post(
            path, content=body.encode("utf-8", "surrogatepass"), headers={"content-type": "application/json"}
        )
        assert response.status_code == 422, (path, body, response.status_code, response.text)
        problems = response.json()["detail"]
        assert any(p["field"] == field and p["message"].startswith(message) for p in problems), (path, problems)
        assert field != "body" or len(problems) == 1  # a body that cannot be read is one problem, not one per field
    assert client.get("/healthz").status_code == 200


def test_a_body_that_is_not_sent_as_json_is_named(client: TestClient, seeded: Seeded) -> None:
    login(client, GUARD)
    url = f"/api/v1/alerts/{seeded.alerts['fight']}/acknowledge"
    for kind in ("text/plain", "application/x-www-form-urlencoded"):
        response = client.post(url, content=b'{"note": "x"}', headers={"content-type": kind})
        assert response.status_code == 422, (kind, response.text)
        assert "Content-Type: application/json" in response.json()["detail"][0]["message"], kind


def test_every_page_form_refuses_a_json_body_with_one_422(client: TestClient, seeded: Seeded) -> None:
    """A page's form posted as JSON is not read as an empty form (which acknowledged, switched stores or answered
    409 before): every state-changing page answers 422 naming what it takes, and nothing changes."""
    from storewatch.web.app import PUBLIC, api_routes

    login(client, ADMIN)
    sample = {"alert_id": seeded.alerts["walkout"], "incident_id": seeded.incidents["walkout"], "action": "note",
              "user_id": "d" * 32, "token_id": "e" * 32, "store": "s1", "camera": "door"}  # fmt: skip
    checked = 0
    for route in api_routes(client.app):  # type: ignore[arg-type]
        if route.path.startswith("/api/") or PUBLIC in route.tags or not (route.methods - {"GET", "HEAD"}):
            continue
        path = re.sub(r"\{([^}:]+)(:path)?\}", lambda m: sample.get(m.group(1), "x"), route.path)
        for method in route.methods - {"GET", "HEAD"}:
            response = client.request(method, path, json={"action": "ack", "store": "s2"})
            assert response.status_code == 422, (method, route.path, response.status_code)
            assert "this page takes a form" in response.text and "not application/json" in response.text
            checked += 1
    assert checked >= 20
    assert client.get(f"/api/v1/alerts/{seeded.alerts['walkout']}").json()["status"] == "waiting"
    assert client.get("/api/v1/me").status_code == 200  # not logged out by /logout or /settings/sessions


def _list_operations(client: TestClient) -> list[tuple[str, list[str]]]:
    """Every GET operation without path parameters and with string-typed query parameters (the filters)."""
    found = []
    for path, item in client.app.openapi()["paths"].items():  # type: ignore[attr-defined]
        op = item.get("get")
        if op is None or "{" in path or path.endswith("/stream"):
            continue
        names = [p["name"] for p in op.get("parameters", []) if p["in"] == "query" and p["name"] != "limit"]
        if names:
            found.append((path, names))
    return found


def test_sql_in_every_filter_is_refused_or_finds_nothing_of_another_store(client: TestClient, seeded: Seeded) -> None:
    before = _counts(seeded)
    login(client, GUARD)
    operations = _list_operations(client)
    assert {"/api/v1/events", "/api/v1/alerts", "/api/v1/incidents"} <= {p for p, _ in operations}, operations
    secret = s1_only_ids(seeded)
    assert secret
    tried = 0
    for path, names in operations:
        for name in names:
            for value in INJECTIONS:
                response = client.get(path, params={name: value})
                tried += 1
                assert response.status_code < 500, (path, name, value, response.text[:300])
                assert response.status_code in (200, 303) or 400 <= response.status_code < 500, (path, name, value)
                leaked = [s for s in secret if s in response.text]
                assert not leaked and "Gran Via" not in response.text, (path, name, value, leaked)
                if response.status_code == 200 and path.startswith("/api/"):
                    rows = response.json()
                    if isinstance(rows, list):
                        assert all(r.get("store") in (None, "s2") for r in rows if isinstance(r, dict))
    assert tried >= 3 * len(INJECTIONS)
    assert client.get("/api/v1/events").status_code == 200
    assert _counts(seeded) == before


# --- a hub's evidence routes -----------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def hub_template(tmp_path_factory: pytest.TempPathFactory) -> HubSeeded:
    root = tmp_path_factory.mktemp("hub-seed")
    return seed_hub(f"sqlite:///{root / 'hub.db'}", root / "edges")


@pytest.mark.parametrize("route", ["/hub/media/", "/hub/thumbnails/"])
def test_path_traversal_on_hub_evidence_is_a_404(hub_template: HubSeeded, tmp_path: Path, route: str) -> None:
    shutil.copy(hub_template.url.removeprefix("sqlite:///"), tmp_path / "hub.db")
    settings = WebSettings(data_dir=tmp_path / "web", database_url=f"sqlite:///{tmp_path / 'hub.db'}", hub=True)
    with TestClient(create_app(settings), follow_redirects=False) as client:
        login(client, HUB_GUARD)
        for key in (
            "..%2f..%2fhub.db",
            "s2/entrance/..%2f..%2f..%2fhub.db",
            "%2e%2e/%2e%2e/web/secrets/web.key",
            "s2/entrance/2026-01-01/..%5c..%5cx.jpg",
            "/etc/passwd",
            "s2/entrance/x.jpg%00.mp4",
        ):
            response = client.get(route + key)
            assert response.status_code == 404, (route, key, response.status_code, response.text[:200])
            assert b"SQLite" not in response.content
