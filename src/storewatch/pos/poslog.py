"""ARTS POSLog XML: the 2.x flavour (with NCR ACS vendor extensions, as the store exports in ``shared/data/poslog``)
and 6.0 (namespace ``http://www.nrf-arts.org/IXRetail/v6.0.0/poslog``, stores as ``BusinessUnit/UnitID``).

The file is read as a stream, in blocks of whole transactions (each block parsed by the C parser at once), so a
log of any size fits in memory. A transaction that cannot be read becomes a ``Quarantined`` naming its position,
its ids when they could be read, the element path and the problem; the others are returned. XML that is not
well-formed stops the reading at that point: what came before is kept, and the rest is quarantined with the line
and column.
Times without an offset (NCR writes store-local times) are taken in ``default_tz``.

ElementTree (C-accelerated, in the standard library) is enough here: it never fetches external entities, and
the expat it uses refuses entity-expansion bombs. It is also the fastest way measured to get at the elements from
Python (generated NCR-shaped log, ~120 elements and 4.2 KB a transaction, CPU on this 2-core machine): the C tree
builder takes 0.09-0.1 ms a transaction, while pyexpat with Python callbacks that do nothing already takes 0.12 ms
(three calls an element), and lxml, though libxml2 parses faster, makes a new proxy object and tag string each
time Python touches an element, which the walk over every element gives back. The cost that is left is the walk
and the model's validation (``poslog_lines``): 0.36 ms a transaction in all, from 0.47-0.49 ms (measured side by
side; ``tests/pos/test_poslog_same.py`` proves the records are the same as before).

>>> xml = b'''<POSLog xmlns="http://www.nrf-arts.org/IXRetail/namespace/"><Transaction>
... <RetailStoreID>9</RetailStoreID><WorkstationID>5</WorkstationID><SequenceNumber>65</SequenceNumber>
... <BusinessDayDate>2017-10-01</BusinessDayDate><EndDateTime>2017-10-01T15:19:11</EndDateTime>
... <OperatorID OperatorName="Isaiah M">759</OperatorID>
... <ControlTransaction><ReasonCode>Procedure 21</ReasonCode><NoSale>2017-10-01T15:19:11</NoSale></ControlTransaction>
... </Transaction></POSLog>'''
>>> [(t.key, t.type.value, t.operator, t.end_utc.isoformat()) for t in parse_poslog(xml, "x.xml")]
[('9/5/2017-10-01/65', 'no_sale', '759', '2017-10-01T15:19:11+00:00')]
"""

from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, tzinfo
from pathlib import Path
from typing import IO

from storewatch.pos.model import Transaction, TransactionStatus, TransactionType, retail_type
from storewatch.pos.poslog_lines import attr, child, code, flag, kids, local, parse_retail, parse_time, text_of
from storewatch.pos.records import ParseResult, Quarantined, RecordError, clip_raw, exponent_of

ARTS_PREFIX = "http://www.nrf-arts.org/IXRetail/"


def parse_poslog(
    source: Path | bytes | IO[bytes], name: str | None = None, default_tz: tzinfo = UTC
) -> Iterator[ParseResult]:
    """Each ``Transaction`` of a POSLog document as a ``Transaction`` or a ``Quarantined``."""
    if isinstance(source, Path):
        name = name or str(source)
        with source.open("rb") as handle:
            yield from _parse(handle, name, default_tz)
        return
    yield from _parse(io.BytesIO(source) if isinstance(source, bytes) else source, name or "<stream>", default_tz)


def _parse(handle: IO[bytes], name: str, tz: tzinfo) -> Iterator[ParseResult]:
    """Fast path: cut the stream into blocks of whole transactions and parse each block at C speed; anything
    unusual in a block (not well-formed, a DTD's entities, a comment holding a closing tag) hands over to the
    element-by-element reader from that point, which also says where the XML breaks."""
    index = 0
    try:
        for result in _blocks(handle, name, tz):
            index += 1
            yield result
        return
    except _UnusualError:
        pass
    try:
        handle.seek(0)
    except (OSError, ValueError):  # a stream that cannot go back: nothing more can be read of it
        yield Quarantined(name, f"after Transaction[{index}]", "", "the rest could not be read (not seekable)")
        return
    yield from _iterparse(handle, name, tz, skip=index)


class _UnusualError(Exception):
    pass


