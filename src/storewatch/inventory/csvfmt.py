"""Stock files as CSV: a header, then one adjustment or one cycle count per row (see docs/inventory.md for the
columns). The header tells the kind: ``qty_delta`` and ``reason`` make an adjustments file, ``counted_qty`` and
``expected_qty`` a counts file. A stock system's own headers are renamed first (``inventory.columns``).

A bad row is quarantined naming its line and column; the rest are read. A header with unknown or missing columns
quarantines the whole file (nothing could be read right).

>>> text = (b"store,sku,qty_delta,reason,at_utc\\n"
...         b"s1,ELEC-1,-2,damaged,2026-03-01T10:00:00Z\\ns1,ELEC-2,-1,lost,2026-03-01T10:05:00Z\\n")
>>> good, bad = parse_stock_csv(text, "adj.csv")
>>> good.key, bad.record, bad.path, bad.error[:23]
('s1/ELEC-1/2026-03-01T10:00:00+00:00/-2/damaged/', 'line 3 (sku ELEC-2)', 'reason', "'lost': Input should be")
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator, Mapping
from datetime import UTC, tzinfo
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from storewatch.inventory.config import ALL_COLUMNS
from storewatch.inventory.model import CycleCount, StockAdjustment, StockRecord
from storewatch.pos.model import DEFAULT_TZ
from storewatch.pos.records import Quarantined, clip_raw, read_text

COMMON = ("store", "sku", "at_utc")
ADJUSTMENT_REQUIRED = (*COMMON, "qty_delta", "reason")
COUNT_REQUIRED = (*COMMON, "counted_qty", "expected_qty")
ADJUSTMENT_ONLY = frozenset({"qty_delta", "reason", "zone"})
COUNT_ONLY = frozenset({"counted_qty", "expected_qty"})

StockResult = StockRecord | Quarantined


def parse_stock_csv(
    source: Path | bytes,
    name: str | None = None,
    default_tz: tzinfo = UTC,
    columns: Mapping[str, str] | None = None,
) -> Iterator[StockResult]:
    """Each adjustment or count of a CSV file, or a ``Quarantined`` naming the line and column that is wrong."""
    read = read_text(source, name)
    if isinstance(read, Quarantined):
        yield read
        return
    text, name = read
    reader = csv.reader(io.StringIO(text, newline=""))
    header = [(columns or {}).get(h.strip(), h.strip()) for h in next(reader, [])]
    model, problem = _kind(header)
    if model is None:
        yield Quarantined(name, "file", "line 1", problem)
        return
    context = {DEFAULT_TZ: default_tz}
    width = len(header)
    for lineno, cells in enumerate(reader, 2):
        if len(cells) != width:
            if any(c.strip() for c in cells):
                yield Quarantined(name, f"line {lineno}", "", f"{len(cells)} cells, the header has {width}",
                                  clip_raw(",".join(cells)))  # fmt: skip
            continue
        record: dict[str, Any] = {h: c.strip() for h, c in zip(header, cells, strict=True) if c.strip()}
        if not record:
            continue
        record["source"] = f"{name}#{lineno}"[-300:]
        try:
            yield model.model_validate(record, context=context)
        except ValidationError as exc:
            yield _quarantined(exc, record, name, lineno)


def _kind(header: list[str]) -> tuple[type[StockAdjustment] | type[CycleCount] | None, str]:
    """The record model the header's columns are for, or None and what is wrong."""
    if not any(header):
        return None, "empty file (no header)"
    unknown = [h for h in header if h not in ALL_COLUMNS]
    if unknown:
        return None, f"unknown column(s) {', '.join(unknown)} (see docs/inventory.md for the columns)"
    doubled = sorted({h for h in header if header.count(h) > 1})
    if doubled:
        return None, f"column(s) {', '.join(doubled)} given twice"
    has = set(header)
    if has & ADJUSTMENT_ONLY and has & COUNT_ONLY:
        return None, (f"both adjustment ({', '.join(sorted(has & ADJUSTMENT_ONLY))}) and count "
                      f"({', '.join(sorted(has & COUNT_ONLY))}) columns: one kind per file")  # fmt: skip
    model, required = (CycleCount, COUNT_REQUIRED) if has & COUNT_ONLY else (StockAdjustment, ADJUSTMENT_REQUIRED)
    missing = [c for c in required if c not in has]
    if missing:
        kind = "counts" if model is CycleCount else "adjustments"
        return None, f"the header lacks column(s) {', '.join(missing)} (a {kind} file needs {', '.join(required)})"
    return model, ""


def _quarantined(exc: ValidationError, record: dict[str, Any], name: str, lineno: int) -> Quarantined:
    first = exc.errors()[0]
    column = str(first["loc"][0]) if first["loc"] else ""
    ids = f" (sku {record['sku']})" if "sku" in record else ""
    message = str(first["msg"]).removeprefix("Value error, ")
    if column in record and repr(record[column]) not in message:
        message = f"{record[column]!r}: {message}"
    raw = clip_raw(json.dumps({k: v for k, v in record.items() if k != "source"}))
    return Quarantined(name, f"line {lineno}{ids}", column, message, raw)
