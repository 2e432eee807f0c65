"""The ``inventory`` section of the site file: which SKUs sit on which shelf zone of which camera, how adjustment
reasons count in shrink, which behaviour events a zone's loss is put beside, and the stock system's CSV headers.
Strict (unknown keys are errors), every field described and bounded. The site checks that each shelf's store,
camera and zone exist (``SiteConfig``, errors naming ``inventory.shelves[i].<key>`` and its YAML line).

SKUs are mapped by exact SKU or by prefix (a category's SKUs often share one: ``ELEC-``); an exact SKU wins over a
prefix, a longer prefix over a shorter one. Within a store a SKU or a prefix belongs to one shelf only.

>>> cfg = InventoryConfig.model_validate({"shelves": [{"store": "s1", "camera": "s1/aisle-3", "zone": "electronics",
...                                                    "skus": ["CAM-9"], "prefixes": ["ELEC-"]}]})
>>> index = SkuZones(cfg)
>>> index.shelf("s1", "ELEC-42").zone, index.shelf("s1", "FOOD-1"), cfg.is_explained("damaged")
('electronics', None, True)
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from storewatch.inventory.model import AdjustmentReason, Code
from storewatch.pos.config import CameraRef, Slug, Timezone

ALL_COLUMNS = frozenset(
    {"store", "sku", "qty_delta", "reason", "at_utc", "zone", "unit_cost_minor", "reference", "description",
     "counted_qty", "expected_qty"}
)  # fmt: skip
"""Every column the CSV reader knows (``inventory.csvfmt``)."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ShelfMapping(_Strict):
    """One shelf zone and the SKUs on it."""

    store: Slug = Field(description="The site's store id (the stock files' store column).")
    camera: CameraRef = Field(description="The camera watching the shelf: store/camera of the site file.")
    zone: Slug = Field(description="The shelf's zone (a zone of that camera).")
    skus: list[Code] = Field(default_factory=list, max_length=100_000, description="SKUs on the shelf, exactly.")
    prefixes: list[Code] = Field(
        default_factory=list, max_length=1000, description="SKU prefixes on the shelf (a category: ELEC-)."
    )

    @model_validator(mode="after")
    def _has_skus(self) -> ShelfMapping:
        if not self.skus and not self.prefixes:
            raise ValueError(f"shelf {self.store}/{self.zone} maps no SKUs: give skus or prefixes")
        return self


DEFAULT_EXPLAINED = [
    AdjustmentReason.DAMAGED, AdjustmentReason.EXPIRED, AdjustmentReason.RETURN_TO_VENDOR, AdjustmentReason.RECALL,
    AdjustmentReason.INTERNAL_USE,
]  # fmt: skip


class InventoryConfig(_Strict):
    timezone: Timezone = Field(
        "UTC", description="IANA time zone of stock-file times without an offset, and of report days."
    )
    currency: str | None = Field(
        None, pattern=r"^[A-Z]{3}$", description="ISO 4217 code of unit_cost_minor (shown with money; 2 decimals)."
    )
    shelves: list[ShelfMapping] = Field(default_factory=list, max_length=10_000, description="SKUs -> shelf zones.")
    explained_reasons: list[AdjustmentReason] = Field(
        default_factory=lambda: list(DEFAULT_EXPLAINED),
        description="Write-off reasons with a known cause: they explain part of a count's shortfall.",
    )
    unexplained_reasons: list[AdjustmentReason] = Field(
        default_factory=lambda: [AdjustmentReason.THEFT, AdjustmentReason.UNKNOWN],
        description="Write-off reasons that are themselves unexplained loss.",
    )
    event_kinds: list[str] | None = Field(
        None,
        max_length=100,
        description="Behaviour rules (event types) put beside a zone's loss; none: every behaviour event in the zone.",
    )
    columns: dict[str, str] = Field(
        default_factory=dict,
        max_length=100,
        description="The stock system's CSV headers -> ours (e.g. {'Qty Change': qty_delta}); see docs/inventory.md.",
    )

    @field_validator("shelves")
    @classmethod
    def _unique_shelves(cls, shelves: list[ShelfMapping]) -> list[ShelfMapping]:
        zones: set[tuple[str, str]] = set()
        owner: dict[tuple[str, str, str], str] = {}
        for s in shelves:
            if (s.store, s.zone) in zones:
                raise ValueError(f"shelf zone {s.store}/{s.zone} is mapped twice (list all its SKUs in one entry)")
            zones.add((s.store, s.zone))
            for kind, codes in (("SKU", s.skus), ("prefix", s.prefixes)):
                for code in codes:
                    other = owner.get((s.store, kind, code))
                    if other is not None:
                        where = f"twice on shelf {other}" if other == s.zone else f"on shelf {other} and {s.zone}"
                        raise ValueError(f"{kind} {code!r} of store {s.store} is {where}: a SKU is on one shelf")
                    owner[(s.store, kind, code)] = s.zone
        return shelves

    @field_validator("unexplained_reasons", "explained_reasons")
    @classmethod
    def _losses_only(cls, reasons: list[AdjustmentReason]) -> list[AdjustmentReason]:
        movements = [r.value for r in reasons if not r.loss]
        if movements:
            raise ValueError(f"{', '.join(movements)}: a movement, not a write-off (received, sold, transfers, "
                             "customer returns and corrections neither explain nor make loss)")  # fmt: skip
        return reasons

    @field_validator("event_kinds")
    @classmethod
    def _known_kinds(cls, kinds: list[str] | None) -> list[str] | None:
        from storewatch.behaviour.rules.registry import RULES

        unknown = [k for k in kinds or [] if k not in RULES]
        if unknown:
            raise ValueError(f"unknown behaviour rule(s) {', '.join(unknown)} (rules: {', '.join(RULES)})")
        return kinds

    @field_validator("columns")
    @classmethod
    def _known_columns(cls, columns: dict[str, str]) -> dict[str, str]:
        unknown = sorted(v for v in columns.values() if v not in ALL_COLUMNS)
        if unknown:
            raise ValueError(f"maps to unknown column(s) {', '.join(unknown)} (ours: {', '.join(sorted(ALL_COLUMNS))})")
        return columns

    @model_validator(mode="after")
    def _reasons_apart(self) -> InventoryConfig:
        both = sorted(set(self.explained_reasons) & set(self.unexplained_reasons))
        if both:
            raise ValueError(f"reason(s) {', '.join(both)} are both explained_reasons and unexplained_reasons")
        return self

    def is_explained(self, reason: str) -> bool:
        return reason in self.explained_reasons

    def is_unexplained(self, reason: str) -> bool:
        return reason in self.unexplained_reasons


class SkuZones:
    """Which shelf a store's SKU is on (built from the config once: exact SKUs in a dict, prefixes longest first)."""

    def __init__(self, config: InventoryConfig) -> None:
        self.exact: dict[tuple[str, str], ShelfMapping] = {}
        self.prefixes: dict[str, list[tuple[str, ShelfMapping]]] = {}
        for s in config.shelves:
            self.exact.update({(s.store, sku): s for sku in s.skus})
            self.prefixes.setdefault(s.store, []).extend((p, s) for p in s.prefixes)
        for entries in self.prefixes.values():
            entries.sort(key=lambda e: -len(e[0]))

    def shelf(self, store: str, sku: str) -> ShelfMapping | None:
        found = self.exact.get((store, sku))
        if found is not None:
            return found
        return next((s for p, s in self.prefixes.get(store, ()) if sku.startswith(p)), None)
