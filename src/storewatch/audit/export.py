"""The audit log as CSV: one row per entry, oldest first, ``detail`` as JSON in one column, with both hashes so
the export can be checked against the log (or a later export) row by row.

>>> print(audit_csv([]), end="")
seq,at_utc,actor,actor_kind,action,store,target,detail,prev_hash,hash
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Mapping
from typing import Any

COLUMNS = ("seq", "at_utc", "actor", "actor_kind", "action", "store", "target", "detail", "prev_hash", "hash")


def audit_csv(rows: Iterable[Mapping[str, Any]]) -> str:
    """``AuditEntry.public()`` rows as CSV text."""
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(COLUMNS)
    for row in rows:
        writer.writerow([json.dumps(row[c], sort_keys=True) if c == "detail" else row[c] for c in COLUMNS])
    return text.getvalue()
