"""The shrink report end to end, on SQLite and PostgreSQL: stock files ingested (idempotently, the bad row kept in
quarantine), behaviour events stored as the runner stores them, and the report pairing each shelf zone's
unexplained loss with the events of that zone in the period; the same through the CLI (text, JSON, CSV)."""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from pathlib import Path

import pytest

from storewatch.cli.app import main
from storewatch.config.loader import load_site_config
from storewatch.inventory.config import InventoryConfig
from storewatch.inventory.service import InventoryService, period
from storewatch.store.db import Database, default_url, open_database
from storewatch.store.migrate import upgrade
from tests.inventory.conftest import shelf_events

MARCH = period(date(2026, 3, 1), date(2026, 3, 31), "UTC")


def _service(database: Database, site_file: Path) -> InventoryService:
    return InventoryService(database, load_site_config(site_file).inventory)


def test_report_pairs_each_zones_loss_with_its_events(
    database: Database, site_file: Path, stock_files: tuple[Path, Path]
) -> None:
    service = _service(database, site_file)
    adj, counts = (service.ingest_file(p) for p in stock_files)
    assert (adj.adjustments, adj.inserted, len(adj.quarantined)) == (5, 5, 1)
    assert adj.quarantined[0].path == "reason" and adj.quarantined[0].record.startswith("line 7")
    assert (counts.counts, counts.inserted) == (6, 6)
    events = shelf_events(database)

    report = service.report(["s1"], *MARCH)
    zones = {z.shrink.zone: z for z in report.zones}
    assert [z.shrink.zone for z in report.zones] == ["electronics", "razors", "deli"]  # most money lost first

    elec = zones["electronics"]
    assert (elec.shrink.camera, elec.shrink.shortfall, elec.shrink.explained, elec.shrink.unexplained) == (
        "s1/aisle-3", 11, 3, 8)  # fmt: skip
    assert (elec.shrink.unexplained_minor, elec.shrink.uncosted_units) == (7 * 1999, 1)  # CAM-9 has no cost
    assert [(s.sku, s.unexplained) for s in elec.shrink.skus] == [("ELEC-1", 7), ("CAM-9", 1), ("ELEC-2", 0)]
    assert elec.events is not None
    assert elec.events.by_type == {"loitering": 3, "repeat_visit": 1}
    assert [e.id for e in elec.events.newest] == [events[i].id for i in (3, 2, 1, 0)]  # newest first, April's not

    razors = zones["razors"]  # RZR-1: the damaged unit explains the one missing; RZR-2: written off as theft
    assert [(s.sku, s.shortfall, s.explained, s.unexplained) for s in razors.shrink.skus] == [
        ("RZR-2", 0, 0, 2), ("RZR-1", 1, 1, 0)]  # fmt: skip
    assert razors.shrink.unexplained_minor == 2 * 1299
    assert razors.events is not None and razors.events.total == 0

    deli = zones["deli"]  # unmapped SKU placed by its adjustment's zone column
    assert (deli.shrink.camera, deli.shrink.unexplained, deli.shrink.unexplained_minor) == (None, 1, 350)
    assert report.unexplained == 11 and report.unexplained_minor == 7 * 1999 + 2 * 1299 + 350

    assert service.report(["s2"], *MARCH).zones == []


def test_only_the_configured_kinds_are_put_beside(
    database: Database, site_file: Path, stock_files: tuple[Path, Path]
) -> None:
    cfg = load_site_config(site_file).inventory
    service = InventoryService(database, InventoryConfig.model_validate({**cfg.model_dump(), "event_kinds": [
        "repeat_visit"]}))  # fmt: skip
    for path in stock_files:
        service.ingest_file(path)
    shelf_events(database)
    elec = next(z for z in service.report(None, *MARCH).zones if z.shrink.zone == "electronics")
    assert elec.events is not None and elec.events.by_type == {"repeat_visit": 1}


