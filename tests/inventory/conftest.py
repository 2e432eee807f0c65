"""Inventory fixtures: a store with two shelf zones on two cameras (electronics by SKU prefix, razors by SKU), the
stock files of a month (counts showing loss in both, write-offs explaining some), behaviour events in one zone,
and the databases of the store tests (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from storewatch.core.events import Event, Severity
from storewatch.core.ids import CameraId
from storewatch.store.db import Database
from storewatch.store.events import EventRepository
from tests.store.conftest import database, db_url, postgres_server  # noqa: F401  (the same fixtures)

T0 = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
SHELF = [[0.1, 0.1], [0.5, 0.1], [0.5, 0.9], [0.1, 0.9]]


def site(inventory: dict[str, Any] | None = None) -> dict[str, Any]:
    """The site file as data: store s1 with cameras aisle-3 (zone electronics) and aisle-5 (zone razors)."""
    cams = [
        {"id": "aisle-3", "source": "a3.mp4", "zones": [{"id": "electronics", "kind": "high_value", "polygon": SHELF}]},
        {"id": "aisle-5", "source": "a5.mp4", "zones": [{"id": "razors", "kind": "high_value", "polygon": SHELF}]},
    ]  # fmt: skip
    shelves = [
        {"store": "s1", "camera": "s1/aisle-3", "zone": "electronics", "prefixes": ["ELEC-"], "skus": ["CAM-9"]},
        {"store": "s1", "camera": "s1/aisle-5", "zone": "razors", "skus": ["RZR-1", "RZR-2"]},
    ]
    section = inventory if inventory is not None else {"currency": "EUR", "shelves": shelves}
    return {"site": {"id": "acme"}, "stores": [{"id": "s1", "cameras": cams}, {"id": "s2"}], "inventory": section}


ADJUSTMENTS = """\
store,sku,qty_delta,reason,at_utc,zone,unit_cost_minor,reference,description
s1,ELEC-1,-3,damaged,2026-03-10T12:00:00Z,,1999,ADJ-1,Headphones
s1,ELEC-1,24,received,2026-03-05T08:00:00Z,,1999,ADJ-2,Headphones
s1,RZR-1,-1,damaged,2026-03-12T12:00:00Z,,899,ADJ-3,Razor blades 8
s1,RZR-2,-2,theft,2026-03-14T12:00:00Z,,1299,ADJ-4,Razor 5-blade
s1,FOOD-1,-1,expired,2026-03-14T12:00:00Z,deli,350,,Ham
s1,ELEC-9,-1,lost,2026-03-14T12:00:00Z,,100,,
"""
COUNTS = """\
store,sku,counted_qty,expected_qty,at_utc,unit_cost_minor,description
s1,ELEC-1,40,50,2026-03-20T07:00:00Z,1999,Headphones
s1,ELEC-2,10,10,2026-03-20T07:00:00Z,4999,Speaker
s1,CAM-9,3,4,2026-03-20T07:00:00Z,,Action camera
s1,RZR-1,29,30,2026-03-20T07:00:00Z,899,Razor blades 8
s1,FOOD-1,3,5,2026-03-20T07:00:00Z,350,Ham
s1,RZR-2,12,12,2026-04-02T07:00:00Z,1299,Razor 5-blade
"""


@pytest.fixture
def site_file(tmp_path: Path) -> Path:
    path = tmp_path / "site.yaml"
    path.write_text(yaml.safe_dump(site(), sort_keys=False))
    return path


@pytest.fixture
def stock_files(tmp_path: Path) -> tuple[Path, Path]:
    adj, counts = tmp_path / "adjustments.csv", tmp_path / "counts.csv"
    adj.write_text(ADJUSTMENTS)
    counts.write_text(COUNTS)
    return adj, counts


def shelf_events(db: Database) -> list[Event]:
    """Loitering three times and a repeat visit at the electronics shelf in March; there also one loitering in
    April (after the period); a fight at store s2 in a zone of the same name (another store), and a loitering on
    the razors camera outside any zone. Nothing in the razors zone."""
    specs = [
        ("loitering", "s1/aisle-3", "electronics", T0),
        ("loitering", "s1/aisle-3", "electronics", T0 + timedelta(days=2)),
        ("loitering", "s1/aisle-3", "electronics", T0 + timedelta(days=5, hours=3)),
        ("repeat_visit", "s1/aisle-3", "electronics", T0 + timedelta(days=6)),
        ("loitering", "s1/aisle-3", "electronics", datetime(2026, 4, 3, 10, tzinfo=UTC)),
        ("fight", "s2/entrance", "electronics", T0),
        ("loitering", "s1/aisle-5", None, T0),
    ]
    events = [
        Event.start(kind, CameraId(cam), at, f"{kind} at {zone}", severity=Severity.MEDIUM, zone=zone)
        for kind, cam, zone, at in specs
    ]
    EventRepository(db).upsert_many(events)
    return events
