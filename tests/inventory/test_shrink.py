"""Shrink per SKU and per zone, table-driven: what a count's shortfall, explained and unexplained write-offs and
movements make of it; the unit cost; where an SKU is placed; zones ordered by what they lost."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from storewatch.inventory.config import InventoryConfig, SkuZones
from storewatch.inventory.model import CycleCount, StockAdjustment
from storewatch.inventory.shrink import by_sku, by_zone

T = datetime(2026, 3, 1, tzinfo=UTC)
CFG = InventoryConfig.model_validate({"shelves": [
    {"store": "s1", "camera": "s1/a", "zone": "elec", "prefixes": ["E-"]},
    {"store": "s1", "camera": "s1/b", "zone": "razors", "skus": ["R-1"]},
]})  # fmt: skip


def count(counted: int, expected: int, at_h: int = 0, sku: str = "E-1", **kw: Any) -> CycleCount:
    return CycleCount(store="s1", sku=sku, counted_qty=counted, expected_qty=expected,
                      at_utc=T + timedelta(hours=at_h), **kw)  # fmt: skip


def adj(delta: int, reason: str, at_h: int = 0, sku: str = "E-1", **kw: Any) -> StockAdjustment:
    return StockAdjustment(store="s1", sku=sku, qty_delta=delta, reason=reason, at_utc=T + timedelta(hours=at_h),
                           **kw)  # fmt: skip


@pytest.mark.parametrize(
    ("counts", "adjustments", "missing", "explained", "unexplained"),
    [
        ([count(40, 50)], [], 10, 0, 10),
        ([count(40, 50)], [adj(-3, "damaged"), adj(-2, "expired")], 10, 5, 5),
        ([count(40, 50)], [adj(-12, "damaged")], 10, 12, 0),  # more explained than missing: no loss, not negative
        ([count(52, 50)], [], 0, 0, 0),  # a surplus
        ([count(40, 50), count(30, 31, at_h=5)], [], 11, 0, 11),  # each count stands alone
        ([count(40, 50)], [adj(24, "received"), adj(-6, "sold"), adj(-2, "transfer_out")], 10, 0, 10),  # movements
        ([], [adj(-2, "theft")], 0, 0, 2),  # written off as theft, no count: still loss
        ([count(40, 50)], [adj(-4, "theft")], 10, 0, 10),  # the theft write-off is part of the shortfall
        ([count(48, 50)], [adj(-4, "unknown")], 2, 0, 4),  # at least what was written off unexplained
        ([count(40, 50)], [adj(3, "damaged")], 10, 0, 10),  # a positive write-off (a reversal) explains nothing
    ],
)
def test_sku_shrink(counts: list[CycleCount], adjustments: list[StockAdjustment], missing: int, explained: int,
                    unexplained: int) -> None:  # fmt: skip
    (line,) = by_sku(counts, adjustments, CFG, SkuZones(CFG))
    assert (line.shortfall, line.explained, line.unexplained) == (missing, explained, unexplained)


def test_explained_reasons_are_configurable() -> None:
    cfg = InventoryConfig.model_validate({**CFG.model_dump(), "explained_reasons": []})
    (line,) = by_sku([count(40, 50)], [adj(-3, "damaged")], cfg, SkuZones(cfg))
    assert (line.explained, line.unexplained) == (0, 10)


def test_newest_unit_cost_prices_the_loss() -> None:
    rows = [count(40, 50, at_h=5, unit_cost_minor=300)]
    (line,) = by_sku(rows, [adj(-1, "damaged", at_h=1, unit_cost_minor=250)], CFG, SkuZones(CFG))
    assert (line.unit_cost_minor, line.unexplained_minor) == (300, 9 * 300)
    (late,) = by_sku(rows, [adj(-1, "damaged", at_h=9, unit_cost_minor=250)], CFG, SkuZones(CFG))
    assert late.unit_cost_minor == 250


def test_placing_skus_and_ordering_zones() -> None:
    counts = [count(0, 1, sku="E-1", unit_cost_minor=100), count(0, 1, sku="R-1", unit_cost_minor=5000),
              count(0, 9, sku="F-1"), count(0, 1, sku="G-1")]  # fmt: skip
    adjustments = [adj(-1, "damaged", sku="F-1", zone="deli"), adj(-1, "damaged", at_h=2, sku="F-1", zone="bakery")]
    lines = by_sku(counts, adjustments, CFG, SkuZones(CFG))
    assert {s.sku: (s.zone, s.camera) for s in lines} == {
        "E-1": ("elec", "s1/a"), "R-1": ("razors", "s1/b"), "F-1": ("bakery", None), "G-1": ("", None)}  # fmt: skip
    zones = by_zone(lines)
    assert [z.zone for z in zones] == ["razors", "elec", "bakery", ""]  # money first, then units
    assert (zones[2].unexplained, zones[2].unexplained_minor, zones[2].uncosted_units) == (7, None, 7)
