"""Long operations as jobs: the runner (bounded, failures kept with their message, progress) and the evidence pack
exported through a job's page, seen only by its owner within their stores."""

from __future__ import annotations

import io
import threading
import time
import zipfile
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from storewatch.errors import StorewatchError
from storewatch.web.jobs import JobRunner, JobsBusyError, JobState, Progress
from tests.web.conftest import login
from tests.web.seed import GUARD, Seeded


def _file(progress: Progress, folder: Path) -> Path:
    progress(0.25, "a quarter")
    out = folder / "out.txt"
    out.write_text("done")
    return out


def test_a_job_reports_progress_and_leaves_its_file() -> None:
    runner = JobRunner()
    seen: list[float] = []
    gate, submitted = threading.Event(), threading.Event()

    def work(progress: Progress, folder: Path) -> Path:
        submitted.wait(5)  # the worker may start before submit() returns the job
        progress(0.5, "half")
        seen.append(runner.get(job.id).progress)  # type: ignore[union-attr]
        gate.wait(5)
        return _file(progress, folder)

    job = runner.submit("t", "A test", owner="u1", store="s1", work=work)
    submitted.set()
    time.sleep(0.2)
    running = runner.get(job.id)
    assert running is not None and running.state == JobState.RUNNING and running.message == "half"
    gate.set()
    done = runner.wait(job.id, 5)
    assert done.state == JobState.DONE and done.progress == 1.0 and done.result is not None
    assert done.result.read_text() == "done" and seen == [0.5]
    runner.close()
    assert not done.result.exists(), "closing removes the results"


def test_a_failed_job_keeps_a_clear_message_and_a_bug_is_not_leaked() -> None:
    runner = JobRunner()

    def refused(progress: Progress, folder: Path) -> Path:
        raise StorewatchError("incident 1 has no stored events to export")

    def bug(progress: Progress, folder: Path) -> Path:
        raise KeyError("internal detail")

    first = runner.wait(runner.submit("t", "x", owner="u", store=None, work=refused).id, 5)
    second = runner.wait(runner.submit("t", "y", owner="u", store=None, work=bug).id, 5)
    runner.close()
    assert first.state == JobState.FAILED and first.error == "incident 1 has no stored events to export"
    assert second.state == JobState.FAILED and "internal detail" not in (second.error or "")
    assert "KeyError" in (second.error or "")


def test_too_many_waiting_jobs_are_refused_not_queued_without_end() -> None:
    runner = JobRunner(workers=1, max_waiting=2)
    gate = threading.Event()

    def blocked(progress: Progress, folder: Path) -> Path:
        gate.wait(5)
        return _file(progress, folder)

    runner.submit("t", "running", owner="u", store=None, work=blocked)
    time.sleep(0.2)
    runner.submit("t", "waits 1", owner="u", store=None, work=blocked)
    runner.submit("t", "waits 2", owner="u", store=None, work=blocked)
    with pytest.raises(JobsBusyError, match="2 jobs are already waiting"):
        runner.submit("t", "one too many", owner="u", store=None, work=blocked)
    gate.set()
    runner.close()


def test_ended_jobs_expire_with_their_files() -> None:
    runner = JobRunner(keep_s=0.0)
    done = runner.wait(runner.submit("t", "x", owner="u", store=None, work=_file).id, 5)
    assert done.result is not None and done.result.exists()
    time.sleep(0.01)
    runner.submit("t", "y", owner="u", store=None, work=_file)  # a submit expires the old ones
    assert runner.get(done.id) is None and not done.result.exists()
    runner.close()


def _finished(client: TestClient, job_url: str) -> dict[str, object]:
    job_id = job_url.rsplit("/", 1)[-1]
    deadline = time.monotonic() + 180  # a pack blurs its clips first: the models load, every frame is searched
    while time.monotonic() < deadline:
        state = client.get(f"/api/v1/jobs/{job_id}").json()
        if state["state"] in ("done", "failed"):
            return dict(state)
        time.sleep(0.1)
    raise AssertionError("the job did not end in 180 s")


