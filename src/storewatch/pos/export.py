"""Writing transactions back out: JSON Lines (the model's own form) and the CSV mapping of docs/pos.md, which read
back through their parsers to the same transactions (tests prove it); and ARTS POSLog 2.1 XML in the NCR ACS
shape, with what the rules use (ids, times, operator, lines, voids, receipts, tenders, tax, totals, post-void),
for fixtures and the ingest benchmark.

>>> from datetime import UTC, datetime
>>> from storewatch.pos.model import Transaction, TransactionType
>>> tx = Transaction(store="9", register="5", sequence=65, type=TransactionType.NO_SALE,
...                  end_utc=datetime(2017, 10, 1, 20, 19, 11, tzinfo=UTC))
>>> csv_rows(tx)[0][:8]
['9', '5', '65', 'no_sale', 'completed', '', '', '2017-10-01T20:19:11+00:00']
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from xml.sax.saxutils import escape, quoteattr

from storewatch.pos.csvfmt import LINE_COLUMNS, TENDER_COLUMNS, TRANSACTION_COLUMNS
from storewatch.pos.model import LineItem, LineKind, Tender, Transaction, TransactionStatus, TransactionType
from storewatch.pos.records import exponent_of

CSV_COLUMNS = (*TRANSACTION_COLUMNS, "row", *LINE_COLUMNS, *TENDER_COLUMNS)


def jsonl(transactions: Iterable[Transaction]) -> str:
    return "".join(tx.model_dump_json(exclude={"source"}) + "\n" for tx in transactions)


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if hasattr(value, "isoformat"):
        return str(value.isoformat())
    return str(value.value if hasattr(value, "value") else value)


def csv_rows(tx: Transaction) -> list[list[str]]:
    """The rows of one transaction in ``CSV_COLUMNS`` order."""
    link = tx.link
    head = [
        tx.store, tx.register, tx.sequence, tx.type, tx.status, tx.business_day, tx.start_utc, tx.end_utc,
        tx.operator, tx.operator_name, tx.currency, tx.reason, tx.tax_minor, tx.total_minor, tx.supervisor_override,
        link.reason if link else None, link.ref.store if link else None, link.ref.register if link else None,
        link.ref.sequence if link else None, link.ref.business_day if link else None,
    ]  # fmt: skip
    blank_line: list[object] = [None] * len(LINE_COLUMNS)
    rows = []
    for ln in tx.lines:
        o = ln.original
        line = [
            ln.number, ln.kind, ln.item_id, ln.description, ln.quantity, ln.unit_price_minor, ln.regular_price_minor,
            ln.amount_minor, ln.discount_minor, ln.percent, ln.entry_method, ln.price_override, ln.voids_line,
            ln.reason, o.store if o else None, o.register if o else None, o.sequence if o else None,
            o.business_day if o else None, ln.at_utc,
        ]  # fmt: skip
        rows.append([*head, "line", *line, None, None])
    for t in tx.tenders:
        tender = list(blank_line)
        tender[LINE_COLUMNS.index("kind")] = t.kind
        tender[LINE_COLUMNS.index("amount_minor")] = t.amount_minor
        rows.append([*head, "tender", *tender, t.change_minor, t.card_type])
    if not rows:
        rows.append([*head, "transaction", *blank_line, None, None])
    return [[_cell(v) for v in row] for row in rows]


def csv_text(transactions: Iterable[Transaction]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for tx in transactions:
        writer.writerows(csv_rows(tx))
    return out.getvalue()


POSLOG_HEAD = (
    '<POSLog xmlns="http://www.nrf-arts.org/IXRetail/namespace/" '
    'xmlns:acs="http://www.ncr.com/rsd/acs/tlog/markup/poslog/2.1">'
)


def _money(minor: int, exp: int) -> str:
    text = f"{abs(minor) / 10**exp:.{exp}f}" if exp else str(abs(minor))
    return ("-" if minor < 0 else "") + text


def _line_xml(ln: LineItem, exp: int) -> str:
    if ln.kind is LineKind.DISCOUNT:
        body = (f"<Discount><Amount>{_money(-ln.amount_minor, exp)}</Amount>"
                + (f"<Percent>{ln.percent}</Percent>" if ln.percent is not None else "") + "</Discount>")  # fmt: skip
    else:
        element = "Return" if ln.kind is LineKind.RETURN else "Sale"
        amount = -ln.amount_minor if ln.kind is LineKind.RETURN else ln.amount_minor
        body = (
            f'<{element} ItemType="Stock"><ItemID>{escape(ln.item_id or "")}</ItemID>'
            f"<Description>{escape(ln.description)}</Description>"
            + (f"<RegularSalesUnitPrice>{_money(ln.regular_price_minor, exp)}</RegularSalesUnitPrice>"
               if ln.regular_price_minor is not None else "")
            + f"<ExtendedAmount>{_money(amount, exp)}</ExtendedAmount><Quantity>{ln.quantity:g}</Quantity>"
            + (_receipt(ln) if ln.original else "")
            + f"</{element}>"
        )  # fmt: skip
    void = ' VoidFlag="true"' if ln.kind is LineKind.VOID else ""
    entry = f" EntryMethod={quoteattr(ln.entry_method)}" if ln.entry_method else ""
    return f"<LineItem{entry}{void}><SequenceNumber>{ln.number}</SequenceNumber>{body}</LineItem>"


def _receipt(ln: LineItem) -> str:
    o = ln.original
    assert o is not None
    register = f"<WorkstationID>{o.register}</WorkstationID>" if o.register else ""
    day = f"<BusinessDayDate>{o.business_day}</BusinessDayDate>" if o.business_day else ""
    return (
        f'<TransactionLink ReasonCode="Return"><RetailStoreID>{o.store}</RetailStoreID>{register}'
        f"<SequenceNumber>{o.sequence}</SequenceNumber>{day}</TransactionLink>"
    )


def _tender_xml(t: Tender, number: int, exp: int) -> str:
    code = "Refund" if t.amount_minor < 0 else "Sale"
    change = ""
    if t.change_minor:
        change = f"<TenderChange><Amount>{_money(-t.change_minor, exp)}</Amount></TenderChange>"
    card = f"<CreditDebit CardType={quoteattr(t.card_type)}/>" if t.card_type else ""
    amount = f"<Amount>{_money(abs(t.amount_minor), exp)}</Amount>"
    tender = f'<Tender TenderType={quoteattr(t.kind)} TypeCode="{code}">{amount}{change}{card}</Tender>'
    return f"<LineItem><SequenceNumber>{number}</SequenceNumber>{tender}</LineItem>"


_CONTROL = {TransactionType.NO_SALE: "<NoSale/>", TransactionType.SIGN_ON: "<OperatorSignOn/>",
            TransactionType.SIGN_OFF: "<OperatorSignOff/>", TransactionType.CONTROL: ""}  # fmt: skip


def poslog_transaction(tx: Transaction) -> str:
    """One ``<Transaction>`` in the NCR ACS 2.1 shape (times with their UTC offset)."""
    exp = exponent_of(tx.currency)
    head = (
        f"<Transaction><RetailStoreID>{tx.store}</RetailStoreID><WorkstationID>{tx.register}</WorkstationID>"
        f"<SequenceNumber>{tx.sequence}</SequenceNumber>"
        + (f"<BusinessDayDate>{tx.business_day}</BusinessDayDate>" if tx.business_day else "")
        + (f"<BeginDateTime>{tx.start_utc.isoformat()}</BeginDateTime>" if tx.start_utc else "")
        + f"<EndDateTime>{tx.end_utc.isoformat()}</EndDateTime>"
        + (f"<OperatorID>{tx.operator}</OperatorID>" if tx.operator else "")
        + (f"<CurrencyCode>{tx.currency}</CurrencyCode>" if tx.currency else "")
    )  # fmt: skip
    if not tx.is_retail:
        reason = f"<ReasonCode>{escape(tx.reason)}</ReasonCode>" if tx.reason else ""
        return f"{head}<ControlTransaction>{reason}{_CONTROL[tx.type]}</ControlTransaction></Transaction>"
    status = ' TransactionStatus="PostVoided"' if tx.status is TransactionStatus.POST_VOIDED else ""
    lines = "".join(_line_xml(ln, exp) for ln in tx.lines)
    n = max((ln.number for ln in tx.lines), default=0)
    tax = f"<Tax><Amount>{_money(tx.tax_minor, exp)}</Amount></Tax>"
    tax = f"<LineItem><SequenceNumber>{n + 1}</SequenceNumber>{tax}</LineItem>"
    tenders = "".join(_tender_xml(t, n + 2 + i, exp) for i, t in enumerate(tx.tenders))
    total = ""
    if tx.total_minor is not None:
        total = f'<Total TotalType="TransactionGrandAmount">{_money(tx.total_minor, exp)}</Total>'
    body = f'<RetailTransaction Version="2.1"{status}>{lines}{tax}{tenders}{total}</RetailTransaction>'
    return f"{head}{body}</Transaction>"


def poslog(transactions: Iterable[Transaction]) -> str:
    return POSLOG_HEAD + "".join(poslog_transaction(tx) for tx in transactions) + "</POSLog>"