_ROOT = re.compile(rb"<((?:[A-Za-z_][\w.-]*:)?POSLog)\b[^>]*>")
_END = re.compile(rb"</(?:[A-Za-z_][\w.-]*:)?Transaction\s*>")
BLOCK_BYTES = 4 << 20


def _blocks(handle: IO[bytes], name: str, tz: tzinfo) -> Iterator[ParseResult]:
    buffer = handle.read(BLOCK_BYTES)
    root = _ROOT.search(buffer[:65536])
    if root is None or b"<!DOCTYPE" in buffer[: root.start()] or b"<!ENTITY" in buffer[: root.start()]:
        raise _UnusualError
    start, close = root.group(0), b"</" + root.group(1) + b">"
    buffer, index, done = buffer[root.end() :], 0, False
    while not done:
        more = handle.read(BLOCK_BYTES)
        done = not more
        buffer += more
        last = None
        for match in _END.finditer(buffer):
            last = match
        if last is None:
            continue
        block, buffer = buffer[: last.end()], buffer[last.end() :]
        try:
            wrapper = ET.fromstring(start + block + close)
        except ET.ParseError:
            raise _UnusualError from None
        if not wrapper.tag.startswith("{" + ARTS_PREFIX):
            raise _UnusualError
        for el in wrapper:
            if isinstance(el.tag, str) and el.tag.endswith("}Transaction"):
                index += 1
                yield parse_transaction(el, name, index, tz)
    if buffer.strip() != close:
        raise _UnusualError


def _iterparse(handle: IO[bytes], name: str, tz: tzinfo, skip: int = 0) -> Iterator[ParseResult]:
    index, root_tag = 0, None
    try:
        for _, el in ET.iterparse(handle, events=("end",)):
            tag = el.tag
            if tag.startswith("{" + ARTS_PREFIX) and tag.endswith("}Transaction"):
                index += 1
                if index > skip:
                    yield parse_transaction(el, name, index, tz)
                el.clear()  # the transaction is done: free its children (the empty element stays, small)
            root_tag = tag
    except ET.ParseError as exc:
        line, column = exc.position
        where = "file" if index == 0 else f"after Transaction[{index}]"
        yield Quarantined(
            name, where, f"line {line}, column {column}",
            f"XML is not well-formed ({exc.msg}); the rest of the file was not read",
        )  # fmt: skip
        return
    if root_tag is None:
        yield Quarantined(name, "file", "", "empty file")
    elif local(root_tag) != "POSLog" or not root_tag.startswith("{" + ARTS_PREFIX):
        yield Quarantined(name, "file", local(root_tag), f"not an ARTS POSLog document (root {root_tag})")


def parse_transaction(el: ET.Element, name: str, index: int, tz: tzinfo) -> ParseResult:
    """One ``Transaction`` element (``index``: its 1-based position in the file)."""
    try:
        return _transaction(el, f"{name}#{index}", tz)
    except RecordError as exc:
        return Quarantined(name, _record(el, index), exc.path, exc.message, clip_raw(ET.tostring(el, "unicode")))
    except ValueError as exc:  # pydantic's ValidationError: name the first field that is wrong
        errors = getattr(exc, "errors", None)
        first = errors()[0] if callable(errors) else None
        path = ".".join(str(p) for p in first["loc"]) if first else ""
        message = first["msg"] if first else str(exc)
        return Quarantined(name, _record(el, index), path, message, clip_raw(ET.tostring(el, "unicode")))


def _record(el: ET.Element, index: int) -> str:
    """How a quarantined transaction is named: its position and the ids that could be read."""
    ids = _ids(el)
    return f"Transaction[{index}]" + (f" ({ids})" if ids else "")


def _ids(el: ET.Element) -> str:
    store, register, seq = _store(el), text_of(el, "WorkstationID"), text_of(el, "SequenceNumber")
    parts = [f"{k} {v}" for k, v in (("store", store), ("register", register), ("sequence", seq)) if v]
    return ", ".join(parts)


def _store(el: ET.Element) -> str | None:
    store = text_of(el, "RetailStoreID")
    if store is not None:
        return store
    units = [u for u in el if isinstance(u.tag, str) and local(u.tag) == "BusinessUnit"]
    ids = [(attr(uid, "TypeCode"), (uid.text or "").strip()) for u in units if (uid := child(u, "UnitID")) is not None]
    chosen = [v for t, v in ids if t == "RetailStore"] or [v for _, v in ids]
    return chosen[0] if chosen and chosen[0] else None


