"""POS exceptions: what the exception rules raise (the loss-prevention term: a transaction worth a look, not a
Python exception). Each names its code, the transaction or cashier, when, the measured values that made it fire,
a sentence a person can read, and the till video to look at (camera and time window) when the register is
mapped to a camera.

>>> from datetime import UTC, datetime
>>> from datetime import date
>>> e = PosException.of(ExceptionCode.NO_SALE, store="9", register="5", sequence=65, operator="759",
...                     business_day=date(2017, 10, 1), at_utc=datetime(2017, 10, 1, 15, 19, 11, tzinfo=UTC),
...                     explanation="drawer opened, no sale")
>>> e.id, e.code.value, e.transaction_key
('no_sale:9/5/2017-10-01/65', 'no_sale', '9/5/2017-10-01/65')
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from storewatch.pos.config import ClipConfig, TillMapping
from storewatch.pos.model import Transaction, UTCTime, allow_register_field, transaction_key

allow_register_field()


class ExceptionCode(StrEnum):
    VOID_LINE = "void_line"
    POST_VOID = "post_void"
    NO_SALE = "no_sale"
    REFUND_WITHOUT_RECEIPT = "refund_without_receipt"
    EXCESSIVE_VOIDS = "excessive_voids"
    EXCESSIVE_REFUNDS = "excessive_refunds"
    MANUAL_PRICE_OVERRIDE = "manual_price_override"
    HIGH_DISCOUNT = "high_discount"
    REFUND_NO_CUSTOMER = "refund_no_customer"
    SCAN_GAP = "scan_gap"
    CASHIER_ABSENT_DRAWER_OPEN = "cashier_absent_drawer_open"


class ClipWindow(BaseModel):
    """The till's video to look at: a camera and a time window (cut from its recordings)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    camera: str = Field(description="Namespaced camera id, store/camera.")
    start_utc: UTCTime
    end_utc: UTCTime


Value = float | int | str | bool


class PosException(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(max_length=255, description="Stable: the same finding always gets the same id (idempotent).")
    code: ExceptionCode
    store: str
    register: str | None = Field(None, description="None for a cashier's period finding.")
    sequence: int | None = None
    business_day: date | None = Field(None, description="Of a transaction's finding: the transaction's (its key).")
    operator: str | None = None
    at_utc: UTCTime
    period_start_utc: UTCTime | None = Field(None, description="Of a period finding (excessive_*).")
    period_end_utc: UTCTime | None = None
    values: dict[str, Value] = Field(default_factory=dict)
    explanation: str = Field(min_length=1, max_length=500)
    clip: ClipWindow | None = None

    @classmethod
    def of(cls, code: ExceptionCode, **fields: Any) -> PosException:
        """An exception with its id made from the code and what it is about."""
        store, register, sequence = fields["store"], fields.get("register"), fields.get("sequence")
        if sequence is not None:
            day = fields.get("business_day")
            if register is None or day is None:
                raise ValueError("a transaction's finding needs its register and business_day (its key)")
            ident = f"{code.value}:{transaction_key(store, register, day, sequence)}"
        else:
            start, end = fields.get("period_start_utc"), fields.get("period_end_utc")
            span = f"{start:%Y%m%dT%H%M%S}-{end:%Y%m%dT%H%M%S}" if start and end else ""
            ident = f"{code.value}:{store}:{fields.get('operator')}:{span}"
        return cls(id=ident, code=code, **fields)

    @property
    def transaction_key(self) -> str | None:
        """The key of the transaction it is about (None for a cashier's period finding)."""
        if self.sequence is None or self.register is None or self.business_day is None:
            return None
        return transaction_key(self.store, self.register, self.business_day, self.sequence)


def for_transaction(
    code: ExceptionCode,
    tx: Transaction,
    explanation: str,
    values: dict[str, Value],
    *,
    at_utc: datetime | None = None,
    clip: ClipWindow | None = None,
) -> PosException:
    return PosException.of(
        code,
        store=tx.store,
        register=tx.register,
        sequence=tx.sequence,
        business_day=tx.day,
        operator=tx.operator,
        at_utc=at_utc or tx.end_utc,
        values=values,
        explanation=explanation[:500],
        clip=clip,
    )


def transaction_window(tx: Transaction, clip: ClipConfig) -> tuple[datetime, datetime]:
    """When the transaction ran: its start (or its end less the default length) to its end."""
    start = tx.start_utc or tx.end_utc - timedelta(seconds=clip.default_duration_s)
    return min(start, tx.end_utc), tx.end_utc


def clip_for(
    tx: Transaction, till: TillMapping | None, clip: ClipConfig, around: tuple[datetime, datetime] | None = None
) -> ClipWindow | None:
    """The till camera's video over ``around`` (default: the transaction) with the configured margins."""
    if till is None:
        return None
    start, end = around or transaction_window(tx, clip)
    return ClipWindow(
        camera=till.camera,
        start_utc=start - timedelta(seconds=clip.before_s),
        end_utc=end + timedelta(seconds=clip.after_s),
    )


def money(minor: int, currency: str | None) -> str:
    """``1250, "USD"`` -> ``12.50 USD``."""
    from storewatch.pos.records import exponent_of

    exp = exponent_of(currency)
    text = f"{abs(minor) / 10**exp:.{exp}f}"
    return f"{'-' if minor < 0 else ''}{text}{' ' + currency if currency else ''}"
