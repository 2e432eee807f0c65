"""Hub and edges as real processes on 127.0.0.1: NATS with JetStream, ``storewatch hub`` on PostgreSQL (with its
dashboard) and two ``storewatch edge`` stores, each on a generated camera where a rule fires every few seconds.
Every store's events, alerts (with their thumbnails) and incidents reach the one hub in order, the registry knows
both stores and their cameras; a clip opened at the hub is fetched from its store, an alert acknowledged at the hub
is acknowledged at its store, and a store that is offline is said to be; a configuration version pushed to one
store is applied there without a restart (its new events show it) and acknowledged."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import cv2
import httpx
import numpy as np
import yaml

from storewatch.cli.app import main
from storewatch.store.alerts import AlertRepository
from storewatch.store.events import EventRepository
from storewatch.store.incidents import IncidentRepository
from storewatch.store.models import AlertStatus
from storewatch.sync.registry import Registry
from storewatch.web.auth import CSRF_HEADER
from tests.helpers import wait_for
from tests.sync.estate import RULES, WEB_USER, Estate
from tests.web.conftest import login_form


def _running(estate: Estate, store: str) -> int | None:
    return next((s.config_running for s in Registry(estate.hub_db).stores() if s.id == store), None)


def _dashboard(estate: Estate) -> httpx.Client:
    web = httpx.Client(base_url=estate.web_url, timeout=20.0)

    def logged_in() -> bool:
        try:
            return login_form(web, {"username": WEB_USER[0], "password": WEB_USER[1], "next": "/"}).status_code == 303
        except httpx.TransportError:
            return False

    try:
        wait_for(logged_in, timeout_s=30)
    except AssertionError:
        raise AssertionError(f"cannot log in to the hub's dashboard at {estate.web_url}") from None
    found = re.search(r'<meta name="csrf-token" content="([^"]+)">', web.get("/").text)
    assert found, "the dashboard's pages carry the session's CSRF token"
    web.headers[CSRF_HEADER] = found.group(1)  # as app.js sends it with every change
    return web


def _alerts(web: httpx.Client, store: str) -> list[dict[str, Any]]:
    response = web.get("/api/v1/alerts", params={"store": store, "limit": 200})
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()
    return found


def _with_evidence(web: httpx.Client, store: str) -> dict[str, Any] | None:
    """An alert of ``store`` shown with its thumbnail and a clip to open, still waiting for someone."""
    return next((a for a in _alerts(web, store) if a["status"] == "waiting" and a["evidence"]["clip"]
                 and (a["evidence"]["snapshot"] or "").startswith("/hub/thumbnails/")), None)  # fmt: skip


def _alerts_and_evidence_at_the_hub(estate: Estate, web: httpx.Client) -> list[dict[str, Any]]:
    """Each store's alerts show at the hub with their thumbnails; a clip opened there comes from its store; an
    alert acknowledged there is acknowledged at its store (its escalation stops). Returns an alert per store."""
    shown = {}
    for store in ("s1", "s2"):
        try:
            wait_for(lambda store=store: _with_evidence(web, store) is not None, timeout_s=30)  # type: ignore[misc]
        except AssertionError:
            seen = [(a["status"], a["evidence"]) for a in _alerts(web, store)]
            raise AssertionError(f"no waiting alert of {store} with a thumbnail and a clip: {seen}") from None
        shown[store] = alert = _with_evidence(web, store)
        assert alert is not None
        thumb = web.get(alert["evidence"]["snapshot"])
        assert thumb.status_code == 200 and thumb.headers["content-type"] == "image/jpeg"
        image = cv2.imdecode(np.frombuffer(thumb.content, np.uint8), cv2.IMREAD_COLOR)
        assert image is not None and image.shape[1] <= 320 and len(thumb.content) <= 48_000
        key = alert["evidence"]["clip"].removeprefix("/hub/media/")
        assert key.endswith(".protected.mp4"), key  # a clip travels only with its faces blurred
        original = next((estate.data_dir(store) / "media" / key).parent.glob(f"{key.split('/')[-1].split('.')[0]}.m*"))
        assert web.get(f"/hub/media/{key.rsplit('/', 1)[0]}/{original.name}").status_code == 404  # never as recorded
        first = web.get(alert["evidence"]["clip"])  # the store starts blurring the faces in it
        assert first.status_code == 503 and "blurring the faces" in first.text, first.text
        started = time.monotonic()
        url = str(alert["evidence"]["clip"])
        wait_for(lambda url=url: web.get(url).status_code != 503, timeout_s=180)  # type: ignore[misc]
        clip = web.get(url)
        assert clip.status_code == 200, clip.text
        assert clip.headers["content-type"] == "video/mp4"
        assert clip.content == (estate.data_dir(store) / "media" / key).read_bytes()  # the edge's own file
        print(
            f"{store}: clip of {len(clip.content)} bytes, faces blurred at the store and fetched in "
            f"{time.monotonic() - started:.2f} s"
        )
    page = web.get("/alerts").text
    assert page.count('src="/hub/thumbnails/') >= 2

    alert = shown["s1"]
    done = web.post(f"/api/v1/alerts/{alert['id']}/acknowledge", json={})
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "acknowledged"
    with estate.edge_db("s1") as db:
        at_store = AlertRepository(db).get(alert["id"])
    assert at_store is not None and at_store.status == AlertStatus.ACKNOWLEDGED
    assert at_store.acknowledged_by == f"{WEB_USER[0]} (at the hub)"
    again = web.post(f"/api/v1/alerts/{alert['id']}/acknowledge", json={})
    assert again.status_code == 409, again.text
    return list(shown.values())


def test_two_stores_report_to_one_hub_and_take_a_configuration_live(estate: Estate, tmp_path: Path) -> None:
    estate.start_hub(web=True)
    estate.start_edge("s1")
    estate.start_edge("s2")
    events = EventRepository(estate.hub_db)
    try:
        wait_for(lambda: {e.camera for e in events.list(type="restricted_area", limit=1000)}
                 >= {"s1/c1", "s1/c2", "s2/c1"}, timeout_s=90)  # fmt: skip
        wait_for(lambda: _running(estate, "s1") == 0 and _running(estate, "s2") == 0, timeout_s=30)
        wait_for(lambda: all(IncidentRepository(estate.hub_db).list(store=s) for s in ("s1", "s2")), timeout_s=30)
        assert {c.camera for c in Registry(estate.hub_db).cameras()} == {"s1/c1", "s1/c2", "s2/c1"}
        web = _dashboard(estate)
        shown = _alerts_and_evidence_at_the_hub(estate, web)

        live = tmp_path / "live.yaml"
        high = {"restricted_area": {**RULES["restricted_area"], "severity": "high"}}
        live.write_text(yaml.safe_dump({"rules": high}))
        assert main(["hub", "--database", estate.hub_url, "--nats", estate.nats.url, "config", "s2", str(live),
                     "--by", "tester"]) == 0  # fmt: skip
        # 60 s: on a loaded machine the hub may be some way behind the stores (it applies one message at a time)
        wait_for(lambda: _running(estate, "s2") == 1, timeout_s=60)
        applied = datetime.now(UTC)
        wait_for(lambda: any(e.start_utc > applied for e in events.list(store="s2", type="restricted_area")),
                 timeout_s=60)  # fmt: skip
        after = [e for e in events.list(type="restricted_area", since=applied, limit=1000)]
        assert {e.severity.value for e in after if e.store == "s2"} == {"high"}  # the new version runs at s2
        assert {e.severity.value for e in after if e.store == "s1"} <= {"medium"}  # and only there
        assert _running(estate, "s1") == 0
    except AssertionError as exc:
        raise AssertionError(f"{exc}\n{estate.logs()}") from None
    stop = time.monotonic()
    for proc in estate.procs[1:]:
        assert proc.stop() == 0, estate.logs()  # the edges stop cleanly, sending what they have
    wait_for(lambda: estate.caught_up("s1") and estate.caught_up("s2"), timeout_s=30)
    for store in ("s1", "s2"):
        assert estate.hub_events(store) == estate.edge_events(store)  # every event, in its final state
        assert estate.hub_alerts(store) == estate.edge_alerts(store)  # every alert, in its final state
        for camera, (last, received, gaps, late) in estate.hub_streams(store).items():
            where = f"{store} {camera or '(store)'}"
            assert (received, gaps, late) == (last, 0, 0), f"{where}: {last, received, gaps, late}"
    print(f"caught up {time.monotonic() - stop:.1f} s after the edges stopped")

    started = time.monotonic()  # the stores are offline now: a clip not fetched before is not available
    offline = web.get(shown[1]["evidence"]["snapshot_full"])
    assert offline.status_code == 503 and "Store s2 is offline" in offline.text, offline.text
    offline_s = time.monotonic() - started
    assert offline_s < 10
    refused = web.post(f"/api/v1/alerts/{shown[1]['id']}/acknowledge", json={})
    assert refused.status_code == 503 and "offline" in refused.text
    assert web.get(shown[0]["evidence"]["clip"]).status_code == 200  # fetched before: kept at the hub
    print(f"a store offline: said so in {offline_s:.2f} s")
