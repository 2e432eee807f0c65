"""Till transactions for the web tests, ingested as ``storewatch pos ingest`` does: POS store 9 (the site's store s1,
through its till 2 on camera s1/tills) with five cashiers signed on at registers 2 and 3 over the last hours, one
of whom (E5) voids far more than the others; and POS store 12 (site store s2) with one void that a user of s1
must never see."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import select

from storewatch.pos.config import PosConfig
from storewatch.pos.model import LineItem, LineKind, Tender, Transaction, TransactionType
from storewatch.pos.service import PosIngestService
from storewatch.store.db import Database, default_url, open_database
from storewatch.store.pos_models import PosTransactionRow
from tests.pos.conftest import make_tx, sale

POS_YAML = """\
pos:
  timezone: Europe/Madrid
  tills:
    - {store: "9", register: "2", camera: s1/tills}
  report:
    site_stores: {"12": s2}
"""
CASHIERS = ("E1", "E2", "E3", "E4", "E5")
SAMPLE_TX = ("9", "2", 5000)
"""A transaction of store s1 with a void on the mapped till, near the seeded tills camera event (its snapshot)."""
OTHER_STORE_TX = ("12", "7", 900)


def _void(number: int, amount: int, description: str = "Whisky 70cl") -> LineItem:
    return LineItem(number=number, kind=LineKind.VOID, amount_minor=-amount, voids_line=number - 1,
                    description=description, quantity=-1)  # fmt: skip


def pos_transactions(now: datetime) -> list[Transaction]:
    """The seeded transactions (see the module)."""
    tz = ZoneInfo("Europe/Madrid")
    day = (now - timedelta(hours=3)).astimezone(tz).date()
    start = now - timedelta(hours=3)
    txs: list[Transaction] = []

    def add(tx: Transaction) -> None:
        txs.append(tx.model_copy(update={"business_day": day}))

    for i, op in enumerate(CASHIERS):
        register = {"E1": "1", "E2": "3", "E3": "4", "E4": "5", "E5": "2"}[op]
        add(
            make_tx(
                100 + i,
                register=register,
                operator=op,
                end=start + timedelta(minutes=i),
                type=TransactionType.SIGN_ON,
                tenders=(),
                operator_name=f"Cashier {op[1]}",
            )
        )
        for n in range(22):
            seq = 10_000 + 100 * i + n
            end = start + timedelta(minutes=5 + 7 * n + i)
            lines: tuple[LineItem, ...] = (sale(1, 450, description="Bread"), sale(2, 1999, description="Whisky 70cl"))
            if (op == "E5" and n < 6) or (op == "E1" and n == 3):
                lines = (*lines, _void(3, 1999))
            add(make_tx(seq, lines, register=register, operator=op, end=end, operator_name=f"Cashier {op[1]}"))
    e5 = CASHIERS.index("E5")
    sample = (sale(1, 2599, description="Headphones"), _void(2, 2599, "Headphones"), sale(3, 350, description="Gum"))
    add(make_tx(SAMPLE_TX[2], sample, register="2", operator="E5", end=now - timedelta(minutes=4, seconds=40),
                operator_name="Cashier 5"))  # fmt: skip
    add(make_tx(5001, register="2", operator="E5", end=now - timedelta(minutes=3), type=TransactionType.NO_SALE,
                tenders=(), reason="change for till", operator_name="Cashier 5"))  # fmt: skip
    refund = LineItem(number=1, kind=LineKind.RETURN, amount_minor=-4999, description="Jacket", reason="no receipt")
    add(make_tx(3050, (refund,), register="4", operator="E3", end=now - timedelta(minutes=50),
                tenders=(Tender(kind="cash", amount_minor=-4999),), operator_name="Cashier 3"))  # fmt: skip
    add(
        make_tx(
            100 + e5 + 10,
            register="2",
            operator="E5",
            end=now - timedelta(minutes=1),
            type=TransactionType.SIGN_OFF,
            tenders=(),
            operator_name="Cashier 5",
        )
    )
    wine = (sale(1, 800, description="Wine"), _void(2, 800, "Wine"))
    other = make_tx(
        OTHER_STORE_TX[2], wine, register=OTHER_STORE_TX[1], operator="S2X", end=now - timedelta(minutes=20)
    )
    add(other.model_copy(update={"store": "12"}))
    return txs


def seed_pos(db: Database, now: datetime, config: PosConfig) -> None:
    report = PosIngestService(db, config).ingest(pos_transactions(now), "seed")
    assert not report.quarantined and report.exceptions >= 10, report.to_dict()


def tx_path(data_dir: Path, tx: tuple[str, str, int]) -> str:
    """The dashboard page of a seeded transaction, ``/pos/transactions/<store>/<register>/<day>/<sequence>`` (its
    key carries the business day the seed gave it; a transaction never stored gets the seed's day)."""
    t = PosTransactionRow
    with open_database(default_url(data_dir)) as db, db.session() as session:
        key = session.scalar(select(t.id).where(t.store == tx[0], t.register == tx[1], t.sequence == tx[2]))
        day = session.scalar(select(t.business_day).where(t.store == tx[0]).limit(1))
    return f"/pos/transactions/{key or f'{tx[0]}/{tx[1]}/{day}/{tx[2]}'}"
