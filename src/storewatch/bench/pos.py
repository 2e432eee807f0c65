"""How fast POS ingest is: N generated transactions written as files (ARTS POSLog 2.1 in the NCR ACS shape of the
real store export in ``shared/data/poslog``, JSON Lines or CSV), then parsed, checked by the rules and stored in a
fresh SQLite database, and ingested a second time (idempotence: nothing changes).

The transactions are generated because no real log of 100,000 transactions can be shipped; their mix follows
the real sample's: 1-25 items (scanned, keyed, weighed), about one transaction in ten with a voided line, loyalty
discounts, tax, cash (with change) and card tenders, refunds half with a receipt, no-sales, sign-on/off, 20
registers and 40 cashiers of one store, a business day every 20,000 transactions.

``load_avg_1m`` (before, after) tells how busy the machine was with other work: the ``_s`` figures are wall-clock
times. ``ingest_cpu_s`` is the CPU the ingest used (this process and its parsing workers), which other work does
not change much; ``idle_estimate_s`` is that spread over the workers: the wall time to expect on an idle machine.
"""

from __future__ import annotations

import os
import random
import resource
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from storewatch.pos.config import PosConfig
from storewatch.pos.export import csv_text, jsonl, poslog
from storewatch.pos.model import (
    LineItem,
    LineKind,
    Tender,
    Transaction,
    TransactionRef,
    TransactionType,
)
from storewatch.pos.service import PosIngestService
from storewatch.store.db import default_url, open_database
from storewatch.store.migrate import upgrade

FORMATS = {"poslog": ("xml", poslog), "jsonl": ("jsonl", jsonl), "csv": ("csv", csv_text)}
ITEMS = [
    ("00021908501406", "CASC FROZ VEGIES", 279, False),
    ("00000000067591", "APPLE HONEYCRISP ORG", 299, True),
    ("00852421006143", "ALTA PALLA LEMONADE", 115, False),
    ("00000000090537", "BULK ALMOND BUTTER", 1299, True),
    ("00000000010214", "AMIDO CDRV", 1250, False),
    ("00205601000002", "DELI GUACOMOLE", 899, True),
    ("00000000090162", "SOUP BAR CUP", 349, False),
    ("07503017022056", "HOT SAUCE 150ML", 459, False),
]


def _items(rng: random.Random, returning: bool) -> list[LineItem]:
    lines: list[LineItem] = []
    for _ in range(1 if returning else rng.randint(1, 25)):
        code, name, price, weighed = rng.choice(ITEMS)
        qty = round(rng.uniform(0.2, 3.0), 2) if weighed else 1.0
        amount = round(price * qty)
        entry = "scanned" if rng.random() < 0.6 else "keyed"
        n = len(lines) + 1
        if returning:
            receipt = (
                TransactionRef(store="9", register="3", sequence=rng.randint(1, 9999)) if rng.random() < 0.5 else None
            )
            lines.append(
                LineItem(
                    number=n,
                    kind=LineKind.RETURN,
                    item_id=code,
                    description=name,
                    quantity=qty,
                    regular_price_minor=price,
                    amount_minor=-amount,
                    entry_method=entry,
                    original=receipt,
                )
            )
            continue
        lines.append(
            LineItem(
                number=n,
                kind=LineKind.SALE,
                item_id=code,
                description=name,
                quantity=qty,
                regular_price_minor=price,
                unit_price_minor=price,
                amount_minor=amount,
                entry_method=entry,
            )
        )
        if rng.random() < 0.005:
            lines.append(
                LineItem(
                    number=n + 1,
                    kind=LineKind.VOID,
                    item_id=code,
                    description=name,
                    quantity=-qty,
                    regular_price_minor=price,
                    unit_price_minor=price,
                    amount_minor=-amount,
                    entry_method=entry,
                    voids_line=n,
                )
            )
    return lines


def _transaction(rng: random.Random, register: int, seq: int, end: datetime, op: str) -> Transaction:
    base: dict[str, Any] = {
        "store": "9",
        "register": str(register),
        "sequence": seq,
        "business_day": end.date(),
        "end_utc": end,
        "operator": op,
        "currency": "USD",
    }
    r = rng.random()
    if r < 0.01:
        return Transaction(type=TransactionType.NO_SALE, reason="Procedure 21", **base)
    if r < 0.02:
        return Transaction(type=rng.choice((TransactionType.SIGN_ON, TransactionType.SIGN_OFF)), **base)
    returning = r < 0.05
    lines = _items(rng, returning)
    goods = sum(ln.amount_minor for ln in lines)
    if not returning and rng.random() < 0.2:
        off = round(goods * 0.15)
        lines.append(LineItem(number=len(lines) + 1, kind=LineKind.DISCOUNT, amount_minor=-off, entry_method="auto"))
        goods -= off
    tax = round(goods * 0.0825) if not returning else 0
    total = goods + tax
    if returning or rng.random() < 0.3:
        change = 0 if returning else (-total) % 500
        tender = Tender(kind="cash", amount_minor=total, change_minor=change)
    else:
        tender = Tender(kind="creditdebit", amount_minor=total, card_type="credit")
    return Transaction(
        type=TransactionType.RETURN if returning else TransactionType.SALE,
        lines=tuple(lines),
        tenders=(tender,),
        tax_minor=tax,
        total_minor=total,
        start_utc=end - timedelta(seconds=rng.randint(15, 240)),
        **base,
    )


