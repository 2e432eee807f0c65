"""What the stock system tells: a stock adjustment (units added to or taken from the book, with a reason) and a
cycle count (units counted on the shelf against the units the book expected). Strict models: a record either
validates whole or is quarantined by the parser naming the column.

Identity, for idempotent ingest: an adjustment with a ``reference`` (the stock system's document number) is that
document's line in its store; without one, its content (store, SKU, time, units, reason, zone) is its identity,
so a re-sent file adds nothing. A count is one SKU counted at one time in one store: a corrected re-send replaces
it.

>>> from datetime import UTC, datetime
>>> a = StockAdjustment(store="s1", sku="A-1", qty_delta=-2, reason="damaged", at_utc=datetime(2026, 3, 1, tzinfo=UTC))
>>> a.key, a.reason.loss
('s1/A-1/2026-03-01T00:00:00+00:00/-2/damaged/', True)
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from storewatch.pos.config import Slug
from storewatch.pos.model import UTCTime

MAX_UNITS = 1_000_000_000
_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:#+-]{0,63}$")


def _code(value: str) -> str:
    if not _CODE.match(value):
        raise ValueError(
            f"{value!r} is not a code: 1-64 letters, digits, '_', '.', ':', '#', '+' or '-', starting with a letter "
            "or digit (no spaces)"
        )
    return value


Code = Annotated[str, AfterValidator(_code)]
"""A SKU, SKU prefix or document number as the stock system writes it (``4006381333931``, ``ELEC-``)."""


class AdjustmentReason(StrEnum):
    """Why the book changed. Movements (stock in and out through the normal business) are not loss; the others
    are write-offs, explained (a known cause) or not, as the ``inventory`` section classes them."""

    RECEIVED = "received"
    SOLD = "sold"
    CUSTOMER_RETURN = "customer_return"
    TRANSFER_IN = "transfer_in"
    TRANSFER_OUT = "transfer_out"
    CORRECTION = "correction"
    """A book correction (a mis-keyed receipt): neither loss nor movement."""
    DAMAGED = "damaged"
    EXPIRED = "expired"
    RETURN_TO_VENDOR = "return_to_vendor"
    RECALL = "recall"
    INTERNAL_USE = "internal_use"
    THEFT = "theft"
    UNKNOWN = "unknown"

    @property
    def loss(self) -> bool:
        """Whether units leaving for this reason are a write-off (not a movement or a correction)."""
        return self not in _MOVEMENTS


_MOVEMENTS = frozenset(
    {
        AdjustmentReason.RECEIVED,
        AdjustmentReason.SOLD,
        AdjustmentReason.CUSTOMER_RETURN,
        AdjustmentReason.TRANSFER_IN,
        AdjustmentReason.TRANSFER_OUT,
        AdjustmentReason.CORRECTION,
    }
)


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    store: Slug = Field(description="The site file's store id.")
    sku: Code = Field(description="The stock-keeping unit as the stock system writes it.")
    at_utc: UTCTime = Field(description="When (ISO 8601; without an offset: the inventory section's time zone).")
    unit_cost_minor: int | None = Field(None, ge=0, le=10**12, description="Cost of one unit, minor units.")
    reference: Code | None = Field(None, description="The stock system's document number, when it gives one.")
    description: str | None = Field(None, max_length=200, description="The product's name.")
    source: str = Field("", max_length=300, description="File and line it was read from.")


class StockAdjustment(_Record):
    qty_delta: int = Field(ge=-MAX_UNITS, le=MAX_UNITS, description="Units added (+) or taken (-) from the book.")
    reason: AdjustmentReason = Field(description="Why: a movement (received, sold...) or a write-off (damaged...).")
    zone: Slug | None = Field(None, description="The shelf zone it happened at, when the stock system says.")

    @model_validator(mode="after")
    def _not_zero(self) -> StockAdjustment:
        if self.qty_delta == 0:
            raise ValueError("qty_delta is 0: an adjustment of no units changes nothing")
        return self

    @property
    def key(self) -> str:
        if self.reference is not None:
            return f"{self.store}/ref/{self.reference}/{self.sku}"
        when = self.at_utc.isoformat()
        return f"{self.store}/{self.sku}/{when}/{self.qty_delta}/{self.reason.value}/{self.zone or ''}"


class CycleCount(_Record):
    counted_qty: int = Field(ge=0, le=MAX_UNITS, description="Units found on the shelf.")
    expected_qty: int = Field(ge=-MAX_UNITS, le=MAX_UNITS, description="Units the book expected (may be < 0).")

    @property
    def key(self) -> str:
        return f"{self.store}/{self.sku}/{self.at_utc.isoformat()}"

    @property
    def variance(self) -> int:
        """Counted minus expected: below zero, units missing."""
        return self.counted_qty - self.expected_qty


StockRecord = StockAdjustment | CycleCount
