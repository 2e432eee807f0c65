"""What a parser returns for each record: a ``Transaction``, or a ``Quarantined`` naming the record, the place in
it and what is wrong. Parsers never raise on one bad record: the rest of the batch goes on.

>>> q = Quarantined("a.xml", "Transaction[3] (store 9, register 2, sequence 301)", "LineItem[4]/Sale/ExtendedAmount",
...                 "'1,2' is not an amount")
>>> str(q)
"a.xml: Transaction[3] (store 9, register 2, sequence 301): LineItem[4]/Sale/ExtendedAmount: '1,2' is not an amount"
>>> to_minor("-93.66", "ExtendedAmount"), to_minor("2.999", "Price"), to_minor("5", "JPY", exponent=0)
(-9366, 300, 5)
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from functools import lru_cache
from pathlib import Path
from typing import Any

from storewatch.pos.model import Transaction

RAW_MAX_CHARS = 65_536
"""A quarantined record keeps at most this much of its raw text."""


@dataclass(frozen=True, slots=True)
class Quarantined:
    """A record that could not be read, kept with its error so nothing is silently dropped."""

    source: str
    """The file (or transport) it came from."""
    record: str
    """Which record: ``Transaction[3] (store 9, ...)``, ``line 14``, ``record 2``, or ``file``."""
    path: str
    """Where in the record: an element path, a JSON key path, a CSV column; ``""`` for the record as a whole."""
    error: str
    raw: str | None = None
    """The record's text, when it could be cut out (at most ``RAW_MAX_CHARS``)."""

    def __str__(self) -> str:
        where = f"{self.record}: {self.path}" if self.path else self.record
        return f"{self.source}: {where}: {self.error}"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


ParseResult = Transaction | Quarantined


class RecordError(Exception):
    """Raised inside a parser for one record; the parser turns it into a ``Quarantined`` and goes on."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(message)
        self.path = path
        self.message = message


_SIMPLE = re.compile(r"(-?)(\d{1,15})(?:\.(\d{0,15}))?")

CURRENCY_EXPONENTS = {"JPY": 0, "KRW": 0, "ISK": 0, "CLP": 0, "VND": 0, "BHD": 3, "KWD": 3, "OMR": 3, "JOD": 3}
"""Minor-unit exponents that are not 2 (ISO 4217)."""


def exponent_of(currency: str | None) -> int:
    return CURRENCY_EXPONENTS.get((currency or "").upper(), 2)


def to_minor(text: str | None, path: str, *, exponent: int = 2) -> int:
    """A decimal amount in major units as an int of minor units (half-even rounding past the currency's digits);
    ``RecordError`` naming ``path`` when it is not a number."""
    if text is None:
        raise RecordError(path, "missing amount")
    minor = minor_units(text, exponent)
    if isinstance(minor, str):
        raise RecordError(path, minor)
    return minor


@lru_cache(maxsize=1 << 16)
def minor_units(text: str, exponent: int) -> int | str:
    """``to_minor`` of one text, or what is wrong with it. Remembered: a POS log repeats its prices and amounts
    (the same text is read again at the cost of a look-up, a third of the cost of reading it)."""
    simple = _SIMPLE.fullmatch(text)
    if simple is not None and len(simple.group(3) or "") <= exponent:  # the usual case, exact without Decimal
        sign, whole, frac = simple.groups()
        minor = int(whole) * int(10**exponent) + (int(frac.ljust(exponent, "0")) if frac else 0)
        return -minor if sign else minor
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        return f"{text!r} is not an amount"
    if not value.is_finite():
        return f"{text!r} is not a finite amount"
    return int((value.scaleb(exponent)).quantize(Decimal(1), rounding=ROUND_HALF_EVEN))


def to_float(text: str | None, path: str) -> float:
    if text is None:
        raise RecordError(path, "missing number")
    try:
        value = float(text)
    except ValueError:
        raise RecordError(path, f"{text!r} is not a number") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise RecordError(path, f"{text!r} is not a finite number")
    return value


def to_int(text: str | None, path: str) -> int:
    if text is None or not text.strip():
        raise RecordError(path, "missing number")
    try:
        return int(text.strip())
    except ValueError:
        raise RecordError(path, f"{text.strip()!r} is not a whole number") from None


def clip_raw(text: str) -> str:
    return text if len(text) <= RAW_MAX_CHARS else text[:RAW_MAX_CHARS] + "..."


__all__ = [
    "ParseResult", "Quarantined", "RecordError", "exponent_of", "minor_units", "to_float", "to_int", "to_minor",
]  # fmt: skip


def read_text(source: Path | bytes, name: str | None = None) -> tuple[str, str] | Quarantined:
    """A document's text (UTF-8, a byte-order mark dropped) and the name its problems are filed under, or a
    ``Quarantined`` saying why it cannot be read (the file cannot be opened, or is not UTF-8 text)."""
    if isinstance(source, Path):
        name = name or str(source)
        try:
            data = source.read_bytes()
        except OSError as exc:
            return Quarantined(name, "file", "", f"cannot read: {exc.strerror or exc}")
    else:
        data, name = source, name or "<stream>"
    try:
        return data.decode("utf-8-sig"), name
    except UnicodeDecodeError as exc:
        return Quarantined(name, "file", f"byte {exc.start}", "not UTF-8 text")
