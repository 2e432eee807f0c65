"""POS transactions as CSV: one row per line item or tender, the rows of a transaction next to each other, every
row repeating the transaction's own columns (see docs/pos.md for the mapping). A transaction without lines (a
no-sale, a sign-on) is one row of ``row`` = ``transaction``. Money in minor units; times ISO 8601.

A bad transaction is quarantined naming its CSV lines, the line and column of the first problem; the rest are
accepted. A header with unknown or missing columns quarantines the whole file (nothing could be read right).

>>> text = (b"store,register,sequence,type,end_utc,row,number,kind,amount_minor\\n"
...         b"1,3,7,sale,2026-01-02T10:00:00Z,line,1,sale,250\\n1,3,7,sale,2026-01-02T10:00:00Z,line,2,void,-250\\n"
...         b"1,3,8,no_sale,2026-01-02T10:01:00Z,transaction,,,\\n1,3,9,sale,yesterday,transaction,,,\\n")
>>> got = [r.path if isinstance(r, Quarantined) else (r.key, len(r.lines)) for r in parse_csv(text, "t.csv")]
>>> got
[('1/3/2026-01-02/7', 2), ('1/3/2026-01-02/8', 0), 'line 5, column end_utc']
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, tzinfo
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from storewatch.pos.model import DEFAULT_TZ, Transaction
from storewatch.pos.records import ParseResult, Quarantined, clip_raw, read_text

TRANSACTION_COLUMNS = (
    "store", "register", "sequence", "type", "status", "business_day", "start_utc", "end_utc", "operator",
    "operator_name", "currency", "reason", "tax_minor", "total_minor", "supervisor_override",
    "link_reason", "link_store", "link_register", "link_sequence", "link_business_day",
)  # fmt: skip
LINE_COLUMNS = (
    "number", "kind", "item_id", "description", "quantity", "unit_price_minor", "regular_price_minor",
    "amount_minor", "discount_minor", "percent", "entry_method", "price_override", "voids_line", "line_reason",
    "original_store", "original_register", "original_sequence", "original_business_day", "at_utc",
)  # fmt: skip
TENDER_COLUMNS = ("change_minor", "card_type")
"""A tender row uses ``kind`` (cash, credit, ...) and ``amount_minor`` too."""
REQUIRED = ("store", "register", "sequence", "type", "end_utc", "row")
ALL_COLUMNS = frozenset(("row", *TRANSACTION_COLUMNS, *LINE_COLUMNS, *TENDER_COLUMNS))
ROW_KINDS = ("transaction", "line", "tender")

_Row = tuple[int, dict[str, str]]


def parse_csv(source: Path | bytes, name: str | None = None, default_tz: tzinfo = UTC) -> Iterator[ParseResult]:
    """Each transaction of a CSV file (its rows grouped by store, register and sequence)."""
    read = read_text(source, name)
    if isinstance(read, Quarantined):
        yield read
        return
    text, name = read
    reader = csv.reader(io.StringIO(text, newline=""))
    header = [h.strip() for h in next(reader, [])]
    problem = _header_problem(header)
    if problem:
        yield Quarantined(name, "file", "line 1", problem)
        return
    group: list[_Row] = []
    for lineno, cells in enumerate(reader, 2):
        if not any(c.strip() for c in cells):
            continue
        row = {h: c.strip() for h, c in zip(header, cells, strict=False)}
        if len(cells) != len(header):
            if group:
                yield _record(group, name, default_tz)
                group = []
            yield Quarantined(
                name,
                f"line {lineno}",
                "",
                f"{len(cells)} cells, the header has {len(header)}",
                clip_raw(",".join(cells)),
            )
            continue
        if group and _key(group[0][1]) != _key(row):
            yield _record(group, name, default_tz)
            group = []
        group.append((lineno, row))
    if group:
        yield _record(group, name, default_tz)


def _header_problem(header: list[str]) -> str | None:
    if not header or not any(header):
        return "empty file (no header)"
    unknown = [h for h in header if h not in ALL_COLUMNS]
    missing = [c for c in REQUIRED if c not in header]
    if unknown:
        return f"unknown column(s) {', '.join(unknown)} (see docs/pos.md for the columns)"
    if missing:
        return f"the header lacks column(s) {', '.join(missing)}"
    return None


def _key(row: dict[str, str]) -> tuple[str, str, str]:
    return row.get("store", ""), row.get("register", ""), row.get("sequence", "")


def _record(group: list[_Row], name: str, tz: tzinfo) -> ParseResult:
    first_line, last_line = group[0][0], group[-1][0]
    store, register, seq = _key(group[0][1])
    lines = f"line {first_line}" if first_line == last_line else f"lines {first_line}-{last_line}"
    where = f"{lines} (store {store}, register {register}, sequence {seq})"
    raw = clip_raw("\n".join(",".join(r.values()) for _, r in group))
    try:
        record, line_rows, tender_rows = _assemble(group)
    except _CellError as exc:
        return Quarantined(name, where, f"line {exc.lineno}, column {exc.column}", exc.message, raw)
    record["source"] = f"{name}#{first_line}"
    try:
        return Transaction.model_validate(record, context={DEFAULT_TZ: tz})
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = first["loc"]
        lineno, column = first_line, str(loc[0]) if loc else ""
        if len(loc) >= 2 and loc[0] in ("lines", "tenders") and isinstance(loc[1], int):
            rows = line_rows if loc[0] == "lines" else tender_rows
            lineno, column = rows[loc[1]], _column_of(loc)
        elif loc and loc[0] == "link":
            column = "link_" + str(loc[-1])
        return Quarantined(name, where, f"line {lineno}, column {column}", first["msg"], raw)


def _column_of(loc: tuple[int | str, ...]) -> str:
    field = str(loc[2]) if len(loc) > 2 else ""
    if field == "reason":
        return "line_reason"
    if field == "original" and len(loc) > 3:
        return f"original_{loc[3]}"
    return field


class _CellError(Exception):
    def __init__(self, lineno: int, column: str, message: str) -> None:
        super().__init__(message)
        self.lineno, self.column, self.message = lineno, column, message


def _assemble(group: list[_Row]) -> tuple[dict[str, Any], list[int], list[int]]:
    """The transaction's fields (checked equal on every row), its line and tender rows with their CSV lines."""
    record: dict[str, Any] = {}
    for lineno, row in group:
        for col in TRANSACTION_COLUMNS:
            value = row.get(col, "")
            if not value:
                continue
            if col in record and record[col] != value:
                raise _CellError(lineno, col, f"{value!r} differs from {record[col]!r} on the transaction's first row")
            record[col] = value
    lines: list[dict[str, Any]] = []
    tenders: list[dict[str, Any]] = []
    line_rows: list[int] = []
    tender_rows: list[int] = []
    for lineno, row in group:
        kind = row.get("row", "")
        if kind == "line":
            lines.append(_line(row))
            line_rows.append(lineno)
        elif kind == "tender":
            tenders.append(_cells(row, ("kind", "amount_minor", *TENDER_COLUMNS)))
            tender_rows.append(lineno)
        elif kind != "transaction":
            raise _CellError(lineno, "row", f"{kind!r} is not one of {', '.join(ROW_KINDS)}")
    link = {k[5:]: record.pop(k) for k in list(record) if k.startswith("link_")}
    if link:
        reason = link.pop("reason", None)
        record["link"] = {"reason": reason, "ref": link}
    record["lines"], record["tenders"] = lines, tenders
    return record, line_rows, tender_rows


def _cells(row: dict[str, str], columns: tuple[str, ...]) -> dict[str, str]:
    return {c: row[c] for c in columns if row.get(c)}


def _line(row: dict[str, str]) -> dict[str, Any]:
    line: dict[str, Any] = _cells(row, tuple(c for c in LINE_COLUMNS if c != "line_reason" and "original" not in c))
    if row.get("line_reason"):
        line["reason"] = row["line_reason"]
    original = {c[9:]: row[c] for c in LINE_COLUMNS if c.startswith("original_") and row.get(c)}
    if original:
        line["original"] = original
    return line
