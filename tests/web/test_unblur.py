"""Watching a clip as recorded (faces visible): only a role with ``media.unblurred``, only after typing a reason,
recorded in the audit log each time, and only for that user and clip for a while."""

from __future__ import annotations

from fastapi.testclient import TestClient

from storewatch.store import open_database
from storewatch.store.audit import AuditFilter, AuditLog
from storewatch.store.db import default_url
from tests.web.conftest import login
from tests.web.seed import ADMIN, GUARD, Seeded


def _key(seeded: Seeded, name: str) -> str:
    e = seeded.events[name]
    return f"{e.camera}/{e.start_utc:%Y-%m-%d}/{e.id}.mp4"


def test_a_reason_opens_the_recorded_clip_for_that_user_and_is_audited(admin: TestClient, seeded: Seeded) -> None:
    key = _key(seeded, "walkout")
    assert admin.get(f"/media/{key}").status_code == 404  # faces blurred by default: the original is not served
    page = admin.get(f"/alerts/{seeded.alerts['walkout']}").text
    assert "View without blurring" in page and f'name="key" value="{key}"' in page
    short = admin.post("/media/unblur", data={"key": key, "reason": "why"})
    assert short.status_code == 422 and "say why" in short.text
    opened = admin.post("/media/unblur", data={"key": key, "reason": "police request 2026-118"})
    assert opened.status_code == 303 and opened.headers["location"] == f"/media/{key}"
    clip = admin.get(f"/media/{key}", headers={"Range": "bytes=0-99"})
    assert clip.status_code == 206 and clip.headers["content-type"] == "video/mp4"
    with open_database(default_url(seeded.data_dir)) as db:
        rows = AuditLog(db).list(AuditFilter(action="unblur"), newest_first=False)
    assert [(r.actor, r.target, r.details["reason"]) for r in rows] == [
        ("ana", f"media:{key}", "police request 2026-118")
    ]
    snapshot = key.removesuffix(".mp4") + ".jpg"
    assert admin.post("/media/unblur", data={"key": snapshot, "reason": "police request"}).status_code == 404


def test_without_the_role_or_the_grant_the_original_stays_hidden(app_client: TestClient, seeded: Seeded) -> None:
    key = _key(seeded, "fight")  # store s2: the guard's
    guard = login(app_client, GUARD)
    assert guard.post("/media/unblur", data={"key": key, "reason": "I want to see"}).status_code == 403
    assert guard.get(f"/media/{key}").status_code == 404
    assert "View without blurring" not in guard.get(f"/alerts/{seeded.alerts['fight']}").text
    guard.post("/logout")
    admin = login(app_client, ADMIN)
    assert admin.get(f"/media/{key}").status_code == 404, "a grant is per user and clip, and the admin has none"
