"""The ingest benchmark at a small size: every generated transaction stored once, a second pass changes nothing,
the files it writes read back exactly, and the time per transaction does not grow with the batch (the 100,000
run and its figures are in benchmarks/pos-ingest.json, made with ``storewatch bench pos``)."""

from __future__ import annotations

from pathlib import Path

from storewatch.bench.pos import generate_transactions, run_pos_benchmark, write_files
from storewatch.pos.formats import parse_file
from storewatch.pos.model import Transaction


def test_generated_files_read_back_in_every_format(tmp_path: Path) -> None:
    expected = [tx.model_copy(update={"source": ""}) for tx in generate_transactions(300, seed=3)]
    for fmt in ("jsonl", "csv"):
        (path,) = write_files(tmp_path / fmt, 300, fmt, seed=3)
        back = [r.model_copy(update={"source": ""}) for r in parse_file(path) if isinstance(r, Transaction)]
        assert back == expected, fmt
    (path,) = write_files(tmp_path / "xml", 300, "poslog", seed=3)
    back = [r for r in parse_file(path) if isinstance(r, Transaction)]
    assert [(t.key, t.type, t.total_minor, len(t.void_lines), t.net_minor + t.tax_minor) for t in back] == [
        (t.key, t.type, t.total_minor, len(t.void_lines), t.net_minor + t.tax_minor) for t in expected
    ]


def test_throughput_scales_with_the_batch(tmp_path: Path) -> None:
    small = run_pos_benchmark(tmp_path / "small", 1000, "jsonl", workers=1)
    large = run_pos_benchmark(tmp_path / "large", 5000, "jsonl", workers=1)
    for result, n in ((small, 1000), (large, 5000)):
        assert result["inserted"] == result["reingest_unchanged"] == result["stored"]["transactions"] == n
        assert result["reingest_inserted_or_updated"] == 0 and result["quarantined"] == 0
        assert result["stored"]["exceptions"] > 0
    # per-transaction cost stays flat (no look-up that grows with the table): 5x the batch in well under the 25x
    # a quadratic cost would take; wide margins, as other work on the machine moves wall-clock times
    assert large["ingest_s"] < 12 * small["ingest_s"], (small, large)
    assert large["transactions_per_s"] > 0.4 * small["transactions_per_s"], (small, large)


def test_files_are_parsed_in_worker_processes(tmp_path: Path) -> None:
    result = run_pos_benchmark(tmp_path, 600, "poslog", workers=2)
    assert result["files"] == 1  # one file: nothing to share out, read here
    files = write_files(tmp_path / "many", 600, "poslog", per_file=200)
    from storewatch.pos.config import PosConfig
    from storewatch.pos.service import PosIngestService
    from storewatch.store.db import open_database
    from storewatch.store.migrate import upgrade

    url = f"sqlite:///{tmp_path / 'w.db'}"
    upgrade(url)
    with open_database(url) as db:
        service = PosIngestService(db, PosConfig())
        told: list[tuple[int, int]] = []
        reports = service.ingest_files(files, workers=2, progress=lambda *done: told.append(done))
        assert [r.inserted for r in reports] == [200, 200, 200]
        assert told == [(1, 200), (2, 400), (3, 600)]  # (files, transactions) as each file is stored
        assert [r.unchanged for r in service.ingest_files(files, workers=2)] == [200, 200, 200]
        sequential = [r.exceptions for r in reports]
        assert sum(sequential) == service.repo.counts()["exceptions"] > 0
