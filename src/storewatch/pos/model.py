"""The transaction model every POS format is parsed into: one typed, validated record per till transaction.

Money is in minor units (cents) as ``int``; times are timezone-aware UTC; a transaction is identified by its
store, register, business day and sequence number (``key``: ``store/register/day/sequence``; ``register_id``:
``store/register``). The business day is part of the identity because many POS systems number each register's
transactions afresh every day: keyed by sequence alone, today's #42 would replace yesterday's. A transaction
without ``business_day`` is taken on the UTC date of its end (``day``).
Line ``amount_minor`` values are signed by their effect on the total: sales positive, returns, voids and
discounts negative, so ``sum(line.amount_minor) + tax_minor == total_minor`` for a well-formed log.

>>> from datetime import UTC, datetime
>>> tx = Transaction(store="9", register="2", sequence=301, type=TransactionType.SALE,
...                  end_utc=datetime(2017, 10, 1, 15, 22, 43, tzinfo=UTC),
...                  lines=(LineItem(number=1, kind=LineKind.SALE, amount_minor=1250),
...                         LineItem(number=2, kind=LineKind.VOID, amount_minor=-1250, voids_line=1)))
>>> tx.key, tx.register_id, tx.net_minor, [ln.number for ln in tx.void_lines]
('9/2/2017-10-01/301', '9/2', 0, [2])
"""

from __future__ import annotations

import re
import warnings
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationInfo

DEFAULT_TZ = "default_tz"
"""Validation context key: the ``tzinfo`` that times without an offset are taken in."""


def allow_register_field() -> None:
    """Silence pydantic's warning that a field named ``register`` shadows ``ABCMeta.register`` (pydantic models
    are ABCs). Harmless for data models as long as the field is declared with ``Field(...)``: a bare annotation
    would take the method as its default. Called by each module defining such a model, before its classes."""
    warnings.filterwarnings("ignore", message='Field name "register" in ', category=UserWarning)


allow_register_field()

_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$")


def _pos_id(value: str) -> str:
    if not _ID.match(value):
        raise ValueError(
            f"{value!r} is not a POS id: 1-64 letters, digits, '_', '.', ':' or '-', starting with a letter or digit"
        )
    return value


def _utc(value: datetime, info: ValidationInfo) -> datetime:
    if value.utcoffset() is None:
        default = (info.context or {}).get(DEFAULT_TZ)
        if default is None:
            raise ValueError("times must carry a time zone (give an offset, or a default time zone to the parser)")
        value = value.replace(tzinfo=default)
    return value.astimezone(UTC)


PosId = Annotated[str, AfterValidator(_pos_id)]
"""A store, register or operator id as the POS writes it (``9``, ``34``, ``lane-3``): one segment, no ``/``."""
UTCTime = Annotated[datetime, AfterValidator(_utc)]


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TransactionType(StrEnum):
    SALE = "sale"
    RETURN = "return"
    """Only returns (refunds)."""
    EXCHANGE = "exchange"
    """Returns and sales in one transaction."""
    NO_SALE = "no_sale"
    """The drawer opened without a sale."""
    SIGN_ON = "sign_on"
    SIGN_OFF = "sign_off"
    CONTROL = "control"
    """Any other control or tender-control transaction (pickups, loans, till counts, ...)."""


class TransactionStatus(StrEnum):
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    """Voided before it was tendered."""
    POST_VOIDED = "post_voided"
    """Voided as a whole after it was tendered."""
    SUSPENDED = "suspended"


class LineKind(StrEnum):
    SALE = "sale"
    RETURN = "return"
    VOID = "void"
    """An item voided: its amount reverses the item's own sale line (``voids_line`` names it when known)."""
    DISCOUNT = "discount"


class LinkReason(StrEnum):
    RETURN = "return"
    """The original sale of returned goods (the receipt)."""
    POST_VOID = "post_void"
    RESUME = "resume"
    """A suspended transaction taken up again."""
    OTHER = "other"


class TransactionRef(_Frozen):
    """Another transaction, by its identity (an original receipt, a resumed transaction)."""

    store: PosId
    register: PosId | None = Field(None, description="None when only the store and sequence are known.")
    sequence: int = Field(ge=0)
    business_day: date | None = None


class TransactionLink(_Frozen):
    reason: LinkReason
    ref: TransactionRef


