"""The part of POS ingest that needs no database: a file parsed, checked by the transaction rules and turned into
the rows to store. It runs in the parsing worker processes, so it imports nothing of the store (SQLAlchemy, the
ORM models): a worker that only parses starts in a third of the time.

The row of a transaction is its content as JSON (without the fields at their defaults: reading it back fills them
in, and it is a third of the bytes to write), a fingerprint of that JSON (a re-sent transaction with the same
content changes nothing) and the columns that queries filter or aggregate on.
"""

from __future__ import annotations

import gc
import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from storewatch.pos.config import PosConfig
from storewatch.pos.exceptions import PosException
from storewatch.pos.formats import parse_file
from storewatch.pos.model import Transaction, TransactionType
from storewatch.pos.records import Quarantined
from storewatch.pos.rules import TransactionRules


@dataclass(frozen=True)
class Prepared:
    """A file parsed and checked by the transaction rules, ready to write (made in a worker process)."""

    source: str
    rows: list[dict[str, Any]]
    exceptions: list[PosException]
    quarantined: list[Quarantined]


@contextmanager
def cycle_gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while a batch is parsed. Parsing makes millions of small objects and no
    reference cycles (they are freed by reference counting as usual); the collector would rescan every live object
    again and again, a third of the parse time. Restored afterwards."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def fingerprint(record_json: str) -> str:
    return hashlib.sha256(record_json.encode()).hexdigest()


_REFUNDS = (TransactionType.RETURN, TransactionType.EXCHANGE)


def transaction_row(tx: Transaction) -> dict[str, Any]:
    """The row of a transaction in the store's ``pos_transactions`` table (less the times it was written)."""
    text = tx.model_dump_json(exclude={"source"}, exclude_defaults=True)
    return {
        "id": tx.key,
        "store": tx.store,
        "register": tx.register,
        "sequence": tx.sequence,
        "type": tx.type.value,
        "status": tx.status.value,
        "business_day": tx.day,
        "start_utc": tx.start_utc,
        "end_utc": tx.end_utc,
        "operator": tx.operator,
        "currency": tx.currency,
        "total_minor": tx.total_minor,
        "void_lines": len(tx.void_lines),
        "refund": tx.type in _REFUNDS,
        "record": text,
        "fingerprint": fingerprint(text),
        "source": tx.source[:300],
    }


def prepare_file(path: str, config_json: str) -> Prepared:
    """Parse a file and run the transaction rules on it (the part of ingest that needs no database)."""
    config = PosConfig.model_validate_json(config_json)
    rules = TransactionRules(config)
    rows, found, bad = [], [], []
    with cycle_gc_paused():
        for result in parse_file(Path(path), ZoneInfo(config.timezone)):
            if isinstance(result, Quarantined):
                bad.append(result)
            else:
                rows.append(transaction_row(result))
                found += rules.check(result)
    return Prepared(path, rows, found, bad)


__all__ = ["Prepared", "cycle_gc_paused", "fingerprint", "prepare_file", "transaction_row"]
