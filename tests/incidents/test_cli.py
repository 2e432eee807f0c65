"""``storewatch incidents``: working a stored incident from the command line, exports and case pushes."""

from __future__ import annotations

import csv
import io
import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import cv2
import numpy as np
import pytest

from storewatch.alerts.webhook import SIGNATURE_HEADER, TIMESTAMP_HEADER, verify_signature
from storewatch.cli.app import main
from storewatch.core.events import Event, EventState, Severity
from storewatch.core.ids import CameraId
from storewatch.incidents.cases import CASE_COLUMNS
from storewatch.incidents.service import IncidentService
from storewatch.store import EventRepository, default_url, open_database, upgrade
from storewatch.store.incidents import IncidentRepository

T0 = datetime(2026, 3, 2, 12, tzinfo=UTC)


@pytest.fixture(autouse=True)
def wide_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "200")


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """A data folder holding one incident of two events, the first with a snapshot."""
    folder = tmp_path / "data"
    folder.mkdir()
    snap = folder / "e1.jpg"
    cv2.imwrite(str(snap), np.full((120, 160, 3), 90, np.uint8))
    first = Event(
        id="e1",
        type="loitering",
        camera=CameraId("s1/c1"),
        zone="electronics",
        start_utc=T0,
        explanation="dwelled 95 s in electronics",
        track_ids=("s1/c1/4",),
        severity=Severity.MEDIUM,
    )
    second = Event(id="e2", type="concealment", camera=CameraId("s1/c1"), start_utc=T0 + timedelta(seconds=40),
                   explanation="hand to bag", track_ids=("s1/c1/4",), severity=Severity.HIGH)  # fmt: skip
    with open_database(default_url(folder)) as db:
        upgrade(db)
        svc = IncidentService(db)
        for e in (
            first,
            second,
            first.with_evidence(snapshot=str(snap)).model_copy(update={"state": EventState.UPDATED}),
        ):
            EventRepository(db).upsert(e)
            svc.handle(e)
    return folder


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out + out.err


def only_incident(data_dir: Path) -> str:
    with open_database(default_url(data_dir)) as db:
        [case] = IncidentRepository(db).list()
    return case.id


