"""The dashboard leaves audit rows: logins (good and bad), views, searches, evidence downloads, config saves; the
``/audit`` page and its CSV are for administrators only, and reading them is recorded too."""

from __future__ import annotations

import csv
import io

from fastapi.testclient import TestClient

from storewatch.store.audit import AuditFilter, AuditLog
from storewatch.store.db import open_database
from tests.web.conftest import login, login_form
from tests.web.seed import ADMIN, Seeded


def _log(seeded: Seeded) -> list[dict[str, object]]:
    with open_database(f"sqlite:///{seeded.data_dir / 'storewatch.db'}") as db:
        log = AuditLog(db)
        assert log.verify().ok
        return [e.public() for e in log.scan(AuditFilter())]


def test_logins_are_recorded_with_the_address_never_the_password(app_client: TestClient, seeded: Seeded) -> None:
    bad = login_form(app_client, {"username": "ana", "password": "tr0ub4dor-guess", "next": "/"})
    assert bad.status_code == 401
    login(app_client, ADMIN)
    rows = [r for r in _log(seeded) if str(r["action"]).startswith("login")]
    assert [(r["action"], r["actor"]) for r in rows] == [("login_failed", "ana"), ("login_ok", "ana")]
    assert rows[0]["detail"] == {"ip": "testclient", "reason": "wrong_password"}
    assert "tr0ub4dor-guess" not in str(rows) and ADMIN[1] not in str(rows)


def test_views_downloads_and_searches_are_recorded(admin: TestClient, seeded: Seeded) -> None:
    incident_id = seeded.incidents["walkout"]
    assert admin.get(f"/incidents/{incident_id}").status_code == 200
    assert admin.post(f"/api/v1/incidents/{incident_id}/export").status_code == 200
    e = seeded.events["walkout"]
    key = f"{e.camera}/{e.start_utc:%Y-%m-%d}/{e.id}.protected.mp4"  # made by the export (faces blurred)
    for _ in range(3):  # a video player's range requests: one view
        assert admin.get(f"/media/{key}", headers={"Range": "bytes=0-99"}).status_code == 206
    assert admin.get("/api/v1/events?store=s1").status_code == 200
    assert admin.get("/api/v1/events").status_code == 200  # unfiltered: the page itself, not a search
    rows = [(r["actor"], r["action"], r["target"]) for r in _log(seeded) if r["actor"] == "ana"]
    assert ("ana", "view", f"incident:{incident_id}") in rows
    assert ("ana", "export", f"incident:{incident_id}") in rows
    assert rows.count(("ana", "view", f"media:{key}")) == 1
    assert [r for r in rows if r[1] == "search"] == [("ana", "search", "events")]


def test_the_audit_page_is_for_administrators_and_reading_it_is_recorded(
    app_client: TestClient, seeded: Seeded
) -> None:
    from tests.web.seed import GUARD

    guard = login(app_client, GUARD)
    assert guard.get("/audit").status_code == 403 and guard.get("/audit.csv").status_code == 403
    guard.post("/logout")
    admin = login(app_client, ADMIN)
    page = admin.get("/audit?action=login_ok")
    assert page.status_code == 200 and "Audit log" in page.text and "bo" in page.text
    exported = admin.get("/audit.csv?actor=bo")
    assert exported.status_code == 200 and exported.headers["content-type"].startswith("text/csv")
    assert "attachment" in exported.headers["content-disposition"]
    table = list(csv.DictReader(io.StringIO(exported.text)))
    assert table and {r["actor"] for r in table} == {"bo"} and all(len(r["hash"]) == 64 for r in table)
    assert admin.get("/audit?action=nonsense").status_code == 422
    mine = [(r["action"], r["target"]) for r in _log(seeded) if r["actor"] == "ana"]
    assert ("view", "audit") in mine and ("export", "audit") in mine
