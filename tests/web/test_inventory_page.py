"""The inventory page and its JSON: the seeded site with shelves mapped (electronics on the aisle camera, where
the seed's loitering happened; razors at the tills, quiet), stock files of the last days ingested; the page puts
each zone's unexplained loss beside its events (linked to their incidents), within the user's stores; a wrong
period is shown at its field. (In a browser: ``test_browser_inventory``.)"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient

from storewatch.core.events import Event
from storewatch.core.ids import CameraId
from storewatch.inventory.service import InventoryService
from storewatch.store import EventRepository, open_database
from storewatch.store.db import default_url
from storewatch.web import create_app
from tests.web.conftest import login, settings_for
from tests.web.seed import ADMIN, GUARD, SITE_YAML, Seeded

SHELF = [[0.05, 0.2], [0.45, 0.2], [0.45, 0.95], [0.05, 0.95]]


def _site() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(SITE_YAML)
    cams = {c["id"]: c for c in data["stores"][0]["cameras"]}
    cams["aisle-3"]["zones"] = [{"id": "electronics", "kind": "high_value", "polygon": SHELF}]
    cams["tills"]["zones"] = [{"id": "razors", "kind": "high_value", "polygon": SHELF}]
    data["inventory"] = {"currency": "EUR", "shelves": [
        {"store": "s1", "camera": "s1/aisle-3", "zone": "electronics", "prefixes": ["ELEC-"]},
        {"store": "s1", "camera": "s1/tills", "zone": "razors", "prefixes": ["RZR-"]},
    ]}  # fmt: skip
    return data


def _stock(seeded: Seeded) -> Seeded:
    """The site file with shelves, a week of stock files ingested, and one more shelf event (a repeat visit)."""
    data_dir = seeded.data_dir
    site = _site()
    (data_dir / "site.yaml").write_text(yaml.safe_dump(site, sort_keys=False))
    day = (datetime.now(UTC) - timedelta(days=1)).strftime("%Y-%m-%dT07:00:00Z")
    adj = data_dir / "adjustments.csv"
    adj.write_text("store,sku,qty_delta,reason,at_utc,unit_cost_minor,description\n"
                   f"s1,ELEC-HP1,-2,damaged,{day},7999,Wireless headphones\n"
                   f"s1,RZR-5,-1,damaged,{day},1299,Razor 5-blade\n")  # fmt: skip
    counts = data_dir / "counts.csv"
    counts.write_text("store,sku,counted_qty,expected_qty,at_utc,unit_cost_minor,description\n"
                      f"s1,ELEC-HP1,31,40,{day},7999,Wireless headphones\n"
                      f"s1,ELEC-SPK2,14,16,{day},4999,Bluetooth speaker\n"
                      f"s1,ELEC-CBL,120,120,{day},499,USB-C cable\n"
                      f"s1,RZR-5,22,23,{day},1299,Razor 5-blade\n"
                      f"s1,RZR-BL8,40,43,{day},899,Razor blades 8\n")  # fmt: skip
    from storewatch.config.schema import SiteConfig

    with open_database(default_url(data_dir)) as db:
        service = InventoryService(db, SiteConfig.model_validate(site).inventory)
        assert not any(service.ingest_file(p).quarantined for p in (adj, counts))
        visit = Event.start("repeat_visit", CameraId("s1/aisle-3"), datetime.now(UTC) - timedelta(hours=3),
                            "entered zone electronics 4 times in 5 min", zone="electronics")  # fmt: skip
        EventRepository(db).upsert(visit)
    return seeded


@pytest.fixture
def stocked(seeded: Seeded) -> Seeded:
    return _stock(seeded)


@pytest.fixture
def client(stocked: Seeded) -> Any:
    with TestClient(create_app(settings_for(stocked.data_dir)), follow_redirects=False) as c:
        yield c


def test_the_page_puts_each_zones_loss_beside_its_events(client: TestClient, stocked: Seeded) -> None:
    page = login(client, ADMIN).get("/inventory")
    assert page.status_code == 200
    html = page.text
    assert html.index("Electronics") < html.index("Razors")  # most money lost first
    assert "<strong>9</strong> units unexplained" in html  # HP1: 9 missing, 2 damaged -> 7; SPK2: 2
    assert "<strong>2</strong> loitering" in html and "<strong>1</strong> repeat visit" in html
    assert f'href="/incidents/{stocked.incidents["loiter"]}"' in html
    assert "No behaviour events in this zone in the period." in html  # the razors
    body = client.get("/api/v1/inventory/shrink").json()
    assert [z["zone"] for z in body["zones"]] == ["electronics", "razors"]
    assert body["zones"][0]["unexplained_minor"] == 7 * 7999 + 2 * 4999


def test_a_user_sees_only_their_stores_and_a_wrong_period_at_its_field(client: TestClient) -> None:
    login(client, GUARD)
    assert "No stock counts or adjustments" in client.get("/inventory").text
    assert client.get("/api/v1/inventory/shrink").json()["zones"] == []
    assert client.get("/api/v1/inventory/shrink?store=s1").status_code == 404
    login(client, ADMIN)
    wrong = client.get("/inventory?from=2026-03-10&to=2026-03-01")
    assert wrong.status_code == 422 and 'id="from-error"' in wrong.text and "is before" in wrong.text
    assert client.get("/api/v1/inventory/shrink?from=2026-03-10&to=2026-03-01").status_code == 422