def test_list_show_and_work_an_incident(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    d = str(data_dir)
    code, out = run(capsys, "incidents", "list", "--data-dir", d)
    assert code == 0 and "loitering at s1/c1 (electronics)" in out and "open" in out
    short = only_incident(data_dir)[:8]
    assert run(capsys, "incidents", "ack", short, "--by", "guard-7", "--data-dir", d)[0] == 0
    assert run(capsys, "incidents", "note", short, "two items in a bag", "--by", "ana", "--data-dir", d)[0] == 0
    assert run(capsys, "incidents", "loss", short, "129.99", "EUR", "--by", "ana", "--data-dir", d)[0] == 0
    code, out = run(capsys, "incidents", "false-alarm", short, "--by", "ana", "--data-dir", d)
    assert code == 2 and "needs a reason" in out
    code, out = run(capsys, "incidents", "resolve", short, "--by", "ana", "--data-dir", d)
    assert code == 0 and "resolved" in out
    code, out = run(capsys, "incidents", "show", short, "--by", "ana", "--json", "--data-dir", d)
    record = json.loads(out)
    assert record["state"] == "resolved" and record["loss"] == "129.99" and len(record["events"]) == 2
    assert [t["kind"] for t in record["timeline"]] == [
        "opened", "event", "event", "evidence", "acknowledged", "note", "loss", "resolved"]  # fmt: skip
    assert [c["action"] for c in record["custody"]] == ["created", "viewed"]
    code, out = run(capsys, "incidents", "investigate", short, "--by", "ana", "--data-dir", d)
    assert code == 2 and "it can go to open, not investigating" in out


def test_bad_input_is_named(data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    d = str(data_dir)
    assert "no incident's id starts with 'ffffff'" in run(capsys, "incidents", "show", "ffffff", "--data-dir", d)[1]
    assert "give at least 6" in run(capsys, "incidents", "show", "ab", "--data-dir", d)[1]
    assert "not an amount" in run(capsys, "incidents", "loss", only_incident(data_dir), "12,5", "--data-dir", d)[1]
    assert (
        "unknown incident state 'closed'" in run(capsys, "incidents", "list", "--state", "closed", "--data-dir", d)[1]
    )
    assert "no event store here" in run(capsys, "incidents", "list", "--data-dir", str(tmp_path / "none"))[1]


def test_export_records_custody_and_the_pack_verifies(
    data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    incident = only_incident(data_dir)
    pack = tmp_path / "pack.zip"
    code, out = run(capsys, "incidents", "export", "--incident", incident, "--out", str(pack), "--by", "ana",
                    "--data-dir", str(data_dir))  # fmt: skip
    assert code == 0 and "1 evidence file" in out
    code, out = run(capsys, "incidents", "verify", str(pack))
    assert code == 0 and "OK" in out
    import zipfile

    with zipfile.ZipFile(pack) as z:
        record = json.loads(z.read("incident.json"))
        assert record["schema"] == "storewatch.incident/1" and record["id"] == incident
        assert {"evidence/e1.jpg", "summary.pdf", "custody.json"} <= set(z.namelist())
    with open_database(default_url(data_dir)) as db:
        trail = IncidentRepository(db).custody(incident)
    assert trail[-1]["action"] == "exported" and trail[-1]["actor"] == "ana" and len(trail[-1]["sha256"]) == 64


def test_verify_is_recorded_in_the_audit_log(
    data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import hashlib
    import zipfile

    from storewatch.audit.chain import AuditAction
    from storewatch.store.audit import AuditFilter, AuditLog

    incident = only_incident(data_dir)
    pack = tmp_path / "pack.zip"
    d = str(data_dir)
    assert run(capsys, "incidents", "export", "--incident", incident, "--out", str(pack), "--data-dir", d)[0] == 0
    code, out = run(capsys, "incidents", "verify", str(pack), "--by", "dc-smith", "--data-dir", d)
    assert code == 0 and "OK" in out
    tampered = tmp_path / "tampered.zip"
    with zipfile.ZipFile(pack) as src, zipfile.ZipFile(tampered, "w") as dst:
        for item in src.infolist():
            data = src.read(item)
            dst.writestr(item, data + b"x" if item.filename == "evidence/e1.jpg" else data)
    assert run(capsys, "incidents", "verify", str(tampered), "--by", "dc-smith", "--data-dir", d)[0] == 1
    with open_database(default_url(data_dir)) as db:
        rows = AuditLog(db).list(AuditFilter(action=AuditAction.VERIFY.value))
        assert AuditLog(db).verify().ok
    bad, good = rows  # newest first
    assert good.actor == "dc-smith" and good.target == "pack:pack.zip" and good.store == "s1"
    assert good.details["ok"] is True and good.details["incident"] == incident and good.details["problems"] == 0
    assert good.details["sha256"] == hashlib.sha256(pack.read_bytes()).hexdigest()
    assert bad.details["ok"] is False and bad.details["problems"] == 1 and bad.target == "pack:tampered.zip"

    monkeypatch.chdir(tmp_path)  # someone with only the pack: checked, and told it is not recorded
    code, out = run(capsys, "incidents", "verify", str(pack))
    assert code == 0 and "OK" in out and "not recorded in an audit log" in out


@pytest.fixture
def receiver() -> Iterator[tuple[str, list[tuple[bytes, dict[str, str]]]]]:
    got: list[tuple[bytes, dict[str, str]]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            got.append((self.rfile.read(int(self.headers["Content-Length"])), dict(self.headers)))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/cases", got
    server.shutdown()
    server.server_close()


def test_cases_go_out_as_csv_and_as_a_signed_webhook(
    data_dir: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    receiver: tuple[str, list[tuple[bytes, dict[str, str]]]],
) -> None:
    out = tmp_path / "cases.csv"
    assert run(capsys, "incidents", "cases", "--csv", str(out), "--data-dir", str(data_dir))[0] == 0
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    assert tuple(rows[0]) == CASE_COLUMNS and rows[0]["event_types"] == "loitering;concealment"
    url, got = receiver
    code, text = run(capsys, "incidents", "cases", "--webhook", url, "--data-dir", str(data_dir))
    assert code == 2 and "STOREWATCH_CASES_SECRET" in text
    monkeypatch.setenv("STOREWATCH_CASES_SECRET", "0123456789abcdef0123")
    assert run(capsys, "incidents", "cases", "--webhook", url, "--data-dir", str(data_dir))[0] == 0
    [(body, headers)] = got
    assert verify_signature(body, headers[SIGNATURE_HEADER], "0123456789abcdef0123", headers[TIMESTAMP_HEADER])
    payload = json.loads(body)
    assert payload["schema"] == "storewatch.case/1" and payload["cases"][0]["id"] == only_incident(data_dir)
