"""POS fixtures: the NCR ACS samples of ../shared (skipping with the file named), the 6.0 sample, databases on both
backends (the store tests' fixtures) and a builder of transactions for rule scenarios."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from storewatch.pos.model import LineItem, LineKind, Tender, Transaction, TransactionType, retail_type
from tests.conftest import SHARED, need_shared
from tests.store.conftest import database, db_url, postgres_server  # noqa: F401  (the same fixtures)

POSLOG = SHARED / "data" / "poslog"
DATA = Path(__file__).with_name("data")
T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


@pytest.fixture
def store9() -> Path:
    return need_shared(POSLOG / "ncr-acs-store9.xml")


@pytest.fixture
def small() -> Path:
    return need_shared(POSLOG / "ncr-acs-small.xml")


@pytest.fixture
def poslog6() -> Path:
    return DATA / "arts-poslog-6.0-sample.xml"


def sale(number: int, amount: int, **fields: Any) -> LineItem:
    return LineItem(number=number, kind=LineKind.SALE, amount_minor=amount, unit_price_minor=amount, **fields)


def make_tx(
    sequence: int = 1,
    lines: tuple[LineItem, ...] = (),
    *,
    register: str = "2",
    operator: str = "E1",
    end: datetime = T0,
    duration_s: float = 60.0,
    **fields: Any,
) -> Transaction:
    """A completed transaction at store 9 ending at ``end``; its type from its lines unless given."""
    fields.setdefault("type", retail_type(lines) if lines else TransactionType.SALE)
    fields.setdefault("tenders", (Tender(kind="credit", amount_minor=sum(ln.amount_minor for ln in lines)),))
    return Transaction(
        store="9",
        register=register,
        sequence=sequence,
        operator=operator,
        currency="USD",
        end_utc=end,
        start_utc=end - timedelta(seconds=duration_s),
        lines=lines,
        **fields,
    )
