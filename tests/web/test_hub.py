"""The dashboard in hub mode (``WebSettings.hub``, as ``storewatch hub --web-port`` serves it) on a hub's database
filled by the hub's ingester: the estate from the registry (last heard from, camera health, configuration running
against the newest), the hub page and its JSON, the store switcher narrowing every list, and the store scope still
deciding what each user sees. (SQLite here for speed; the browser test runs the same on PostgreSQL.)"""

from __future__ import annotations

import base64
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest
from fastapi.testclient import TestClient

from storewatch.store.db import open_database
from storewatch.sync.envelope import Envelope, Kind
from storewatch.sync.ingest import Ingester, Outcome
from storewatch.web import WebSettings, create_app
from storewatch.web.app import PUBLIC, api_routes
from storewatch.web.store_choice import COOKIE
from tests.web.conftest import login
from tests.web.hub_seed import ADMIN, GUARD, HubSeeded, seed_hub


@pytest.fixture(scope="session")
def hub_template(tmp_path_factory: pytest.TempPathFactory) -> HubSeeded:
    root = tmp_path_factory.mktemp("hub-seed")
    return seed_hub(f"sqlite:///{root / 'hub.db'}", root / "edges")


@pytest.fixture
def hub_client(hub_template: HubSeeded, tmp_path: Path) -> Iterator[TestClient]:
    shutil.copy(hub_template.url.removeprefix("sqlite:///"), tmp_path / "hub.db")
    settings = WebSettings(data_dir=tmp_path / "web", database_url=f"sqlite:///{tmp_path / 'hub.db'}", hub=True,
                           poll_interval_s=0.2)  # fmt: skip
    with TestClient(create_app(settings), follow_redirects=False) as client:
        yield client


def _login(client: TestClient, who: tuple[str, str]) -> TestClient:
    return login(client, who)


def _cards(html: str) -> list[str]:
    """The stores of the overview's store cards, in order."""
    return re.findall(r'<p class="muted small">(s\d) · ', html)


def test_the_overview_lists_every_store_of_the_registry_with_what_the_hub_knows(hub_client: TestClient) -> None:
    html = _login(hub_client, ADMIN).get("/").text
    assert _cards(html) == ["s1", "s2"]
    assert "storewatch hub" in html and 'href="/hub"' in html and 'title="Hub: coming soon"' not in html
    assert "v1 · newest" in html  # s1 runs the newest version
    assert "Runs site file · refused v2" in html and "camera &#39;office&#39; is not in store s2" in html
    assert "Heard from" in html and "just now" in html
    assert re.search(r'backdoor</span>\s*<span class="camera-status status-offline"', html)
    estate = {s["id"]: s for s in hub_client.get("/api/v1/estate").json()}
    assert {c["id"]: c["status"] for c in estate["s1"]["cameras"]} == {"s1/door": "ok", "s1/aisle-3": "ok",
                                                                      "s1/tills": "ok"}  # fmt: skip
    assert estate["s2"]["waiting_alerts"] == 1 and estate["s2"]["open_incidents"] == 2


def test_the_hub_page_and_its_json_show_streams_and_configuration_versions(hub_client: TestClient) -> None:
    _login(hub_client, ADMIN)
    status = hub_client.get("/api/v1/hub/stores").json()
    s1, s2 = status["stores"]
    assert (s1["config_running"], s1["config_latest"], s1["config_ok"]) == (1, 1, True)
    assert (s2["config_running"], s2["config_latest"], s2["config_ok"]) == (0, 2, False)
    assert (s2["cameras"], s2["cameras_with_problems"], s2["gaps"]) == (2, 1, 0)
    assert {f["camera"] for f in s1["streams"]} == {"", "s1/door", "s1/aisle-3", "s1/tills"}
    assert [(v["store"], v["version"]) for v in status["versions"]] == [("s2", 2), ("s2", 1), ("s1", 1)]
    html = hub_client.get("/hub").text
    assert 'id="store-s1"' in html and 'id="store-s2"' in html and "1 of 2 without problems" in html


def test_the_store_switcher_narrows_every_list_and_is_kept(hub_client: TestClient, hub_template: HubSeeded) -> None:
    _login(hub_client, ADMIN)
    everything = hub_client.get("/alerts").text
    assert everything.count('class="card alert-card') == 4
    assert '<option value="">All my stores (2)</option>' in everything

    switched = hub_client.post("/store", data={"store": "s2", "next": "/alerts?status=waiting&store=s1"})
    assert switched.status_code == 303 and switched.headers["location"] == "/alerts?status=waiting&store=s1"
    assert hub_client.cookies.get(COOKIE) == "s2"
    alerts = hub_client.get("/alerts").text
    shown = set(re.findall(r'id="alert-(\w+)"', alerts))
    assert shown == {hub_template.alerts["fight"], hub_template.alerts["restricted"]}
    assert '<option value="s2" selected>s2</option>' in alerts
    incidents = hub_client.get("/incidents").text
    assert hub_template.incidents["fight"] in incidents and hub_template.incidents["walkout"] not in incidents
    assert _cards(hub_client.get("/").text) == ["s2"]
    assert 'id="store-s1"' not in hub_client.get("/hub").text
    assert hub_client.get("/incidents?store=").text.count('class="row-link"') == 4  # the page's own filter: all
    assert hub_client.get(f"/alerts/{hub_template.alerts['walkout']}").status_code == 200  # one item: not narrowed

    back = hub_client.post("/store", data={"store": "", "next": "/"})
    assert back.status_code == 303 and COOKIE not in hub_client.cookies
    assert _cards(hub_client.get("/").text) == ["s1", "s2"]


