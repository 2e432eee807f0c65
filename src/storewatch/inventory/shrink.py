"""Shrink per SKU and per shelf zone over a period, from its cycle counts and adjustments (pure: no database).

Per SKU (units; money when a unit cost is known):

- **variance** = sum over the period's counts of (counted - expected); below zero, units missing. Each count is
  taken on its own (the book is reset to the count), so a SKU counted twice adds both counts' variances.
- **shortfall** = the missing units, ``max(0, -variance)``.
- **explained** = units written off with a known cause (``inventory.explained_reasons``: damaged, expired,
  return to vendor...). They are taken as *not yet* in the count's expected quantity: the damaged stock found at
  the count is posted against it, and accounts for that much of the shortfall.
- **written off unexplained** = units written off as theft or unknown (``inventory.unexplained_reasons``).
- **unexplained** = ``max(shortfall - explained, written off unexplained, 0)``: the shortfall no known cause
  accounts for, and at least what the store itself wrote off as theft or unknown (a SKU written off that way but
  not counted in the period still shows).

Movements (received, sold, transfers, customer returns, corrections) change nothing here: the book already has
them. Money: unexplained units times the SKU's newest unit cost in the period (from a count or an adjustment);
None when no row gives one.

>>> from datetime import UTC, datetime
>>> from storewatch.inventory.config import InventoryConfig, SkuZones
>>> from storewatch.inventory.model import CycleCount, StockAdjustment
>>> t = datetime(2026, 3, 1, tzinfo=UTC)
>>> cfg = InventoryConfig()
>>> counts = [CycleCount(store="s1", sku="A", counted_qty=40, expected_qty=50, at_utc=t, unit_cost_minor=250)]
>>> adjs = [StockAdjustment(store="s1", sku="A", qty_delta=-3, reason="damaged", at_utc=t)]
>>> [(s.shortfall, s.explained, s.unexplained, s.unexplained_minor) for s in by_sku(counts, adjs, cfg, SkuZones(cfg))]
[(10, 3, 7, 1750)]
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from storewatch.inventory.config import InventoryConfig, SkuZones


class CountLike(Protocol):
    """What shrink reads of a count: a ``CycleCount``, or a database row with these columns."""

    @property
    def store(self) -> str: ...
    @property
    def sku(self) -> str: ...
    @property
    def at_utc(self) -> datetime: ...
    @property
    def unit_cost_minor(self) -> int | None: ...
    @property
    def description(self) -> str | None: ...
    @property
    def counted_qty(self) -> int: ...
    @property
    def expected_qty(self) -> int: ...


class AdjustmentLike(Protocol):
    """What shrink reads of an adjustment (``reason``: its value, e.g. ``damaged``)."""

    @property
    def store(self) -> str: ...
    @property
    def sku(self) -> str: ...
    @property
    def at_utc(self) -> datetime: ...
    @property
    def unit_cost_minor(self) -> int | None: ...
    @property
    def description(self) -> str | None: ...
    @property
    def qty_delta(self) -> int: ...
    @property
    def reason(self) -> str: ...
    @property
    def zone(self) -> str | None: ...


UNMAPPED = ""
"""The zone of SKUs no shelf maps and no adjustment places."""


@dataclass
class SkuShrink:
    store: str
    sku: str
    zone: str = UNMAPPED
    camera: str | None = None
    description: str | None = None
    counts: int = 0
    counted: int = 0
    expected: int = 0
    explained: int = 0
    written_off_unexplained: int = 0
    unit_cost_minor: int | None = None
    explained_by: dict[str, int] = field(default_factory=dict)
    """Units per explained reason."""
    _cost_at: datetime | None = None

    @property
    def variance(self) -> int:
        return self.counted - self.expected

    @property
    def shortfall(self) -> int:
        return max(0, -self.variance)

    @property
    def unexplained(self) -> int:
        return max(self.shortfall - self.explained, self.written_off_unexplained, 0)

    @property
    def unexplained_minor(self) -> int | None:
        return None if self.unit_cost_minor is None else self.unexplained * self.unit_cost_minor

    def cost_seen(self, cost: int | None, at: datetime) -> None:
        if cost is not None and (self._cost_at is None or at >= self._cost_at):
            self.unit_cost_minor, self._cost_at = cost, at

    def to_dict(self) -> dict[str, object]:
        return {
            "store": self.store, "sku": self.sku, "description": self.description, "zone": self.zone or None,
            "camera": self.camera, "counts": self.counts, "counted": self.counted, "expected": self.expected,
            "variance": self.variance, "shortfall": self.shortfall, "explained": self.explained,
            "explained_by": self.explained_by, "written_off_unexplained": self.written_off_unexplained,
            "unexplained": self.unexplained, "unit_cost_minor": self.unit_cost_minor,
            "unexplained_minor": self.unexplained_minor,
        }  # fmt: skip


@dataclass
class ZoneShrink:
    """A shelf zone's SKUs and their totals."""

    store: str
    zone: str
    camera: str | None
    skus: list[SkuShrink]

    @property
    def shortfall(self) -> int:
        return sum(s.shortfall for s in self.skus)

    @property
    def explained(self) -> int:
        return sum(s.explained for s in self.skus)

    @property
    def unexplained(self) -> int:
        return sum(s.unexplained for s in self.skus)

    @property
    def unexplained_minor(self) -> int | None:
        """Money of the SKUs with a known cost (None when none has one)."""
        known = [m for s in self.skus if (m := s.unexplained_minor) is not None]
        return sum(known) if known else None

    @property
    def uncosted_units(self) -> int:
        """Unexplained units of SKUs without a unit cost (their money is not in ``unexplained_minor``)."""
        return sum(s.unexplained for s in self.skus if s.unit_cost_minor is None)


