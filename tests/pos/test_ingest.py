"""Ingest into the store (SQLite and PostgreSQL): idempotent re-ingest, corrected re-sends, a malformed file or
record among good ones quarantined while the rest is accepted, the period rules from stored counts, the drop
folder and the command line."""

from __future__ import annotations

import json
import os
import shutil
from datetime import date, timedelta
from pathlib import Path

import pytest

from storewatch.cli.app import main
from storewatch.ingest.dropfolder import DropFolder
from storewatch.pos.config import PosConfig
from storewatch.pos.model import LineItem, LineKind
from storewatch.pos.service import PosIngestService
from storewatch.store.db import Database, default_url
from storewatch.store.migrate import upgrade
from tests.pos.conftest import T0, make_tx, sale


def test_reingesting_a_file_changes_nothing(database: Database, store9: Path) -> None:
    service = PosIngestService(database, PosConfig(timezone="America/Chicago"))
    first = service.ingest_file(store9)
    assert (first.accepted, first.inserted, first.exceptions, first.quarantined) == (51, 51, 6, [])
    again = service.ingest_file(store9)
    assert (again.inserted, again.updated, again.unchanged, again.exceptions) == (0, 0, 51, 0)
    assert service.repo.counts() == {"transactions": 51, "exceptions": 6, "quarantined": 0}
    codes = sorted(e.code.value for e in service.repo.exceptions())
    assert codes == ["no_sale", "no_sale", "void_line", "void_line", "void_line", "void_line"]
    stored = service.repo.transaction("9", "3", date(2017, 10, 1), 92)
    assert stored is not None and stored.end_utc.isoformat() == "2017-10-01T20:25:00+00:00"
    assert len(stored.void_lines) == 1 and stored.supervisor_override


def test_a_corrected_resend_replaces_the_transaction(database: Database) -> None:
    service = PosIngestService(database, PosConfig())
    service.ingest([make_tx(lines=(sale(1, 500),))], "a")
    fixed = make_tx(lines=(sale(1, 500), sale(2, 900), LineItem(number=3, kind=LineKind.VOID, amount_minor=-900)))
    report = service.ingest([fixed, fixed], "b")  # the same key twice in one batch: one row
    assert (report.inserted, report.updated, report.unchanged) == (0, 1, 0)
    stored = service.repo.transaction("9", "2", T0.date(), 1)
    assert stored is not None and len(stored.lines) == 3
    assert [e.code.value for e in service.repo.exceptions()] == ["void_line"]


def test_a_malformed_file_in_a_batch_is_quarantined_and_the_rest_accepted(
    database: Database, store9: Path, poslog6: Path, tmp_path: Path
) -> None:
    broken = tmp_path / "broken.xml"
    broken.write_bytes(store9.read_bytes()[:200_000])  # cut mid-transaction
    bad_record = tmp_path / "records.jsonl"
    good = make_tx(sequence=5).model_dump_json()
    bad_record.write_text(f'{good}\n{{"store": "9", "register": "2", "sequence": -1}}\nnot json\n')
    service = PosIngestService(database, PosConfig())
    reports = {p.name: service.ingest_file(p) for p in (poslog6, broken, bad_record)}
    assert reports[poslog6.name].accepted == 8 and reports[poslog6.name].quarantined == []
    cut = reports["broken.xml"]
    assert cut.accepted > 0 and len(cut.quarantined) == 1
    assert "not well-formed" in cut.quarantined[0].error and cut.quarantined[0].record.startswith("after Transaction[")
    lines = reports["records.jsonl"]
    assert lines.accepted == 1 and [(q.record, q.path) for q in lines.quarantined] == [
        ("line 2 (store 9, register 2, sequence -1)", "sequence"),
        ("line 3", "column 1"),
    ]
    counts = service.repo.counts()
    assert counts["transactions"] == 8 + cut.accepted + 1 and counts["quarantined"] == 3
    service.ingest_file(bad_record)
    assert service.repo.counts()["quarantined"] == 3  # the same bad records are not stored twice