def _required(el: ET.Element, name: str, path: str) -> str:
    value = text_of(el, name)
    if value is None:
        raise RecordError(f"{path}/{name}", f"missing {name}")
    return value


def _transaction(el: ET.Element, source: str, tz: tzinfo) -> Transaction:
    path = "Transaction"
    store = _store(el)
    if store is None:
        raise RecordError(f"{path}/RetailStoreID", "missing the store (RetailStoreID or BusinessUnit/UnitID)")
    register = _required(el, "WorkstationID", path)
    sequence = _required(el, "SequenceNumber", path)
    currency = text_of(el, "CurrencyCode")
    exp = exponent_of(currency)
    end = parse_time(text_of(el, "EndDateTime"), f"{path}/EndDateTime", tz)
    start = parse_time(text_of(el, "BeginDateTime"), f"{path}/BeginDateTime", tz)
    if end is None:
        for n, dt, p in kids(el, path):
            if n == "POSLogDateTime" and attr(dt, "TypeCode") in (None, "Transaction"):
                end = parse_time(dt.text, p, tz)
                break
    if end is None:
        raise RecordError(f"{path}/EndDateTime", "missing EndDateTime (when the transaction ended)")
    operator = child(el, "OperatorID")
    fields: dict[str, object] = {
        "store": store,
        "register": register,
        "sequence": sequence,
        "business_day": text_of(el, "BusinessDayDate"),
        "end_utc": end,
        "start_utc": start,
        "operator": (operator.text or "").strip() or None if operator is not None else None,
        "operator_name": attr(operator, "OperatorName") if operator is not None else None,
        "currency": currency,
        "source": source,
    }
    cancelled = flag(el, "CancelFlag")
    for body in el:  # the first body of a kind is the first child of its name: its path has no index
        name = local(body.tag) if isinstance(body.tag, str) else ""
        if name == "RetailTransaction":
            fields.update(_retail(body, f"{path}/{name}", exp, tz, start, end))
            break
        if name in ("ControlTransaction", "TenderControlTransaction"):
            fields.update(_control(body, f"{path}/{name}", tz))
            break
    else:
        fields["type"] = TransactionType.CONTROL
    if cancelled and fields.get("status", TransactionStatus.COMPLETED) is TransactionStatus.COMPLETED:
        fields["status"] = TransactionStatus.CANCELLED
    tx: Transaction = _validate_transaction(fields)
    return tx


_validate_transaction = Transaction.__pydantic_validator__.validate_python
"""``Transaction.model_validate`` without its Python wrapper."""


def _retail(
    rt: ET.Element, path: str, exp: int, tz: tzinfo, start: datetime | None, end: datetime
) -> dict[str, object]:
    body = parse_retail(rt, path, exp, tz)
    out: dict[str, object] = {
        "type": retail_type(body.lines),
        "status": body.status,
        "lines": tuple(body.lines),
        "tenders": tuple(body.tenders),
        "tax_minor": body.tax_minor,
        "total_minor": body.total_minor,
        "link": body.link,
        "supervisor_override": body.supervisor_override,
    }
    if start is None and body.duration_s:
        out["start_utc"] = end - timedelta(seconds=body.duration_s)
    return out


_CONTROL = {
    "NoSale": TransactionType.NO_SALE,
    "OperatorSignOn": TransactionType.SIGN_ON,
    "SignOn": TransactionType.SIGN_ON,
    "OperatorSignOff": TransactionType.SIGN_OFF,
    "SignOff": TransactionType.SIGN_OFF,
}


def _control(ct: ET.Element, path: str, tz: tzinfo) -> dict[str, object]:
    out: dict[str, object] = {"type": TransactionType.CONTROL, "reason": text_of(ct, "ReasonCode")}
    for name, el, p in kids(ct, path):
        kind = _CONTROL.get(name)
        if kind is None:
            continue
        out["type"] = kind
        if kind is TransactionType.NO_SALE and el.text and el.text.strip():
            out["end_utc"] = parse_time(el.text, p, tz)
        break
    status = code(attr(ct, "TransactionStatus"))
    if status in ("voided", "cancelled", "canceled"):
        out["status"] = TransactionStatus.CANCELLED
    return out