def generate_transactions(count: int, seed: int = 0) -> Iterator[Transaction]:
    rng = random.Random(seed)
    seqs = [0] * 20
    t = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
    for i in range(count):
        if i and i % 20_000 == 0:
            t = t.replace(hour=8, minute=0) + timedelta(days=1)
        t += timedelta(seconds=rng.randint(1, 3))
        reg = rng.randrange(20)
        seqs[reg] += 1
        yield _transaction(rng, reg + 1, seqs[reg], t, f"{100 + reg * 2 + rng.randrange(2)}")


def write_files(folder: Path, count: int, fmt: str = "poslog", per_file: int = 10_000, seed: int = 0) -> list[Path]:
    """``count`` generated transactions as files of ``per_file`` each in format ``fmt``."""
    suffix, write = FORMATS[fmt]
    folder.mkdir(parents=True, exist_ok=True)
    txs = generate_transactions(count, seed)
    paths = []
    for start in range(0, count, per_file):
        chunk = [next(txs) for _ in range(min(per_file, count - start))]
        path = folder / f"pos-{start // per_file:04d}.{suffix}"
        path.write_text(write(chunk))
        paths.append(path)
    return paths


def _cpu_s() -> float:
    """CPU seconds of this process and its finished children (the parsing workers): what the ingest costs,
    whatever else the machine is doing."""
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def run_pos_benchmark(
    data_dir: Path, transactions: int, fmt: str = "poslog", workers: int | None = None
) -> dict[str, Any]:
    """Generate, ingest into ``data_dir``'s SQLite database (made fresh), ingest again; times and counts."""
    data_dir.mkdir(parents=True, exist_ok=True)
    load_before = os.getloadavg()[0]
    db_path = data_dir / "storewatch.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db_path}{suffix}").unlink(missing_ok=True)
    t0 = time.perf_counter()
    files = write_files(data_dir / "pos-bench", transactions, fmt)
    generate_s = time.perf_counter() - t0
    workers = workers or min(len(files), os.cpu_count() or 1)
    url = default_url(data_dir)
    upgrade(url)
    with open_database(url) as db:
        service = PosIngestService(db, PosConfig())
        t1, cpu1 = time.perf_counter(), _cpu_s()
        reports = service.ingest_files(files, workers)
        ingest_s, ingest_cpu_s = time.perf_counter() - t1, _cpu_s() - cpu1
        t2 = time.perf_counter()
        again = service.ingest_files(files, workers)
        reingest_s = time.perf_counter() - t2
        counts = service.repo.counts()
    size = sum(p.stat().st_size for p in files)
    for p in files:
        p.unlink()
    db_bytes = sum(Path(f"{db_path}{s}").stat().st_size for s in ("", "-wal") if Path(f"{db_path}{s}").exists())
    return {
        "format": fmt,
        "transactions": transactions,
        "files": len(files),
        "file_mb": round(size / 2**20, 1),
        "workers": workers,
        "cpus": os.cpu_count(),
        "generate_s": round(generate_s, 2),
        "ingest_s": round(ingest_s, 2),
        "transactions_per_s": round(transactions / ingest_s),
        "ingest_cpu_s": round(ingest_cpu_s, 1),
        "ingest_cpu_ms_per_transaction": round(ingest_cpu_s / transactions * 1000, 3),
        "idle_estimate_s": round(ingest_cpu_s / min(workers, os.cpu_count() or 1), 1),
        "reingest_s": round(reingest_s, 2),
        "inserted": sum(r.inserted for r in reports),
        "reingest_unchanged": sum(r.unchanged for r in again),
        "reingest_inserted_or_updated": sum(r.inserted + r.updated for r in again),
        "quarantined": sum(len(r.quarantined) for r in reports),
        "stored": counts,
        "database_mb": round(db_bytes / 2**20, 1),
        "rss_mb_max": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "target_s": 60,
        "load_avg_1m": [round(load_before, 2), round(os.getloadavg()[0], 2)],
    }
