"""POS transactions as JSON: the model's own form (``Transaction.model_dump(mode="json")``, see docs/pos.md), one
object per transaction, in a JSON array, an object ``{"transactions": [...]}``, or JSON Lines (one object a line:
``.jsonl``/``.ndjson``, or any file that holds several objects one after another).

Each record is validated on its own: a bad one is quarantined with its record number (its line in JSON Lines)
and the key path of the first wrong field; the rest are accepted.

>>> text = (b'{"store":"1","register":"3","sequence":7,"type":"no_sale","end_utc":"2026-01-02T10:00:00Z"}\\n'
...         b'{"store":"1"}\\n')
>>> [str(r) if isinstance(r, Quarantined) else r.key for r in parse_json(text, "t.jsonl")]
['1/3/2026-01-02/7', 't.jsonl: line 2 (store 1): register: Field required']
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, tzinfo
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from storewatch.pos.model import DEFAULT_TZ, Transaction
from storewatch.pos.records import ParseResult, Quarantined, clip_raw, read_text

LINES_SUFFIXES = (".jsonl", ".ndjson")


def parse_json(source: Path | bytes, name: str | None = None, default_tz: tzinfo = UTC) -> Iterator[ParseResult]:
    """Each transaction record of a JSON or JSON Lines document."""
    read = read_text(source, name)
    if isinstance(read, Quarantined):
        yield read
        return
    text, name = read
    if name.lower().endswith(LINES_SUFFIXES):
        yield from _lines(text, name, default_tz)
        return
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        if exc.msg == "Extra data":
            yield from _lines(text, name, default_tz)
        else:
            yield Quarantined(name, "file", f"line {exc.lineno}, column {exc.colno}", f"not valid JSON: {exc.msg}")
        return
    records = doc.get("transactions") if isinstance(doc, dict) and "transactions" in doc else doc
    if isinstance(records, dict):
        records = [records]
    if not isinstance(records, list):
        yield Quarantined(name, "file", "", "expected a transaction object, a list of them or {'transactions': [...]}")
        return
    for i, record in enumerate(records, 1):
        yield validate_record(record, name, f"record {i}", default_tz)


def _lines(text: str, name: str, tz: tzinfo) -> Iterator[ParseResult]:
    context = {DEFAULT_TZ: tz}
    for lineno, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:  # the usual case at Rust speed: JSON straight into the model
            tx = Transaction.model_validate_json(line, context=context)
        except ValidationError:
            pass  # read it again as a record, to say what is wrong and where
        else:
            if not tx.source:  # the object is new and ours alone: naming its source in place saves a copy
                tx.__dict__["source"] = f"{name}#line{lineno}"
            yield tx
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            yield Quarantined(
                name, f"line {lineno}", f"column {exc.colno}", f"not valid JSON: {exc.msg}", clip_raw(line)
            )
            continue
        yield validate_record(record, name, f"line {lineno}", tz)


def validate_record(record: Any, name: str, where: str, tz: tzinfo) -> ParseResult:
    """One JSON object as a ``Transaction``, or quarantined naming the first wrong key path."""
    if not isinstance(record, dict):
        return Quarantined(name, where, "", f"expected an object, got {type(record).__name__}", clip_raw(repr(record)))
    record = {**record, "source": record.get("source") or f"{name}#{where.replace(' ', '')}"}
    try:
        return Transaction.model_validate(record, context={DEFAULT_TZ: tz})
    except ValidationError as exc:
        first = exc.errors()[0]
        ids = ", ".join(f"{k} {record[k]}" for k in ("store", "register", "sequence") if k in record)
        return Quarantined(
            name,
            f"{where} ({ids})" if ids else where,
            key_path(first["loc"]),
            first["msg"],
            clip_raw(json.dumps(record, default=str)),
        )


def key_path(loc: tuple[int | str, ...]) -> str:
    """``('lines', 2, 'amount_minor')`` -> ``lines[2].amount_minor``."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out
