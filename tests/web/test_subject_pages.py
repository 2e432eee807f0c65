"""Data subject requests from the dashboard (``/privacy/subjects``), through the real app and database: a privacy
officer of store s1 finds, exports (a job, the pack verifies) and erases what is held about a person, each request
a ``subject_request`` audit row as the CLI writes it; other stores' people are not found; a legal hold, a wrong
confirmation or a missing reason erase nothing."""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from storewatch.audit.chain import ActorKind, AuditAction
from storewatch.incidents.pack import verify_pack
from storewatch.privacy.clips import protected_path
from storewatch.store import open_database
from storewatch.store.audit import AuditFilter, AuditLog
from storewatch.store.db import default_url
from storewatch.store.events import EventRepository
from storewatch.store.incidents import IncidentRepository
from storewatch.web import create_app
from storewatch.web.auth import hash_password
from storewatch.web.permissions import Role
from storewatch.web.users import UserRepository
from tests.web.conftest import login, settings_for
from tests.web.seed import GUARD, Seeded

DPO = ("dpo", "privacy officer 1")
PAGE = "/privacy/subjects"


@pytest.fixture
def dpo(seeded: Seeded) -> Iterator[TestClient]:
    with open_database(default_url(seeded.data_dir)) as db:
        UserRepository(db).create(DPO[0], hash_password(DPO[1]), Role.PRIVACY_OFFICER, ["s1"], "Dana Privacy")
    with TestClient(create_app(settings_for(seeded.data_dir)), follow_redirects=False) as client:
        yield login(client, DPO)


def requests_of(seeded: Seeded) -> list[Any]:
    with open_database(default_url(seeded.data_dir)) as db:
        return AuditLog(db).list(AuditFilter(action=AuditAction.SUBJECT_REQUEST.value))


def held(seeded: Seeded, name: str, kind: str) -> Path:
    """An evidence file of the seeded event in this test's copy of the data folder (events name the template's)."""
    return (
        seeded.data_dir
        / "media"
        / Path(seeded.events[name].evidence[kind]).relative_to(Path(seeded.events[name].evidence[kind]).parents[3])
    )


def track_of(seeded: Seeded, name: str) -> str:
    return seeded.events[name].track_ids[0]


def test_find_lists_what_is_held_and_is_recorded_as_the_cli_does(dpo: TestClient, seeded: Seeded) -> None:
    assert dpo.get(PAGE).status_code == 200 and not requests_of(seeded)  # the empty form records nothing
    track = track_of(seeded, "walkout")
    page = dpo.get(PAGE, params={"kind": "track", "value": track})
    assert page.status_code == 200, page.text
    html = page.text
    assert f"/alerts/{seeded.alerts['walkout']}" in html and f"/incidents/{seeded.incidents['walkout']}" in html
    event = seeded.events["walkout"]
    assert Path(event.evidence["clip"]).name in html and Path(event.evidence["snapshot"]).name in html
    assert str(seeded.data_dir) not in html  # file names only, never the machine's paths
    (row,) = requests_of(seeded)
    assert row.actor == "dpo" and row.actor_kind == ActorKind.USER and row.store == "s1"
    assert row.target == f"track:{track}"
    assert row.details["kind"] == "find" and row.details["via"] == "dashboard" and row.details["counts"]["events"] == 1


@pytest.mark.parametrize(
    ("kind", "value", "status", "message"),
    [
        ("track", "120", 422, "is not a track id"),
        ("track", "s1/door/99999", 404, "no stored event names the track"),
        ("event", "nope", 404, "no stored event has the id"),
        ("incident", "ab", 404, "give at least 6 characters"),
        ("bogus", "x", 422, "incident"),
    ],
)
def test_a_bad_reference_is_named_and_nothing_is_recorded(
    dpo: TestClient, seeded: Seeded, kind: str, value: str, status: int, message: str
) -> None:
    page = dpo.get(PAGE, params={"kind": kind, "value": value})
    assert page.status_code == status and message in page.text.lower(), page.text[-2000:]
    assert not requests_of(seeded)


def test_a_person_seen_only_at_another_store_is_not_found(dpo: TestClient, seeded: Seeded) -> None:
    fight = seeded.events["fight"]  # at s2
    for kind, value in (("track", track_of(seeded, "fight")), ("event", fight.id),
                        ("incident", seeded.incidents["fight"])):  # fmt: skip
        assert dpo.get(PAGE, params={"kind": kind, "value": value}).status_code == 404, (kind, value)
        response = dpo.post(f"{PAGE}/export", data={"kind": kind, "value": value})
        assert response.status_code == 404
        erase = {"kind": kind, "value": value, "confirm": value, "reason": "erasure request 7"}
        assert dpo.post(f"{PAGE}/erase", data=erase).status_code == 404
    assert not requests_of(seeded)
    with open_database(default_url(seeded.data_dir)) as db:
        assert EventRepository(db).get(fight.id) is not None


