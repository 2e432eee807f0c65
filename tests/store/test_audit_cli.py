"""``storewatch audit`` and ``storewatch retention`` on a data folder: what the incident commands leave in the
audit log, a tampered row named by ``verify`` (exit 1), listing and exporting, and a retention run and dry run."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from storewatch.cli.app import main
from storewatch.core.events import Event
from storewatch.core.ids import CameraId
from storewatch.incidents.workflow import Incident
from storewatch.store import EventRepository, default_url, open_database, upgrade
from storewatch.store.audit import AuditLog
from storewatch.store.incidents import IncidentRepository

OLD = datetime.now(UTC) - timedelta(days=90)


@pytest.fixture(autouse=True)
def wide_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "200")


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """One old incident of one old event with a snapshot, and an old event alone with a snapshot."""
    folder = tmp_path / "data"
    events = [Event(id=f"e{n}", type="loitering", camera=CameraId("s1/c1"), start_utc=OLD + timedelta(minutes=n),
                    explanation=f"event {n}") for n in (1, 2)]  # fmt: skip
    for e in events:
        snap = folder / "media" / "s1" / "c1" / f"{e.start_utc:%Y-%m-%d}" / f"{e.id}.jpg"
        snap.parent.mkdir(parents=True, exist_ok=True)
        snap.write_bytes(b"\xff\xd8\xff" + b"0" * 997)
    with open_database(default_url(folder)) as db:
        upgrade(db)
        EventRepository(db).upsert_many(events)
        IncidentRepository(db).save(Incident.open("inc0001", "s1", OLD, "loitering").with_event("e1", OLD, "e1"))
    return folder


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_incident_commands_leave_audit_rows_and_verify_names_a_tampered_row(
    data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    d = ("--data-dir", str(data_dir))
    assert _run(capsys, "incidents", "show", "inc0001", "--by", "ana", *d)[0] == 0
    assert _run(capsys, "incidents", "export", "--incident", "inc0001", "--out", str(tmp_path / "p.zip"), "--by",
                "ana", *d)[0] == 0  # fmt: skip
    assert _run(capsys, "incidents", "hold", "inc0001", "--reason", "police", "--by", "ana", *d)[0] == 0
    code, out, _ = _run(capsys, "audit", "list", "--json", "--actor", "ana", *d)
    rows = json.loads(out)
    assert code == 0 and [(r["action"], r["target"]) for r in reversed(rows)] == [
        ("view", "incident:inc0001"), ("export", "incident:inc0001"), ("legal_hold", "incident:inc0001")]  # fmt: skip
    assert rows[0]["detail"] == {"held": True, "reason": "police", "via": "cli"} and rows[0]["actor_kind"] == "cli"
    code, out, _ = _run(capsys, "audit", "verify", *d)
    assert code == 0 and "OK — 4 row(s) from row 1 to row 4" in out  # the listing was recorded as row 4
    head = next(line.split(": ", 1)[1] for line in out.splitlines() if line.startswith("head: "))
    with sqlite3.connect(data_dir / "storewatch.db") as conn:
        conn.execute('UPDATE audit_log SET detail = \'{"via":"cli"}\' WHERE seq = 2')
    code, out, _ = _run(capsys, "audit", "verify", "--anchor", head, *d)
    assert code == 1 and "FAILED at row 2: row 2 was edited" in out
    assert _run(capsys, "audit", "verify", "--anchor", "12:zz", *d)[0] == 2


def test_export_writes_csv_and_json_and_records_itself(
    data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    d = ("--data-dir", str(data_dir))
    _run(capsys, "incidents", "show", "inc0001", "--by", "ana", *d)
    code, _, _ = _run(capsys, "audit", "export", "--csv", str(tmp_path / "a.csv"), "--action", "view", "--by",
                        "pia", *d)  # fmt: skip
    table = list(csv.DictReader(io.StringIO((tmp_path / "a.csv").read_text())))
    assert code == 0 and [(r["actor"], r["action"]) for r in table] == [("ana", "view")]
    assert json.loads(table[0]["detail"]) == {"via": "cli"} and len(table[0]["hash"]) == 64
    assert _run(capsys, "audit", "export", "--json", str(tmp_path / "a.json"), *d)[0] == 0
    assert [r["actor"] for r in json.loads((tmp_path / "a.json").read_text())] == ["ana", "pia"]
    code, _, err = _run(capsys, "audit", "list", "--action", "peek", *d)
    assert code == 2 and "unknown audit action 'peek'" in err and "login_ok" in err


def test_retention_dry_run_changes_nothing_and_a_run_is_audited(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    d = ("--data-dir", str(data_dir))
    files = sorted(p for p in data_dir.rglob("*.jpg"))
    assert len(files) == 2
    code, out, _ = _run(capsys, "retention", "run", "--dry-run", "--json", "-q", *d)
    report = json.loads(out)
    assert code == 0 and report["dry_run"] and report["kinds"]["snapshots"] == {
        "items": 1, "bytes": 1000, "kept": 1, "errors": 0}  # fmt: skip
    assert sorted(data_dir.rglob("*.jpg")) == files
    with open_database(default_url(data_dir)) as db:
        assert AuditLog(db).count() == 0
    code, out, _ = _run(capsys, "retention", "run", *d)
    assert code == 0 and "snapshots" in out and "1.0 kB" in out and "recorded in the audit log as row 1" in out
    assert [p.name for p in data_dir.rglob("*.jpg")] == ["e1.jpg"]  # the open incident's evidence stays
    with open_database(default_url(data_dir)) as db:
        (entry,) = AuditLog(db).list()
        assert entry.action == "retention_purge" and entry.details["kinds"]["snapshots"]["items"] == 1


def test_retention_with_a_bad_config_says_what_is_wrong(
    data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    site = tmp_path / "site.yaml"
    site.write_text("site: {id: demo}\nstores:\n  - id: s1\nretention:\n  clips_days: -1\n")
    code, _, err = _run(capsys, "retention", "run", "--config", str(site), "--data-dir", str(data_dir))
    assert code == 2 and f"{site}:5: retention.clips_days" in err and "greater than or equal to 1" in err