class LineItem(_Frozen):
    number: int = Field(ge=0, description="The line's sequence number within the transaction.")
    kind: LineKind
    item_id: str | None = Field(None, max_length=64)
    description: str = Field("", max_length=200)
    quantity: float = Field(1.0, description="Units or weight; negative on a void or return line as written.")
    unit_price_minor: int | None = Field(None, description="Price charged per unit.")
    regular_price_minor: int | None = Field(None, description="The item's regular (list) price per unit.")
    amount_minor: int = Field(description="Signed effect on the transaction total.")
    discount_minor: int = Field(0, ge=0, description="Discount applied to this line (already in its amount).")
    percent: float | None = Field(None, ge=0, le=100, description="Percentage of a discount line.")
    entry_method: str | None = Field(None, max_length=32, description="scanned, keyed, auto, msr, ... (lower-case).")
    price_override: bool = Field(False, description="The cashier replaced the item's price by hand.")
    voids_line: int | None = Field(None, ge=0, description="Of a void line: the number of the line it reverses.")
    reason: str | None = Field(None, max_length=120, description="Reason code given (return, discount, override).")
    original: TransactionRef | None = Field(None, description="Of a return line: the original sale (receipt).")
    at_utc: UTCTime | None = Field(None, description="When the line was entered, where the POS records it.")

    @property
    def automatic(self) -> bool:
        """Entered by the POS itself (promotions, loyalty rewards), not by the cashier."""
        return self.entry_method in ("auto", "automatic")


class Tender(_Frozen):
    kind: str = Field(min_length=1, max_length=32, description="cash, credit, debit, creditdebit, check, ...")
    amount_minor: int = Field(
        description="Amount applied to the transaction (negative when money is paid out, e.g. a refund)."
    )
    change_minor: int = Field(0, ge=0, description="Change given back (handed over: amount plus change).")
    card_type: str | None = Field(None, max_length=32)


class Transaction(_Frozen):
    store: PosId = Field(description="The store as the POS names it.")
    register: PosId = Field(description="The register (workstation, lane) within the store.")
    sequence: int = Field(ge=0, description="The register's transaction number.")
    type: TransactionType
    status: TransactionStatus = TransactionStatus.COMPLETED
    business_day: date | None = None
    start_utc: UTCTime | None = Field(None, description="When it began, where known (or estimated from timings).")
    end_utc: UTCTime
    operator: PosId | None = None
    operator_name: str | None = Field(None, max_length=120)
    currency: str | None = Field(None, min_length=3, max_length=3)
    reason: str | None = Field(None, max_length=120, description="Reason code of a control transaction.")
    lines: tuple[LineItem, ...] = ()
    tenders: tuple[Tender, ...] = ()
    tax_minor: int = 0
    total_minor: int | None = Field(None, description="The grand total as the POS wrote it.")
    link: TransactionLink | None = None
    supervisor_override: bool = Field(False, description="A supervisor or manager approved something in it.")
    source: str = Field("", max_length=300, description="Where it was read: file and record.")

    @property
    def day(self) -> date:
        """The business day of its identity: ``business_day``, else the UTC date of ``end_utc``."""
        return self.business_day or self.end_utc.date()

    @property
    def key(self) -> str:
        """``store/register/day/sequence``: what ingest is idempotent on (``transaction_key``)."""
        return transaction_key(self.store, self.register, self.day, self.sequence)

    @property
    def register_id(self) -> str:
        return f"{self.store}/{self.register}"

    @property
    def net_minor(self) -> int:
        """Sum of the lines (before tax)."""
        return sum(ln.amount_minor for ln in self.lines)

    @property
    def void_lines(self) -> list[LineItem]:
        return [ln for ln in self.lines if ln.kind is LineKind.VOID]

    @property
    def return_lines(self) -> list[LineItem]:
        return [ln for ln in self.lines if ln.kind is LineKind.RETURN]

    @property
    def is_retail(self) -> bool:
        return self.type in (TransactionType.SALE, TransactionType.RETURN, TransactionType.EXCHANGE)


def transaction_key(store: str, register: str, day: date, sequence: int) -> str:
    """The stored id of a transaction.

    >>> transaction_key("9", "2", date(2017, 10, 1), 301)
    '9/2/2017-10-01/301'
    """
    return f"{store}/{register}/{day.isoformat()}/{sequence}"


def retail_type(lines: tuple[LineItem, ...] | list[LineItem]) -> TransactionType:
    """``sale``, ``return`` or ``exchange`` from the kinds of a retail transaction's lines."""
    kinds = {ln.kind for ln in lines}
    if LineKind.RETURN in kinds:
        return TransactionType.EXCHANGE if LineKind.SALE in kinds else TransactionType.RETURN
    return TransactionType.SALE


__all__ = [
    "LineItem",
    "LineKind",
    "LinkReason",
    "PosId",
    "Tender",
    "Transaction",
    "TransactionLink",
    "TransactionRef",
    "TransactionStatus",
    "TransactionType",
    "retail_type",
    "transaction_key",
]
