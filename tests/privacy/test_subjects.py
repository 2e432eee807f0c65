"""Data subject requests: find, export (faces blurred, verifiable) and erase what is held about one person, on a
seeded data folder of three people (A: track s1/door/4 over two days; B: s1/door/7; C: s1/tills/4, the same
number on another camera), each request audited."""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from storewatch.audit.chain import AuditAction
from storewatch.cli.app import main
from storewatch.core.events import Event, EventState
from storewatch.core.ids import CameraId
from storewatch.incidents.pack import verify_pack
from storewatch.incidents.workflow import Incident
from storewatch.privacy.clips import protected_path
from storewatch.privacy.subject_actions import SubjectRequests
from storewatch.privacy.subjects import Reference, RefKind
from storewatch.store import EventRepository, default_url, open_database, upgrade
from storewatch.store.alerts import AlertRepository
from storewatch.store.audit import AuditFilter, AuditLog
from storewatch.store.incidents import IncidentRepository
from tests.web.seed import evidence_files

D1 = datetime(2026, 3, 1, tzinfo=UTC)
D2 = D1 + timedelta(days=1)
A, B, C = "s1/door/4", "s1/door/7", "s1/tills/4"


@dataclass
class Site:
    data: Path
    events: dict[str, Event]

    def db_url(self) -> str:
        return default_url(self.data)


def _event(
    db_events: EventRepository,
    alerts: AlertRepository,
    data: Path,
    name: str,
    camera: str,
    at: datetime,
    tracks: tuple[str, ...],
    end_s: float | None,
) -> Event:
    e = Event(
        id=name,
        type="loitering",
        camera=CameraId(camera),
        start_utc=at,
        explanation=f"{name} happened",
        track_ids=tracks,
    )
    db_events.upsert(e)
    alerts.raise_alert(f"a-{name}", e, "guards", at)
    paths = evidence_files(data, e, 0, clip=end_s is not None)
    e = e.with_evidence(**paths).model_copy(update={"state": EventState.UPDATED})
    if end_s is not None:
        e = e.end(at + timedelta(seconds=end_s))
    db_events.upsert(e)
    return e


def _tracks(data: Path, camera: str, day: datetime, numbers: list[int]) -> None:
    folder = data / "tracks" / camera
    folder.mkdir(parents=True, exist_ok=True)
    lines = ["frame,t_s,track_id,label,x,y,w,h,score\n"]
    lines += [f"{i + 1},{i * 0.5:.3f},{n},person,10.0,20.0,30.0,80.0,0.900\n" for i, n in enumerate(numbers)]
    (folder / f"{day:%Y-%m-%d}.csv").write_text("".join(lines))


@pytest.fixture
def site(tmp_path: Path) -> Site:
    data = tmp_path / "data"
    data.mkdir()
    with open_database(default_url(data)) as db:
        upgrade(db)
        ev, al = EventRepository(db), AlertRepository(db)
        events = {
            "ea1": _event(ev, al, data, "ea1", "s1/door", D1 + timedelta(hours=23, minutes=59), (A,), 120.0),
            "ea2": _event(ev, al, data, "ea2", "s1/door", D2 + timedelta(hours=9), (A,), None),
            "es": _event(ev, al, data, "es", "s1/door", D1 + timedelta(hours=22), (A, B), None),
            "eb1": _event(ev, al, data, "eb1", "s1/door", D1 + timedelta(hours=21), (B,), 10.0),
            "ec1": _event(ev, al, data, "ec1", "s1/tills", D1 + timedelta(hours=23, minutes=58), (C,), None),
        }
        incidents = IncidentRepository(db)
        i1 = Incident.open("inc-one-1", "s1", D2, "walk-out").with_event("ea1", D2, "").with_event("ec1", D2, "")
        incidents.save(i1)
        incidents.save(Incident.open("inc-two-2", "s1", D1, "loitering").with_event("eb1", D1, ""))
    _tracks(data, "s1/door", D1, [4, 7, 4, 9, 4, 7])
    _tracks(data, "s1/door", D2, [4, 9, 4])
    _tracks(data, "s1/tills", D1, [4, 4])
    log = data / "events"
    log.mkdir()
    for day, names in ((D1, ("ea1", "es", "eb1", "ec1", "ea1")), (D2, ("ea2",))):
        (log / f"{day:%Y-%m-%d}.jsonl").write_text(
            "".join(json.dumps(events[n].model_dump(mode="json")) + "\n" for n in names)
        )
    return Site(data, events)


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out + out.err


