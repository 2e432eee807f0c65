"""The stock CSV reader: adjustments and counts read, each bad row quarantined naming its line and column while
the rest are read, bad headers quarantining the file; the inventory section's own checks and the SKU -> shelf
index; the site file checking each shelf against its stores, cameras and zones (with the YAML line)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml
from pydantic import ValidationError

from storewatch.config.loader import check_site_config
from storewatch.inventory.config import InventoryConfig, SkuZones
from storewatch.inventory.csvfmt import parse_stock_csv
from storewatch.inventory.model import CycleCount, StockAdjustment
from storewatch.pos.records import Quarantined
from tests.inventory.conftest import ADJUSTMENTS, COUNTS, site

ADJ_HEAD = "store,sku,qty_delta,reason,at_utc,zone,unit_cost_minor\n"


def _one(text: str, **kwargs: object) -> StockAdjustment | CycleCount | Quarantined:
    results = list(parse_stock_csv(text.encode(), "f.csv", **kwargs))  # type: ignore[arg-type]
    assert len(results) == 1, results
    return results[0]


def test_fixture_files_read_with_the_one_bad_reason_quarantined() -> None:
    adj = list(parse_stock_csv(ADJUSTMENTS.encode(), "adj.csv"))
    counts = list(parse_stock_csv(COUNTS.encode(), "counts.csv"))
    assert [type(r).__name__ for r in adj] == ["StockAdjustment"] * 5 + ["Quarantined"]
    assert all(isinstance(c, CycleCount) for c in counts) and len(counts) == 6
    first = adj[0]
    assert isinstance(first, StockAdjustment)
    assert (first.sku, first.qty_delta, first.reason.value, first.unit_cost_minor, first.reference) == (
        "ELEC-1", -3, "damaged", 1999, "ADJ-1")  # fmt: skip
    assert first.source == "adj.csv#2"
    assert isinstance(counts[0], CycleCount) and counts[0].variance == -10


@pytest.mark.parametrize(
    ("row", "column", "says"),
    [
        ("s1,A-1,two,damaged,2026-03-01T10:00:00Z,,", "qty_delta", "'two'"),
        ("s1,A-1,0,damaged,2026-03-01T10:00:00Z,,", "", "qty_delta is 0"),
        ("s1,A-1,-1,stolen,2026-03-01T10:00:00Z,,", "reason", "'stolen'"),
        ("s1,A-1,-1,theft,yesterday,,", "at_utc", "'yesterday'"),
        ("s1,A 1,-1,theft,2026-03-01T10:00:00Z,,", "sku", "not a code"),
        ("S 1,A-1,-1,theft,2026-03-01T10:00:00Z,,", "store", "slug"),
        ("s1,A-1,-1,theft,2026-03-01T10:00:00Z,Deli Counter,", "zone", "slug"),
        ("s1,A-1,-1,theft,2026-03-01T10:00:00Z,,-5", "unit_cost_minor", "greater than or equal to 0"),
        ("s1,A-1,-1,theft,2026-03-01T10:00:00Z,,1.5", "unit_cost_minor", "'1.5'"),
        (",A-1,-1,theft,2026-03-01T10:00:00Z,,", "store", "Field required"),
        ("s1,A-1,-1,theft,2026-03-01T10:00:00Z", "", "5 cells, the header has 7"),
    ],
)
def test_a_bad_adjustment_row_names_its_line_and_column(row: str, column: str, says: str) -> None:
    text = ADJ_HEAD + "s1,OK-1,-1,damaged,2026-03-01T09:00:00Z,,\n" + row + "\n"
    good, bad = parse_stock_csv(text.encode(), "f.csv")
    assert isinstance(good, StockAdjustment)
    assert isinstance(bad, Quarantined), bad
    assert bad.record.startswith("line 3") and bad.path == column and says in bad.error, bad


@pytest.mark.parametrize(
    ("header", "says"),
    [
        ("", "empty file"),
        ("store,sku,qty,reason,at_utc", "unknown column(s) qty"),
        ("store,sku,qty_delta,at_utc", "lacks column(s) reason"),
        ("store,sku,counted_qty,at_utc", "lacks column(s) expected_qty"),
        ("store,sku,qty_delta,reason,counted_qty,expected_qty,at_utc", "one kind per file"),
        ("store,sku,sku,qty_delta,reason,at_utc", "sku given twice"),
    ],
)
def test_a_bad_header_quarantines_the_file(header: str, says: str) -> None:
    bad = _one(header + "\ns1,A,1,2,2026-03-01T00:00:00Z\n")
    assert isinstance(bad, Quarantined) and bad.record == "file" and says in bad.error, bad


def test_counts_negative_counted_is_refused_but_negative_book_is_not() -> None:
    head = "store,sku,counted_qty,expected_qty,at_utc\n"
    ok = _one(head + "s1,A,0,-3,2026-03-01T00:00:00Z\n")
    bad = _one(head + "s1,A,-1,3,2026-03-01T00:00:00Z\n")
    assert isinstance(ok, CycleCount) and ok.variance == 3
    assert isinstance(bad, Quarantined) and bad.path == "counted_qty"


def test_times_without_offset_take_the_given_zone_and_headers_are_renamed() -> None:
    text = "Store;SKU;Change;Why;When\n".replace(";", ",") + "s1,A,-2,theft,2026-03-01 10:00\n"
    columns = {"Store": "store", "SKU": "sku", "Change": "qty_delta", "Why": "reason", "When": "at_utc"}
    adj = _one(text, default_tz=ZoneInfo("Europe/Madrid"), columns=columns)
    assert isinstance(adj, StockAdjustment) and adj.at_utc == datetime(2026, 3, 1, 9, tzinfo=UTC)


def test_not_utf8_and_unreadable_files_are_quarantined(tmp_path: Path) -> None:
    latin = list(parse_stock_csv(b"store,sku\n\xe9\n", "x.csv"))
    missing = list(parse_stock_csv(tmp_path / "nope.csv"))
    assert latin[0].error == "not UTF-8 text"  # type: ignore[union-attr]
    assert isinstance(missing[0], Quarantined) and "cannot read" in missing[0].error


def test_identity_reference_or_content() -> None:
    t = datetime(2026, 3, 1, tzinfo=UTC)
    a = StockAdjustment(store="s1", sku="A", qty_delta=-1, reason="theft", at_utc=t, reference="D-7")
    b = StockAdjustment(store="s1", sku="A", qty_delta=-2, reason="theft", at_utc=t, reference="D-7")
    c = StockAdjustment(store="s1", sku="A", qty_delta=-2, reason="theft", at_utc=t)
    assert a.key == b.key != c.key


def test_sku_index_exact_beats_prefix_and_longer_prefix_beats_shorter() -> None:
    cfg = InventoryConfig.model_validate({"shelves": [
        {"store": "s1", "camera": "s1/a", "zone": "all-elec", "prefixes": ["E"]},
        {"store": "s1", "camera": "s1/a", "zone": "audio", "prefixes": ["EAU-"], "skus": ["X-1"]},
        {"store": "s1", "camera": "s1/b", "zone": "special", "skus": ["EAU-7"]},
    ]})  # fmt: skip
    zones = SkuZones(cfg)
    got = {sku: (z.zone if (z := zones.shelf("s1", sku)) else None) for sku in ("EAU-7", "EAU-1", "E-1", "X-1", "Q")}
    assert got == {"EAU-7": "special", "EAU-1": "audio", "E-1": "all-elec", "X-1": "audio", "Q": None}
    assert zones.shelf("s2", "E-1") is None


@pytest.mark.parametrize(
    ("section", "says"),
    [
        ({"shelves": [{"store": "s1", "camera": "s1/a", "zone": "z"}]}, "maps no SKUs"),
        ({"shelves": [{"store": "s1", "camera": "s1/a", "zone": "z", "skus": ["A"]},
                      {"store": "s1", "camera": "s1/b", "zone": "y", "skus": ["A"]}]}, "on shelf z and y"),
        ({"shelves": [{"store": "s1", "camera": "s1/a", "zone": "z", "skus": ["A"]},
                      {"store": "s1", "camera": "s1/b", "zone": "z", "skus": ["B"]}]}, "mapped twice"),
        ({"shelves": [{"store": "s1", "camera": "s1/a", "zone": "z", "prefixes": ["A", "A"]}]}, "twice on shelf z"),
        ({"explained_reasons": ["sold"]}, "a movement"),
        ({"explained_reasons": ["theft"]}, "both explained_reasons and unexplained_reasons"),
        ({"event_kinds": ["shoplifting"]}, "unknown behaviour rule(s) shoplifting"),
        ({"columns": {"Qty": "quantity"}}, "unknown column(s) quantity"),
        ({"timezone": "Mars/Olympus"}, "unknown time zone"),
        ({"shelf": []}, "Extra inputs are not permitted"),
    ],
)  # fmt: skip
def test_inventory_section_errors(section: dict[str, object], says: str) -> None:
    with pytest.raises(ValidationError) as exc:
        InventoryConfig.model_validate(section)
    assert says in str(exc.value), exc.value


@pytest.mark.parametrize(
    ("change", "key", "says"),
    [
        ({"store": "s9"}, "inventory.shelves[1].store", "the site has no store 's9'"),
        ({"camera": "s1/aisle-9"}, "inventory.shelves[1].camera", "which store s1 lacks"),
        ({"camera": "s1/aisle-3"}, "inventory.shelves[1].zone", "camera s1/aisle-3 has no zone 'razors'"),
    ],
)
def test_the_site_file_checks_each_shelf_with_its_line(tmp_path: Path, change: dict[str, str], key: str,
                                                        says: str) -> None:  # fmt: skip
    data = site()
    data["inventory"]["shelves"][1].update(change)
    path = tmp_path / "site.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    issues = check_site_config(path)
    assert len(issues) == 1 and issues[0].key_path == key and says in issues[0].message, issues
    line = path.read_text().splitlines()[(issues[0].line or 0) - 1]
    assert line.strip().removeprefix("- ").startswith(key.rsplit(".", 1)[1] + ":"), line


def test_the_fixture_site_is_valid(site_file: Path) -> None:
    assert check_site_config(site_file) == []