def test_ingest_is_idempotent_and_a_corrected_count_replaces_the_stored_one(
    database: Database, site_file: Path, stock_files: tuple[Path, Path], tmp_path: Path
) -> None:
    service = _service(database, site_file)
    for path in stock_files:
        service.ingest_file(path)
    again = [service.ingest_file(p) for p in stock_files]
    assert [(r.inserted, r.updated, r.unchanged) for r in again] == [(0, 0, 5), (0, 0, 6)]
    assert service.repo.totals() == {"adjustments": 5, "counts": 6, "quarantined": 1}  # the bad row kept once

    fixed = tmp_path / "recount.csv"
    fixed.write_text("store,sku,counted_qty,expected_qty,at_utc,unit_cost_minor\n"
                     "s1,ELEC-1,47,50,2026-03-20T07:00:00Z,1999\n")  # fmt: skip
    r = service.ingest_file(fixed)
    assert (r.inserted, r.updated) == (0, 1)
    elec = next(z for z in service.report(["s1"], *MARCH).zones if z.shrink.zone == "electronics")
    assert elec.shrink.skus[0].sku == "CAM-9" and elec.shrink.unexplained == 1  # ELEC-1: 3 missing, 3 damaged


def test_cli_ingest_and_report(
    tmp_path: Path, site_file: Path, stock_files: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    with open_database(default_url(data)) as db:
        upgrade(db)
        shelf_events(db)
    common = ["--data-dir", str(data), "--config", str(site_file)]
    assert main(["inventory", "ingest", *map(str, stock_files), *common, "--json"]) == 1  # one row quarantined
    out, err = capsys.readouterr()
    lines = [json.loads(x) for x in out.splitlines()]
    assert [(x["adjustments"], x["counts"], x["quarantined"]) for x in lines] == [(5, 0, 1), (0, 6, 0)]
    assert "line 7 (sku ELEC-9): reason: 'lost'" in err

    assert main(["inventory", "ingest", str(stock_files[1]), *common]) == 0
    out, _ = capsys.readouterr()
    assert "0 new, 0 changed, 6 already stored" in out and "rows/s" in out

    period_args = ["--store", "s1", "--from", "2026-03-01", "--to", "2026-03-31", *common]
    assert main(["inventory", "report", *period_args]) == 0
    text, _ = capsys.readouterr()
    assert "s1/electronics (camera s1/aisle-3): 8 units unexplained (139.93 EUR)" in text
    assert "behaviour events in the zone: 4 (loitering 3, repeat_visit 1)" in text

    assert main(["inventory", "report", *period_args, "--json"]) == 0
    body = json.loads(capsys.readouterr().out)
    assert body["zones"][0]["events"]["by_type"] == {"loitering": 3, "repeat_visit": 1}

    assert main(["inventory", "report", *period_args, "--csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    elec1 = next(r for r in rows if r["sku"] == "ELEC-1")
    assert (elec1["zone"], elec1["unexplained"], elec1["zone_events"], elec1["zone_events_by_type"]) == (
        "electronics", "7", "4", "loitering:3;repeat_visit:1")  # fmt: skip


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--from", "2026-03-31", "--to", "2026-03-01"], "is before --from"),
        (["--from", "March", "--to", "2026-03-01"], "--from 'March': not a date"),
        (["--from", "2026-03-01", "--to", "2026-03-02", "--json", "--csv"], "not both"),
        (["--from", "2025-01-01", "--to", "2026-03-02"], "over 366 days"),
    ],
)
def test_cli_report_errors(tmp_path: Path, args: list[str], says: str, capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "data"
    data.mkdir()
    with open_database(default_url(data)) as db:
        upgrade(db)
    assert main(["inventory", "report", "--data-dir", str(data), *args]) == 2
    assert says in capsys.readouterr().err


def test_cli_ingest_of_a_missing_file_is_an_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["inventory", "ingest", str(tmp_path / "nope.csv"), "--data-dir", str(tmp_path)]) == 2
    assert "no such file" in capsys.readouterr().err