def test_the_evidence_pack_is_exported_by_a_job_with_a_progress_page(admin: TestClient, seeded: Seeded) -> None:
    incident_id = seeded.incidents["walkout"]
    started = admin.post(f"/incidents/{incident_id}/pack")
    assert started.status_code == 303 and started.headers["location"].startswith("/jobs/")
    page = admin.get(started.headers["location"])
    assert page.status_code == 200 and 'role="progressbar"' in page.text and "Evidence pack of incident" in page.text
    job = _finished(admin, started.headers["location"])
    assert job["state"] == "done" and job["progress"] == 1.0, job
    pack = admin.get(str(job["file_url"]))
    assert pack.status_code == 200 and pack.headers["content-type"] == "application/zip"
    names = zipfile.ZipFile(io.BytesIO(pack.content)).namelist()
    assert "manifest.json" in names and sum(n.startswith("evidence/") for n in names) == 3
    assert "Evidence pack of incident" in admin.get("/jobs").text
    custody = admin.get(f"/api/v1/incidents/{incident_id}").json()["custody"]
    assert [c["action"] for c in custody].count("exported") == 1


def test_a_job_is_its_owners_and_outside_a_users_stores_it_does_not_exist(admin: TestClient, seeded: Seeded) -> None:
    started = admin.post(f"/incidents/{seeded.incidents['walkout']}/pack")  # a store-s1 incident
    job_url = started.headers["location"]
    _finished(admin, job_url)
    admin.post("/logout")
    guard = login(admin, GUARD)  # stores: s2 only, and not the owner
    assert guard.get(job_url).status_code == 404
    assert guard.get(f"/api/v1{job_url}").status_code == 404
    assert guard.get(f"/api/v1{job_url}/file").status_code == 404
    assert "Evidence pack of incident" not in guard.get("/jobs").text


def test_a_pack_is_not_started_for_a_role_that_exports_nothing(guard: TestClient, seeded: Seeded) -> None:
    # A guard may not export evidence (403, whatever the store); a user of another store who may is refused with
    # 404 like on every store-bound route (tests/web/test_access_walk.py).
    assert guard.post(f"/incidents/{seeded.incidents['fight']}/pack").status_code == 403


def test_a_clip_is_shown_and_packed_only_with_faces_blurred(admin: TestClient, seeded: Seeded) -> None:
    from storewatch.video.source import VideoSource

    alert_page = f"/alerts/{seeded.alerts['walkout']}"
    event = seeded.events["walkout"]
    key = f"{event.camera}/{event.start_utc:%Y-%m-%d}/{event.id}.mp4"
    started = admin.post("/media/protect", data={"key": key, "back": alert_page})
    assert started.status_code == 303, started.text
    job = _finished(admin, started.headers["location"])
    assert job["state"] == "done" and job["link"] == alert_page, job
    protected_url = f"/media/{key.removesuffix('.mp4')}.protected.mp4"
    assert f'src="{protected_url}"' in admin.get(alert_page).text
    original = seeded.data_dir / "media" / key
    blurred = original.with_name(f"{event.id}.protected.mp4")
    with VideoSource(original) as a, VideoSource(blurred) as b:
        pairs = list(zip(a.frames(), b.frames(), strict=True))
    assert len(pairs) == 12
    changed = [int((abs(x.image.astype(int) - y.image.astype(int)) > 40).sum()) for x, y in pairs]
    assert all(n > 50 for n in changed), f"every frame has a blurred face or head: {changed}"

    pack_job = _finished(admin, admin.post(f"/incidents/{seeded.incidents['walkout']}/pack").headers["location"])
    names = zipfile.ZipFile(io.BytesIO(admin.get(str(pack_job["file_url"])).content)).namelist()
    assert f"evidence/{event.id}.protected.mp4" in names and f"evidence/{event.id}.mp4" not in names


def test_only_a_clip_of_the_users_stores_is_prepared_and_nothing_else(guard: TestClient, seeded: Seeded) -> None:
    event = seeded.events["walkout"]  # store s1; the guard has s2 only
    key = f"{event.camera}/{event.start_utc:%Y-%m-%d}/{event.id}.mp4"
    assert guard.post("/media/protect", data={"key": key}).status_code == 404
    snapshot = key.removesuffix(".mp4") + ".jpg"
    assert guard.post("/media/protect", data={"key": snapshot}).status_code == 404
    assert guard.post("/media/protect", data={"key": "../../etc/passwd.mp4"}).status_code == 404
