"""ARTS POSLog parsing: the real NCR ACS 2.1 export (known counts, every transaction's fields sane), the 6.0
sample, and damaged input quarantined per record while the rest is read."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from storewatch.pos.formats import parse_file
from storewatch.pos.model import LineKind, LinkReason, Transaction, TransactionStatus, TransactionType
from storewatch.pos.poslog import parse_poslog
from storewatch.pos.records import Quarantined

CHICAGO = ZoneInfo("America/Chicago")


def _read(path: Path, tz: ZoneInfo | None = None) -> tuple[list[Transaction], list[Quarantined]]:
    results = list(parse_file(path, tz or UTC))
    return [r for r in results if isinstance(r, Transaction)], [r for r in results if isinstance(r, Quarantined)]


def test_ncr_store_export_has_the_known_counts(store9: Path) -> None:
    txs, bad = _read(store9, CHICAGO)
    assert bad == []
    assert len(txs) == 51
    assert sum(len(t.void_lines) for t in txs) == 4
    types = Counter(t.type for t in txs)
    assert types[TransactionType.NO_SALE] == 2
    assert types[TransactionType.SIGN_ON] == 4 and types[TransactionType.SIGN_OFF] == 3
    assert types[TransactionType.SALE] == 42
    assert {t.register for t in txs} == {"1", "2", "3", "5", "31", "32", "34"}
    assert len({t.key for t in txs}) == 51


def test_every_ncr_transaction_is_sane(store9: Path, small: Path) -> None:
    txs = _read(store9, CHICAGO)[0] + _read(small, CHICAGO)[0]
    for t in txs:
        assert t.store == "9" and t.currency == "USD" and t.operator is not None
        assert t.end_utc.tzinfo is UTC and t.business_day is not None
        # store-local times (CDT, UTC-5) read in the store's zone: the UTC time is 5 hours on
        assert abs(t.end_utc.astimezone(CHICAGO).date() - t.business_day) <= timedelta(days=1)
        if not t.is_retail:
            assert t.lines == () and t.tenders == ()
            continue
        assert t.total_minor is not None and t.lines and t.tenders
        assert t.net_minor + t.tax_minor == t.total_minor, t.key
        paid = sum(x.amount_minor for x in t.tenders)  # applied; change is given on top
        assert paid == t.total_minor, t.key
        assert t.start_utc is not None and t.start_utc <= t.end_utc
        assert all(ln.amount_minor <= 0 for ln in t.lines if ln.kind in (LineKind.VOID, LineKind.DISCOUNT))


def test_ncr_voids_name_the_line_they_reverse(store9: Path) -> None:
    txs = {t.key: t for t in _read(store9)[0]}
    voids = {key: [(v.number, v.voids_line, v.amount_minor) for v in t.void_lines] for key, t in txs.items()}
    assert {k: v for k, v in voids.items() if v} == {
        "9/1/2017-10-01/376": [(18, 17, -279)],
        "9/31/2017-10-01/115": [(9, 7, -440)],
        "9/2/2017-10-01/301": [(13, 12, -1250)],
        "9/3/2017-10-01/92": [(9, 8, -9366)],
    }
    for key, t in txs.items():
        for v in t.void_lines:
            reversed_ = next(ln for ln in t.lines if ln.number == v.voids_line)
            assert reversed_.kind is LineKind.SALE and reversed_.item_id == v.item_id, key


def test_ncr_extensions_read(store9: Path, small: Path) -> None:
    txs = {t.key: t for t in _read(store9, CHICAGO)[0]}
    assert txs["9/3/2017-10-01/92"].supervisor_override  # ManagerApproval and acs:SupervisorOverride
    link = txs["9/31/2017-10-01/114"].link
    assert (
        link is not None and link.reason is LinkReason.RESUME and (link.ref.register, link.ref.sequence) == ("32", 111)
    )
    assert txs["9/5/2017-10-01/65"].reason == "Procedure 21"
    bottle = next(ln for ln in txs["9/34/2017-10-01/101"].lines if ln.description.startswith("BOTTLE REFUND"))
    assert bottle.kind is LineKind.SALE and bottle.amount_minor == -200  # a deposit refund, not a return
    assert {tx.type for tx in txs.values()} <= set(TransactionType) - {TransactionType.RETURN}
    one = next(t for t in _read(small)[0] if t.sequence == 161)
    # the loyalty reward is written twice (detailed + summarised): counted once
    assert [(ln.kind, ln.amount_minor, ln.automatic) for ln in one.lines] == [
        (LineKind.SALE, 126, False),
        (LineKind.DISCOUNT, -19, True),
    ]


def test_arts_6_sample(poslog6: Path) -> None:
    txs, bad = _read(poslog6)
    assert bad == []
    by_seq = {t.sequence: t for t in txs}
    assert [t.type.value for t in txs] == [
        "sign_on", "sale", "return", "return", "sale", "no_sale", "sale", "sign_off",
    ]  # fmt: skip
    assert all(t.store == "101" and t.register == "7" and t.currency == "EUR" for t in txs)
    sale = by_seq[1002]
    assert sale.end_utc.isoformat() == "2026-03-02T08:06:30+00:00"  # +01:00 in the file
    override = next(ln for ln in sale.lines if ln.price_override)
    assert (override.regular_price_minor, override.unit_price_minor, override.reason) == (5999, 1999, "Damaged")
    assert [ln.at_utc is not None for ln in sale.lines] == [True, True, True]
    assert sale.tenders[0].change_minor == 391 and sale.net_minor + sale.tax_minor == sale.total_minor == 2609
    receipt = by_seq[1003].return_lines[0].original
    assert receipt is not None and (receipt.store, receipt.register, receipt.sequence) == ("101", "7", 1002)
    assert by_seq[1004].return_lines[0].original is None and by_seq[1004].net_minor == -5999
    assert by_seq[1003].tenders[0].amount_minor == -450
    assert by_seq[1005].status is TransactionStatus.POST_VOIDED
    voided = by_seq[1007]  # ARTS style: the voided line itself is flagged -> a sale line and its void
    assert [(ln.kind, ln.amount_minor, ln.voids_line) for ln in voided.lines] == [
        (LineKind.SALE, 1495, None), (LineKind.SALE, 5999, None), (LineKind.VOID, -5999, 2),
    ]  # fmt: skip
    assert voided.net_minor == voided.total_minor


GOOD = (
    '<POSLog xmlns="http://www.nrf-arts.org/IXRetail/namespace/">'
    "<Transaction><RetailStoreID>9</RetailStoreID><WorkstationID>5</WorkstationID><SequenceNumber>{seq}</SequenceNumber>"
    "<EndDateTime>2017-10-01T15:19:11</EndDateTime><ControlTransaction><NoSale/></ControlTransaction></Transaction>"
)
BAD_AMOUNT = (
    "<Transaction><RetailStoreID>9</RetailStoreID><WorkstationID>2</WorkstationID><SequenceNumber>77</SequenceNumber>"
    "<EndDateTime>2017-10-01T15:20:00</EndDateTime><RetailTransaction><LineItem><SequenceNumber>1</SequenceNumber>"
    "<Sale><ItemID>1</ItemID><ExtendedAmount>12,50</ExtendedAmount></Sale></LineItem></RetailTransaction></Transaction>"
)


def test_a_bad_transaction_is_quarantined_naming_where_and_the_rest_is_read() -> None:
    doc = GOOD.format(seq=1) + BAD_AMOUNT + GOOD.format(seq=3).split(">", 1)[1].replace("<POSLog", "") + "</POSLog>"
    results = list(parse_poslog(doc.encode(), "day.xml"))
    assert [r.sequence for r in results if isinstance(r, Transaction)] == [1, 3]
    (q,) = [r for r in results if isinstance(r, Quarantined)]
    assert q.record == "Transaction[2] (store 9, register 2, sequence 77)"
    assert q.path == "Transaction/RetailTransaction/LineItem[1]/Sale/ExtendedAmount"
    assert q.error == "'12,50' is not an amount"
    assert q.raw is not None and "12,50" in q.raw


@pytest.mark.parametrize(
    ("missing", "path"),
    [("<WorkstationID>5</WorkstationID>", "Transaction/WorkstationID"),
     ("<EndDateTime>2017-10-01T15:19:11</EndDateTime>", "Transaction/EndDateTime")],
)  # fmt: skip
def test_a_transaction_without_its_ids_or_time_is_quarantined(missing: str, path: str) -> None:
    doc = GOOD.format(seq=1).replace(missing, "") + "</POSLog>"
    (q,) = list(parse_poslog(doc.encode(), "x.xml"))
    assert isinstance(q, Quarantined) and q.path == path and q.error.startswith("missing")


def test_xml_cut_short_keeps_what_came_before() -> None:
    doc = GOOD.format(seq=1) + GOOD.format(seq=2).split(">", 1)[1][:150]
    results = list(parse_poslog(doc.encode(), "cut.xml"))
    assert isinstance(results[0], Transaction) and results[0].sequence == 1
    q = results[-1]
    assert isinstance(q, Quarantined) and q.record == "after Transaction[1]"
    assert q.path.startswith("line 1, column") and "not well-formed" in q.error


@pytest.mark.parametrize(
    ("content", "error"),
    [(b"", "XML is not well-formed"), (b"<Orders><Order/></Orders>", "not an ARTS POSLog document"),
     (b"\x00\x01garbage", "XML is not well-formed")],
)  # fmt: skip
def test_files_that_are_not_poslog_are_one_quarantined_record(tmp_path: Path, content: bytes, error: str) -> None:
    path = tmp_path / "x.xml"
    path.write_bytes(content)
    (q,) = list(parse_file(path))
    assert isinstance(q, Quarantined) and error in q.error and q.source == str(path)