def subject_rows(site: Site) -> list[dict[str, Any]]:
    with open_database(site.db_url()) as db:
        return [e.details for e in AuditLog(db).list(AuditFilter(action=AuditAction.SUBJECT_REQUEST.value))]


def test_find_by_track_reaches_both_days_and_the_shared_event(site: Site, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run(capsys, "privacy", "subject", "find", "--track", A, "--data-dir", str(site.data), "--json")
    assert code == 0, out
    report = json.loads(out)
    assert [e["id"] for e in report["events"]] == ["es", "ea1", "ea2"]
    assert {e["id"]: e["shared"] for e in report["events"]} == {"es": True, "ea1": False, "ea2": False}
    assert [(d["camera"], d["day"], d["rows"]) for d in report["track_days"]] == [
        ("s1/door", "2026-03-01", 3),
        ("s1/door", "2026-03-02", 2),
    ]
    assert [i["id"] for i in report["incidents"]] == ["inc-one-1"]
    kinds = sorted(f["kind"] for f in report["files"] if f["event_id"] == "ea1")
    assert kinds == ["clip", "path", "snapshot"]
    assert report["counts"]["alerts"] == 3 and report["counts"]["file_bytes"] > 0
    assert report["counts"]["log_lines"] == 4  # ea1 twice, es, ea2
    [detail] = subject_rows(site)
    assert detail["kind"] == "find" and detail["reference"] == f"track:{A}"
    assert "track_ids" not in detail and detail["counts"]["events"] == 3


def test_find_by_incident_covers_two_cameras(site: Site) -> None:
    with open_database(site.db_url()) as db:
        report = SubjectRequests(db, site.data, site.data / "media").find(
            Reference.parse(RefKind.INCIDENT, "inc-one"), "dpo"
        )
    assert report.track_ids == (A, C)
    assert {e.event.id for e in report.events} == {"ea1", "ea2", "es", "ec1"}
    assert {(d.camera, d.day.isoformat()) for d in report.track_days} == {
        ("s1/door", "2026-03-01"),
        ("s1/door", "2026-03-02"),
        ("s1/tills", "2026-03-01"),
    }


def test_export_verifies_and_holds_only_the_blurred_clip(site: Site, tmp_path: Path) -> None:
    made: list[Path] = []

    def protect(clip: Path, progress: object) -> Path:  # stands in for ClipProtector: a distinct copy beside it
        copy = protected_path(clip)
        copy.write_bytes(b"blurred " + clip.read_bytes()[:64])
        made.append(clip)
        return copy

    pack = tmp_path / "subject.zip"
    with open_database(site.db_url()) as db:
        SubjectRequests(db, site.data, site.data / "media").export(
            Reference.parse(RefKind.TRACK, A), pack, "dpo", protect
        )
        custody = IncidentRepository(db).custody("inc-one-1")
    assert made == [Path(site.events["ea1"].evidence["clip"])]
    check = verify_pack(pack)
    assert check.ok, check.problems
    with zipfile.ZipFile(pack) as z:
        names = set(z.namelist())
        assert "evidence/ea1.protected.mp4" in names and "evidence/ea1.mp4" not in names
        assert {"evidence/ea1.jpg", "evidence/ea1-path.jpg", "evidence/ea2.jpg", "evidence/es.jpg"} <= names
        assert "evidence/eb1.jpg" not in names and "evidence/ec1.jpg" not in names
        rows = z.read("evidence/subject-tracks.csv").decode().splitlines()
        report = json.loads(z.read("evidence/subject-report.json"))
    assert rows[0].startswith("camera,day,frame") and len(rows) == 1 + 5
    assert all(r.split(",")[4] == "4" and r.startswith("s1/door,") for r in rows[1:])
    assert report["counts"]["events"] == 3
    assert custody[-1]["action"] == "exported" and custody[-1]["subject_request"] == f"track:{A}"
    assert subject_rows(site)[0]["kind"] == "export"


def test_export_cli_blurs_the_clip_and_the_pack_verifies(
    site: Site, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pack = tmp_path / "subject.zip"
    code, out = run(
        capsys, "privacy", "subject", "export", "--event", "ea1", "--out", str(pack), "--data-dir", str(site.data)
    )
    if code != 0 and "cannot be loaded" in out:
        pytest.skip(f"the person detector is not in the model cache: {out}")
    assert code == 0, out
    assert run(capsys, "incidents", "verify", str(pack))[0] == 0
    original = Path(site.events["ea1"].evidence["clip"]).read_bytes()
    with zipfile.ZipFile(pack) as z:
        assert z.read("evidence/ea1.protected.mp4") != original
        assert not any(n.endswith("ea1.mp4") for n in z.namelist())


def test_erase_removes_exactly_that_person(site: Site, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run(
        capsys,
        "privacy",
        "subject",
        "erase",
        "--track",
        A,
        "--reason",
        "request 2026-17",
        "--yes",
        "--data-dir",
        str(site.data),
    )
    assert code == 0, out
    assert "2 event(s)" in out and "1 shared event(s) kept" in out
    for name in ("ea1", "ea2"):
        assert not any(Path(p).exists() for p in site.events[name].evidence.values())
    assert not protected_path(Path(site.events["ea1"].evidence["clip"])).exists()
    for name in ("es", "eb1", "ec1"):
        assert all(Path(p).exists() for p in site.events[name].evidence.values())
    with open_database(site.db_url()) as db:
        events, alerts = EventRepository(db), AlertRepository(db)
        assert events.get("ea1") is None and events.get("ea2") is None
        assert all(events.get(n) is not None for n in ("es", "eb1", "ec1"))
        assert sorted(a.event_id for a in alerts.list(limit=100)) == ["eb1", "ec1", "es"]
        assert IncidentRepository(db).get("inc-one-1").event_ids == ("ec1",)  # type: ignore[union-attr]
    door1 = (site.data / "tracks/s1/door/2026-03-01.csv").read_text().splitlines()
    assert [r.split(",")[2] for r in door1[1:]] == ["7", "9", "7"]
    door2 = (site.data / "tracks/s1/door/2026-03-02.csv").read_text().splitlines()
    assert [r.split(",")[2] for r in door2[1:]] == ["9"]
    tills = (site.data / "tracks/s1/tills/2026-03-01.csv").read_text().splitlines()
    assert [r.split(",")[2] for r in tills[1:]] == ["4", "4"]  # C has the same number on another camera
    log1 = [json.loads(x)["id"] for x in (site.data / "events/2026-03-01.jsonl").read_text().splitlines()]
    assert log1 == ["es", "eb1", "ec1"]
    [detail] = subject_rows(site)
    assert detail["kind"] == "erase" and detail["reason"] == "request 2026-17"
    assert detail["erased"]["track_rows"] == 5 and detail["erased"]["rows"]["events"] == 2


def test_legal_hold_refuses_the_erasure(site: Site, capsys: pytest.CaptureFixture[str]) -> None:
    with open_database(site.db_url()) as db:
        IncidentRepository(db).change("inc-one-1", lambda i: i.hold("ana", D2, True, "police ref 42"))
    code, out = run(
        capsys,
        "privacy",
        "subject",
        "erase",
        "--track",
        A,
        "--reason",
        "request",
        "--yes",
        "--data-dir",
        str(site.data),
    )
    assert code == 2 and "inc-one-1" in out and "legal hold" in out and "nothing was erased" in out
    assert all(Path(p).exists() for p in site.events["ea1"].evidence.values())
    assert (site.data / "tracks/s1/door/2026-03-01.csv").read_text().count(",4,") == 3
    [detail] = subject_rows(site)
    assert detail["kind"] == "erase" and detail["refused"] == "legal_hold"


def test_erase_asks_first_and_a_no_changes_nothing(
    site: Site, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("n\n"))
    code, out = run(
        capsys, "privacy", "subject", "erase", "--event", "eb1", "--reason", "request", "--data-dir", str(site.data)
    )
    assert code != 0 and "event eb1" in out and "Erase 1 event(s)" in out
    assert all(Path(p).exists() for p in site.events["eb1"].evidence.values())
    assert subject_rows(site) == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--track", "17"], "is not a track id"),
        (["--track", "s1/door/99"], "no stored event names the track"),
        (["--event", "nope"], "no stored event has the id"),
        (["--incident", "zzzzzzzz"], "no incident"),
        ([], "give one of --incident"),
        (["--event", "ea1", "--track", A], "give one of --incident"),
    ],
)
def test_bad_references_are_named(
    site: Site, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    code, out = run(capsys, "privacy", "subject", "find", *args, "--data-dir", str(site.data))
    assert code == 2 and message in out, out
    assert subject_rows(site) == []


def test_an_erasure_at_a_store_synced_with_a_hub_removes_the_hubs_copies(
    site: Site, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The store's outbox gets one ``erasure`` message after everything waiting; the hub, applying it, removes its
    copies of that person's events (rows, alerts, thumbnails, fetched clips) and nothing of anyone else's, and
    audits it. Another store cannot erase this store's events."""
    import base64
    import shutil
    import uuid

    from sqlalchemy import select

    from storewatch.store.sync_models import HubThumbnailRow
    from storewatch.sync.envelope import Envelope, Kind
    from storewatch.sync.feed import event_payload
    from storewatch.sync.ingest import Ingester, Outcome
    from storewatch.sync.outbox import Outbox, Outgoing

    hub_dir = tmp_path / "hub"
    hub_media = hub_dir / "media"
    with open_database(f"sqlite:///{tmp_path / 'hub.db'}") as hub:
        upgrade(hub)
        ingester = Ingester(hub, hub_media)
        jpeg = base64.b64encode(b"\xff\xd8 tiny").decode()
        for i, name in enumerate(("ea1", "ea2", "es")):
            e = site.events[name]
            env = Envelope(id=uuid.uuid4().hex, kind=Kind.EVENT, store="s1", camera=str(e.camera), seq=2 * i + 1,
                           created_utc=D2, sent_utc=D2, payload=event_payload(e))  # fmt: skip
            assert ingester.apply(env) == Outcome.APPLIED
            thumb = {"event_id": name, "width": 4, "height": 3, "jpeg": jpeg}
            env = env.model_copy(update={"id": uuid.uuid4().hex, "kind": Kind.THUMBNAIL, "seq": 2 * i + 2,
                                         "payload": thumb})  # fmt: skip
            assert ingester.apply(env) == Outcome.APPLIED
        fetched = Path(site.events["ea1"].evidence["clip"]).relative_to(site.data / "media")
        (hub_media / fetched).parent.mkdir(parents=True)
        shutil.copy(site.events["ea1"].evidence["clip"], hub_media / fetched)

        with open_database(site.db_url()) as edge:  # the store has synced: it has numbered messages for the hub
            Outbox(edge).add([Outgoing(Kind.EVENT, "s1", "s1/door", {"id": "earlier"})])
        code, out = run(capsys, "privacy", "subject", "erase", "--track", A, "--reason", "request 2026-18", "--yes",
                        "--data-dir", str(site.data))  # fmt: skip
        assert code == 0 and "an erasure is queued" in out, out
        with open_database(site.db_url()) as edge:
            waiting = Outbox(edge).pending(10)
        assert [m.kind for m in waiting] == [Kind.EVENT, Kind.ERASURE]  # after what was already waiting
        erasure = waiting[-1]
        assert sorted(erasure.payload["event_ids"]) == ["ea1", "ea2"] and erasure.camera is None

        forged = erasure.model_copy(update={"id": uuid.uuid4().hex, "store": "s2"})
        assert ingester.apply(forged) == Outcome.APPLIED
        assert EventRepository(hub).get("ea1") is not None  # another store's erasure touches nothing of s1

        assert ingester.apply(erasure) == Outcome.APPLIED
        events = EventRepository(hub)
        assert events.get("ea1") is None and events.get("ea2") is None and events.get("es") is not None
        with hub.session() as s:
            assert set(s.scalars(select(HubThumbnailRow.event_id))) == {"es"}
        assert not (hub_media / fetched).exists()
        rows = [e.details for e in AuditLog(hub).list(AuditFilter(action=AuditAction.SUBJECT_REQUEST.value))]
        mine = [r for r in rows if r.get("from_store") == "s1"]
        assert len(mine) == 1 and mine[0]["events"] == 2 and mine[0]["files"] == 1
        assert mine[0]["reference"] == f"track:{A}"