def test_export_is_a_job_whose_pack_verifies_with_the_clip_blurred(dpo: TestClient, seeded: Seeded) -> None:
    made: list[Path] = []

    def protect(clip: Path, progress: Any = None) -> Path:  # stands in for the face blurring (models not needed)
        copy = protected_path(clip)
        copy.write_bytes(b"blurred " + clip.read_bytes()[:64])
        made.append(clip)
        return copy

    dpo.app.state.ctx.subjects.protect_clip = protect  # type: ignore[attr-defined]
    response = dpo.post(f"{PAGE}/export", data={"kind": "event", "value": seeded.events["walkout"].id})
    assert response.status_code == 303 and response.headers["location"].startswith("/jobs/")
    job_id = response.headers["location"].rsplit("/", 1)[1]
    job = dpo.app.state.ctx.jobs.wait(job_id, 30)  # type: ignore[attr-defined]
    assert job.state.value == "done", job.error
    assert "faces blurred" not in (job.error or "") and job.link.startswith(PAGE)
    assert dpo.get(f"/jobs/{job_id}").status_code == 200
    file = dpo.get(f"/api/v1/jobs/{job_id}/file")
    assert file.status_code == 200 and file.headers["content-type"] == "application/zip"
    pack = job.result
    assert verify_pack(pack).ok
    clip = held(seeded, "walkout", "clip")
    assert made == [clip]
    with zipfile.ZipFile(pack) as z:
        names = set(z.namelist())
    assert f"evidence/{clip.stem}.protected.mp4" in names and f"evidence/{clip.name}" not in names
    assert "evidence/subject-report.json" in names
    assert [r.details["kind"] for r in requests_of(seeded)] == ["export"]
    assert requests_of(seeded)[0].details["via"] == "dashboard"


def test_erase_needs_the_typed_confirmation_and_a_reason(dpo: TestClient, seeded: Seeded) -> None:
    event = seeded.events["walkout"]
    track = track_of(seeded, "walkout")
    base = {"kind": "track", "value": track}
    wrong = dpo.post(f"{PAGE}/erase", data={**base, "confirm": "s1/door/1", "reason": "erasure request 7"})
    assert wrong.status_code == 422 and f"type {track} to confirm" in wrong.text.lower()
    bare = dpo.post(f"{PAGE}/erase", data={**base, "confirm": track, "reason": " "})
    assert bare.status_code == 422 and "say why" in bare.text.lower()
    assert not requests_of(seeded) and held(seeded, "walkout", "snapshot").is_file()

    done = dpo.post(f"{PAGE}/erase", data={**base, "confirm": track, "reason": "erasure request 7 (e-mail)"})
    assert done.status_code == 200 and "Erased for" in done.text, done.text[-2000:]
    assert not held(seeded, "walkout", "snapshot").exists() and not held(seeded, "walkout", "clip").exists()
    assert Path(event.evidence["snapshot"]).is_file()  # the template's copy, which the events name, is untouched
    with open_database(default_url(seeded.data_dir)) as db:
        assert EventRepository(db).get(event.id) is None
    (row,) = requests_of(seeded)
    assert row.details["kind"] == "erase" and row.details["reason"] == "erasure request 7 (e-mail)"
    assert row.details["erased"]["rows"]["events"] == 1 and row.details["via"] == "dashboard"
    assert dpo.get(PAGE, params=base).status_code == 404  # nothing names the track any more


def test_a_legal_hold_refuses_the_erasure_and_the_refusal_is_recorded(dpo: TestClient, seeded: Seeded) -> None:
    incident = seeded.incidents["walkout"]
    with open_database(default_url(seeded.data_dir)) as db:
        IncidentRepository(db).change(incident, lambda i: i.hold("ana", datetime.now(UTC), True, "police ref 42"))
    found = dpo.get(PAGE, params={"kind": "incident", "value": incident})
    assert found.status_code == 200 and "legal hold" in found.text
    value = seeded.incidents["walkout"]
    body = {"kind": "incident", "value": value, "confirm": value, "reason": "erasure request 9"}
    refused = dpo.post(f"{PAGE}/erase", data=body)
    assert refused.status_code == 409 and "under legal hold" in refused.text and "nothing was erased" in refused.text
    assert held(seeded, "walkout", "snapshot").is_file()
    kinds = [(r.details["kind"], r.details.get("refused")) for r in requests_of(seeded)]
    assert kinds == [("erase", "legal_hold"), ("find", None)]  # newest first


def test_only_privacy_roles_see_the_page_and_its_link(dpo: TestClient, seeded: Seeded) -> None:
    assert f'href="{PAGE}"' in dpo.get("/").text
    login(dpo, GUARD)
    assert f'href="{PAGE}"' not in dpo.get("/").text
    assert dpo.get(PAGE).status_code == 403
    assert dpo.post(f"{PAGE}/erase", data={"kind": "track", "value": "s2/entrance/300"}).status_code == 403
