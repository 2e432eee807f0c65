"""Transactions are keyed by store, register, business day and sequence (SQLite and PostgreSQL): POS systems that
number each day afresh keep both days' #1; a re-send of the same day is idempotent, a corrected one replaces the
row; references without a day find each day's candidate; migration 0010 rewrites the keys of stored rows."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import delete, insert, select, text

from storewatch.pos.config import PosConfig
from storewatch.pos.model import LineItem, LineKind, LinkReason, TransactionLink, TransactionRef
from storewatch.pos.service import PosIngestService
from storewatch.store.db import Database, open_database
from storewatch.store.migrate import current, differences, downgrade, head, upgrade
from storewatch.store.pos import transaction_row
from storewatch.store.pos_models import PosExceptionRow, PosTransactionRow
from tests.pos.conftest import T0, make_tx, sale

MONDAY, TUESDAY = date(2026, 3, 2), date(2026, 3, 3)
VOID = LineItem(number=2, kind=LineKind.VOID, amount_minor=-500, voids_line=1)


def test_the_same_sequence_on_two_business_days_is_two_transactions(database: Database) -> None:
    service = PosIngestService(database, PosConfig())
    monday = make_tx(1, (sale(1, 500), sale(3, 200), VOID), business_day=MONDAY)
    tuesday = make_tx(1, (sale(1, 900),), business_day=TUESDAY, end=T0 + timedelta(days=1))
    first = service.ingest([monday], "monday.jsonl")
    second = service.ingest([tuesday], "tuesday.jsonl")
    assert (first.inserted, second.inserted, second.updated) == (1, 1, 0)
    assert service.repo.counts()["transactions"] == 2
    stored_monday = service.repo.transaction("9", "2", MONDAY, 1)
    stored_tuesday = service.repo.transaction("9", "2", TUESDAY, 1)
    assert stored_monday is not None and stored_monday.net_minor == 200  # not replaced by Tuesday's
    assert stored_tuesday is not None and stored_tuesday.net_minor == 900
    assert [e.id for e in service.repo.exceptions()] == ["void_line:9/2/2026-03-02/1"]
    assert service.repo.exceptions()[0].business_day == MONDAY


def test_a_resend_of_the_same_day_is_idempotent_and_a_correction_replaces(database: Database) -> None:
    service = PosIngestService(database, PosConfig())
    tx = make_tx(7, (sale(1, 500),), business_day=MONDAY)
    service.ingest([tx], "a")
    again = service.ingest([tx], "a")
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 1)
    fixed = make_tx(7, (sale(1, 500), sale(3, 200), VOID), business_day=MONDAY)
    corrected = service.ingest([fixed], "b")
    assert (corrected.inserted, corrected.updated, corrected.exceptions) == (0, 1, 1)
    stored = service.repo.transaction("9", "2", MONDAY, 7)
    assert service.repo.counts()["transactions"] == 1 and stored is not None and len(stored.lines) == 3


def test_without_a_business_day_the_utc_date_of_the_end_is_the_day(database: Database) -> None:
    service = PosIngestService(database, PosConfig())
    report = service.ingest([make_tx(3), make_tx(3, end=T0 + timedelta(days=1))], "no-days")
    assert report.inserted == 2
    assert service.repo.transaction("9", "2", T0.date() + timedelta(days=1), 3) is not None


def test_a_reference_finds_its_transaction_by_day_or_each_days_candidate(database: Database) -> None:
    service = PosIngestService(database, PosConfig())
    service.ingest(
        [
            make_tx(42, (sale(1, 100),), business_day=MONDAY),
            make_tx(42, (sale(1, 200),), business_day=TUESDAY, end=T0 + timedelta(days=1)),
            make_tx(42, (sale(1, 300),), register="5", business_day=TUESDAY, end=T0 + timedelta(days=1)),
        ],
        "days",
    )
    exact = service.repo.find(TransactionRef(store="9", register="2", sequence=42, business_day=MONDAY))
    assert [t.net_minor for t in exact] == [100]
    no_day = service.repo.find(TransactionRef(store="9", register="2", sequence=42))
    assert [(t.business_day, t.net_minor) for t in no_day] == [(TUESDAY, 200), (MONDAY, 100)]
    assert len(service.repo.find(TransactionRef(store="9", sequence=42))) == 3
    assert service.repo.find(TransactionRef(store="9", register="2", sequence=43)) == []


def test_a_post_void_names_the_voided_transactions_day(database: Database) -> None:
    link = TransactionLink(reason=LinkReason.POST_VOID, ref=TransactionRef(store="9", register="2", sequence=41))
    service = PosIngestService(database, PosConfig())
    service.ingest([make_tx(42, (sale(1, 100),), business_day=MONDAY, link=link)], "pv")
    (found,) = service.repo.exceptions("post_void")
    assert "9/2/2026-03-02/41" in found.explanation and found.values["voided_business_day"] == "2026-03-02"


def test_migration_0010_rekeys_stored_transactions_and_their_exceptions(db_url: str) -> None:
    upgrade(db_url, "0009")
    monday = make_tx(1, (sale(1, 500), sale(3, 200), VOID), business_day=MONDAY)
    row = transaction_row(monday) | {"id": "9/2/1", "ingested_utc": T0, "updated_utc": T0}
    finding = {
        "id": "void_line:9/2/1", "code": "void_line", "store": "9", "register": "2", "sequence": 1,
        "operator": "E1", "at_utc": T0, "values": {"void_lines": 1}, "explanation": "1 line(s) voided",
        "created_utc": T0,
    }  # fmt: skip
    with open_database(db_url) as db, db.engine.begin() as conn:
        conn.execute(insert(PosTransactionRow.__table__), [row])  # type: ignore[arg-type]
        exceptions = PosExceptionRow.__table__
        conn.execute(insert(exceptions).values(**finding))  # type: ignore[arg-type]
    upgrade(db_url)
    assert current(db_url) == head() and differences(db_url) == []  # 0010 and what came after it
    with open_database(db_url) as db:
        with db.session() as session:
            assert session.scalars(select(PosTransactionRow.id)).all() == ["9/2/2026-03-02/1"]
            ident, day = session.execute(select(PosExceptionRow.id, PosExceptionRow.business_day)).one()
            assert (ident, day) == ("void_line:9/2/2026-03-02/1", MONDAY)
        service = PosIngestService(db, PosConfig())
        assert service.ingest([monday], "again").unchanged == 1  # the stored row is found under its new key
        assert service.repo.counts() == {"transactions": 1, "exceptions": 1, "quarantined": 0}
        tuesday = make_tx(1, (sale(1, 900),), business_day=TUESDAY, end=T0 + timedelta(days=1))
        assert service.ingest([tuesday], "next day").inserted == 1
        stored = service.repo.transaction("9", "2", MONDAY, 1)
        assert stored is not None and stored.net_minor == 200


def test_downgrade_below_0010_refuses_while_two_days_share_a_number(db_url: str) -> None:
    upgrade(db_url)
    with open_database(db_url) as db:
        service = PosIngestService(db, PosConfig())
        monday = make_tx(1, (sale(1, 500), sale(3, 200), VOID), business_day=MONDAY)
        service.ingest([monday, make_tx(1, business_day=TUESDAY, end=T0 + timedelta(days=1))], "two days")
    with pytest.raises(
        RuntimeError, match=r"same store, register and sequence on different business days \(e.g. 9/2/1\)"
    ):
        downgrade(db_url, "0009")
    with open_database(db_url) as db, db.engine.begin() as conn:
        conn.execute(delete(PosTransactionRow.__table__).where(PosTransactionRow.business_day == TUESDAY))  # type: ignore[arg-type]
    downgrade(db_url, "0009")
    with open_database(db_url) as db, db.engine.connect() as conn:
        assert conn.execute(text("SELECT id FROM pos_transactions")).scalars().all() == ["9/2/1"]
        assert conn.execute(text("SELECT id FROM pos_exceptions")).scalars().all() == ["void_line:9/2/1"]