def test_period_rules_run_on_the_stored_day(database: Database) -> None:
    txs, seq = [], 0
    for op in "abcde":
        for i in range(25):
            seq += 1
            voided = op == "e" and i < 8
            lines = (
                (sale(1, 100), LineItem(number=2, kind=LineKind.VOID, amount_minor=-100)) if voided else (sale(1, 100),)
            )
            txs.append(make_tx(sequence=seq, lines=lines, operator=op, end=T0 + timedelta(minutes=seq)))
    service = PosIngestService(database, PosConfig())
    service.ingest(txs[:60], "morning")
    assert service.repo.exceptions("excessive_voids") == []  # too few transactions per cashier yet
    service.ingest(txs[60:], "afternoon")
    (e,) = service.repo.exceptions("excessive_voids")
    assert e.operator == "e" and e.values["events"] == 8 and e.values["transactions"] == 25
    service.ingest(txs, "again")
    assert len(service.repo.exceptions("excessive_voids")) == 1


def test_drop_folder_moves_files_to_done_or_quarantine(database: Database, poslog6: Path, tmp_path: Path) -> None:
    drop = tmp_path / "drop"
    drop.mkdir()
    shutil.copy(poslog6, drop / "day1.xml")
    (drop / "bad.csv").write_text(
        "store,register,sequence,type,end_utc,row,price\n9,2,1,sale,2026-01-01T00:00Z,line,1\n"
    )
    (drop / "writing.xml.part").write_text("<POSLog")
    fresh = drop / "fresh.xml"
    fresh.write_bytes(poslog6.read_bytes())
    folder = DropFolder(drop, PosIngestService(database, PosConfig()).ingest_file, settle_s=5.0)
    old = fresh.stat().st_mtime - 60
    for name in ("day1.xml", "bad.csv"):
        os.utime(drop / name, (old, old))
    outcomes = folder.poll_once()
    assert sorted(o.moved_to.relative_to(drop).as_posix() for o in outcomes) == ["done/day1.xml", "quarantine/bad.csv"]
    report = json.loads((drop / "quarantine" / "bad.csv.errors.json").read_text())
    assert report["accepted"] == 0 and "unknown column(s) price" in report["quarantined"][0]["error"]
    assert sorted(p.name for p in drop.iterdir() if p.is_file()) == ["fresh.xml", "writing.xml.part"]
    assert folder.poll_once(now=fresh.stat().st_mtime + 10)[0].moved_to == drop / "done" / "fresh.xml"


def test_pos_check_prints_one_json_object_per_transaction(store9: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["pos", "check", str(store9), "--json", "--timezone", "America/Chicago"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(rows) == 51
    assert all({"store", "register", "sequence", "type", "exceptions"} <= set(r) for r in rows)
    assert sum(r["void_lines"] for r in rows) == 4
    assert sorted(r["sequence"] for r in rows if "no_sale" in r["exceptions"]) == [65, 66]


def test_pos_check_exits_1_naming_what_it_could_not_read(
    tmp_path: Path, poslog6: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('[{"store": "9"}]')
    assert main(["pos", "check", str(poslog6), str(bad)]) == 1
    out, err = capsys.readouterr()
    assert "8 transactions, 5 exceptions, 1 quarantined" in out
    assert f"quarantined: {bad}: record 1 (store 9): register: Field required" in err


def test_pos_ingest_command(tmp_path: Path, poslog6: Path, capsys: pytest.CaptureFixture[str]) -> None:
    upgrade(default_url(tmp_path))
    assert main(["pos", "ingest", str(poslog6), "--data-dir", str(tmp_path), "--json"]) == 0
    assert main(["pos", "ingest", str(poslog6), "--data-dir", str(tmp_path), "--json"]) == 0
    first, second = (json.loads(line) for line in capsys.readouterr().out.splitlines())
    assert (first["inserted"], first["exceptions"], second["unchanged"], second["exceptions"]) == (8, 5, 8, 0)
    assert main(["pos", "ingest", str(poslog6), "--data-dir", str(tmp_path / "none")]) == 2