def test_the_scope_still_decides_a_guard_of_one_store_sees_one(hub_client: TestClient, hub_template: HubSeeded) -> None:
    _login(hub_client, GUARD)
    html = hub_client.get("/").text
    assert _cards(html) == ["s2"] and "data-switcher" not in html  # one store: nothing to switch
    assert [s["id"] for s in hub_client.get("/api/v1/hub/stores").json()["stores"]] == ["s2"]
    assert hub_client.post("/store", data={"store": "s1", "next": "/"}).status_code == 404
    hub_client.cookies.set(COOKIE, "s1")  # a cookie naming another store is no choice
    assert hub_client.get("/alerts").text.count('class="card alert-card') == 2
    assert hub_client.get(f"/alerts/{hub_template.alerts['walkout']}").status_code == 404


def test_evidence_kept_at_the_stores_shows_as_its_thumbnail_or_says_where_it_is(
    hub_client: TestClient, hub_template: HubSeeded, tmp_path: Path
) -> None:
    _login(hub_client, ADMIN)
    alert = hub_client.get(f"/api/v1/alerts/{hub_template.alerts['walkout']}").json()
    assert alert["evidence"]["snapshot"] is None  # no thumbnail came with it
    assert alert["evidence"]["snapshot_full"].startswith("/hub/media/s1/door/")
    assert "Snapshot kept at the store" in hub_client.get("/alerts").text

    fight = hub_template.events["fight"]
    jpeg = cv2.imencode(".jpg", np.full((180, 320, 3), 80, np.uint8))[1].tobytes()
    payload = {"event_id": fight.id, "width": 320, "height": 180, "jpeg": base64.b64encode(jpeg).decode()}
    walkout = hub_template.events["walkout"]
    with open_database(f"sqlite:///{tmp_path / 'hub.db'}") as db:
        for event in (fight, walkout):
            env = Envelope(id=f"t{event.id[:8]}", kind=Kind.THUMBNAIL, store=event.store, camera=str(event.camera),
                           seq=99, created_utc=event.start_utc, sent_utc=event.start_utc,
                           payload={**payload, "event_id": event.id})  # fmt: skip
            assert Ingester(db).apply(env) == Outcome.APPLIED
    shown = hub_client.get(f"/api/v1/alerts/{hub_template.alerts['fight']}").json()["evidence"]
    assert shown["snapshot"].startswith("/hub/thumbnails/s2/entrance/")
    got = hub_client.get(shown["snapshot"])
    assert (got.status_code, got.headers["content-type"], got.content) == (200, "image/jpeg", jpeg)
    assert f'src="{shown["snapshot"]}"' in hub_client.get("/alerts").text
    hub = hub_client.get("/api/v1/hub/stores").json()["stores"]
    assert [(s["id"], s["alerts"], s["alerts_waiting"], s["thumbnails"]) for s in hub] == [("s1", 2, 2, 1),
                                                                                         ("s2", 2, 1, 1)]  # fmt: skip

    # this hub has no NATS and no bucket: a clip cannot be fetched, an acknowledgement cannot reach the store
    fetched = hub_client.get(shown["snapshot_full"])
    assert fetched.status_code == 503 and "no way to fetch it" in fetched.text
    refused = hub_client.post(f"/api/v1/alerts/{hub_template.alerts['walkout']}/acknowledge", json={})
    assert refused.status_code == 503 and "acknowledge the alert at store s1" in refused.text
    theirs = hub_client.get(f"/api/v1/alerts/{hub_template.alerts['walkout']}").json()["evidence"]["snapshot"]
    assert hub_client.get(theirs).status_code == 200
    assert hub_client.get(theirs.replace("s1/door", "s2/entrance")).status_code == 404  # the key names its store
    _login(hub_client, GUARD)  # a guard of s2 only: no thumbnail of s1
    assert hub_client.get(theirs).status_code == 404


def test_every_hub_route_requires_a_login(hub_client: TestClient) -> None:
    routes = [r for r in api_routes(hub_client.app) if r.path in ("/hub", "/api/v1/hub/stores", "/store")]  # type: ignore[arg-type]
    assert len(routes) == 3 and all(PUBLIC not in r.tags for r in routes)
    assert hub_client.get("/api/v1/hub/stores").status_code == 401
    assert hub_client.get("/hub").headers["location"] == "/login?next=/hub"
    assert hub_client.post("/store", data={"store": "s1"}).headers["location"].startswith("/login?next=")


def test_a_site_has_no_hub_page(admin: TestClient) -> None:
    assert admin.get("/hub").status_code == 404
    html = admin.get("/").text
    assert 'href="/hub"' not in html and "coming soon" not in html  # a store's dashboard announces no hub page