def by_sku(
    counts: Iterable[CountLike], adjustments: Iterable[AdjustmentLike], config: InventoryConfig, zones: SkuZones
) -> list[SkuShrink]:
    """Each SKU's shrink over the given rows (the period's), ordered by store and SKU."""
    lines: dict[tuple[str, str], SkuShrink] = {}
    placed: dict[tuple[str, str], tuple[datetime, str]] = {}

    def line(store: str, sku: str, description: str | None) -> SkuShrink:
        found = lines.get((store, sku))
        if found is None:
            found = lines[(store, sku)] = SkuShrink(store, sku)
        if description:
            found.description = description
        return found

    for c in counts:
        s = line(c.store, c.sku, c.description)
        s.counts += 1
        s.counted += c.counted_qty
        s.expected += c.expected_qty
        s.cost_seen(c.unit_cost_minor, c.at_utc)
    for a in adjustments:
        s = line(a.store, a.sku, a.description)
        s.cost_seen(a.unit_cost_minor, a.at_utc)
        if a.zone is not None and a.at_utc >= placed.get((a.store, a.sku), (a.at_utc, ""))[0]:
            placed[(a.store, a.sku)] = (a.at_utc, a.zone)
        if a.qty_delta >= 0:
            continue
        reason = str(a.reason)
        if config.is_explained(reason):
            s.explained -= a.qty_delta
            s.explained_by[reason] = s.explained_by.get(reason, 0) - a.qty_delta
        elif config.is_unexplained(reason):
            s.written_off_unexplained -= a.qty_delta
    for key, s in lines.items():
        shelf = zones.shelf(s.store, s.sku)
        if shelf is not None:
            s.zone, s.camera = shelf.zone, shelf.camera
        elif key in placed:
            s.zone = placed[key][1]
    return [lines[k] for k in sorted(lines)]


def by_zone(skus: Sequence[SkuShrink]) -> list[ZoneShrink]:
    """The SKUs grouped by store and zone: zones with the most unexplained loss (money, then units) first; the
    SKUs of a zone likewise."""
    groups: dict[tuple[str, str], list[SkuShrink]] = {}
    for s in skus:
        groups.setdefault((s.store, s.zone), []).append(s)
    zones = [
        ZoneShrink(store, zone, next((s.camera for s in items if s.camera), None), sorted(items, key=_loss_order))
        for (store, zone), items in groups.items()
    ]
    return sorted(zones, key=lambda z: (-(z.unexplained_minor or 0), -z.unexplained, z.store, z.zone))


def _loss_order(s: SkuShrink) -> tuple[int, int, str]:
    return -(s.unexplained_minor or 0), -s.unexplained, s.sku
