"""Retention on both backends: old media, tracks, event logs and rows go; what a held or open incident needs stays;
a dry run changes nothing; each run leaves one audit row with its counts and the audit chain still verifies."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from storewatch.audit.chain import ActorKind, AuditAction, AuditRecord
from storewatch.core.events import Event
from storewatch.core.ids import CameraId
from storewatch.incidents.workflow import Incident, IncidentState
from storewatch.retention.config import DataKind, RetentionConfig
from storewatch.retention.service import RetentionService
from storewatch.store.audit import AuditFilter, AuditLog
from storewatch.store.db import Database
from storewatch.store.events import EventRepository
from storewatch.store.incidents import IncidentRepository
from storewatch.store.models import AlertRow, DeliveryRow, EventRow

NOW = datetime(2026, 12, 1, 4, 0, tzinfo=UTC)
OLD = NOW - timedelta(days=100)
RECENT = NOW - timedelta(days=2)
CONFIG = RetentionConfig(clips_days=30, snapshots_days=30, path_pictures_days=30, tracks_days=30, events_days=60,
                         alerts_days=60, audit_days=60)  # fmt: skip


def _event(event_id: str, at: datetime, camera: str = "s1/door") -> Event:
    return Event(id=event_id, type="behaviour.loitering", camera=CameraId(camera), start_utc=at, explanation=event_id)


def _media(root: Path, event: Event) -> list[Path]:
    folder = root / str(event.camera) / f"{event.start_utc:%Y-%m-%d}"
    folder.mkdir(parents=True, exist_ok=True)
    files = [folder / f"{event.id}.jpg", folder / f"{event.id}.mp4", folder / f"{event.id}-path.jpg"]
    for i, path in enumerate(files):
        path.write_bytes(b"x" * (100 * (i + 1)))
    return files


def _incident(repo: IncidentRepository, incident_id: str, event: Event, *, held: bool, closed: bool) -> None:
    case = Incident.open(incident_id, "s1", event.start_utc, incident_id).with_event(event.id, event.start_utc, "e")
    if held:
        case = case.hold("ana", event.start_utc, True, "police asked")
    if closed:
        case = case.move(IncidentState.RESOLVED, "ana", event.start_utc + timedelta(hours=1))
    repo.save(case)


@pytest.fixture
def site(database: Database, tmp_path: Path) -> dict[str, object]:
    """Old events: one of a held closed incident, one of an open incident, one of a closed incident, one alone;
    a recent event; their media, tracks, event logs, alerts, deliveries and old audit rows."""
    events = {
        "held": _event("eheld", OLD),
        "open": _event("eopen", OLD + timedelta(minutes=1)),
        "closed": _event("eclosed", OLD + timedelta(minutes=2)),
        "alone": _event("ealone", OLD + timedelta(minutes=3), camera="s1/till"),
        "recent": _event("erecent", RECENT),
    }
    EventRepository(database).upsert_many(events.values())
    incidents = IncidentRepository(database)
    _incident(incidents, "iheld", events["held"], held=True, closed=True)
    _incident(incidents, "iopen", events["open"], held=False, closed=False)
    _incident(incidents, "iclosed", events["closed"], held=False, closed=True)
    media = {name: _media(tmp_path / "media", e) for name, e in events.items()}
    tracks = {}
    for camera, day in (("s1/door", OLD), ("s1/till", OLD), ("s1/door", RECENT)):
        path = tmp_path / "tracks" / camera / f"{day:%Y-%m-%d}.csv"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("frame,t_s\n")
        tracks[(camera, day.date())] = path
    logs = {day: tmp_path / "events" / f"{day:%Y-%m-%d}.jsonl" for day in (OLD, OLD - timedelta(days=1), RECENT)}
    for path in logs.values():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("{}\n")
    with database.session() as s:
        for name in ("held", "alone", "recent"):
            e = events[name]
            s.add(AlertRow(id=f"a{name}", event_id=e.id, route="r", store="s1", camera=str(e.camera),
                           event_type=e.type, severity=e.severity, raised_utc=e.start_utc))  # fmt: skip
            s.add(DeliveryRow(id=f"d{name}", channel="c", event_id=e.id, message={}, created_utc=e.start_utc))
    audit = AuditLog(database)
    for i in range(5):
        audit.append(AuditRecord(OLD + timedelta(hours=i), "ana", ActorKind.USER, AuditAction.VIEW, "s1", f"x:{i}"))
    audit.append(AuditRecord(RECENT, "ana", ActorKind.USER, AuditAction.VIEW, "s1", "x:recent"))
    return {"events": events, "media": media, "tracks": tracks, "logs": logs, "root": tmp_path}


def _service(database: Database, root: Path) -> RetentionService:
    return RetentionService(database, CONFIG, root, root / "media")


def _counts(database: Database) -> tuple[int, int, int, int]:
    with database.session() as s:
        return tuple(int(s.scalar(select(func.count()).select_from(t)) or 0)  # type: ignore[return-value]
                     for t in (EventRow, AlertRow, DeliveryRow)) + (AuditLog(database).count(),)  # fmt: skip


def _files(root: Path) -> set[Path]:
    return {p for p in root.rglob("*") if p.is_file()}


def test_a_dry_run_counts_and_changes_nothing(database: Database, site: dict[str, object]) -> None:
    root = site["root"]
    assert isinstance(root, Path)
    before_files, before_rows = _files(root), _counts(database)
    report = _service(database, root).run(NOW, dry_run=True)
    assert _files(root) == before_files and _counts(database) == before_rows
    kinds = report.kinds
    assert (kinds[DataKind.SNAPSHOTS].items, kinds[DataKind.CLIPS].items, kinds[DataKind.PATH_PICTURES].items) == (
        2, 2, 2)  # fmt: skip
    assert kinds[DataKind.SNAPSHOTS].kept == 2 and kinds[DataKind.CLIPS].bytes == 2 * 200
    assert kinds[DataKind.EVENTS].items == 2 + 1  # rows of closed and alone; the old log day no kept event has
    assert kinds[DataKind.AUDIT].items == 5 and report.audit_seq is None


def test_a_run_purges_old_data_and_keeps_what_held_and_open_incidents_need(
    database: Database, site: dict[str, object]
) -> None:
    root, media, tracks, logs = site["root"], site["media"], site["tracks"], site["logs"]
    assert isinstance(root, Path) and isinstance(media, dict) and isinstance(tracks, dict) and isinstance(logs, dict)
    report = _service(database, root).run(NOW)
    for name in ("held", "open", "recent"):
        assert all(p.exists() for p in media[name]), name
    for name in ("closed", "alone"):
        assert not any(p.exists() for p in media[name]), name
    assert not (root / "media" / "s1" / "till" / f"{OLD:%Y-%m-%d}").exists()  # emptied day folders are tidied away
    assert tracks[("s1/door", OLD.date())].exists()  # the held incident's camera-day
    assert not tracks[("s1/till", OLD.date())].exists() and tracks[("s1/door", RECENT.date())].exists()
    assert logs[OLD].exists() and logs[RECENT].exists() and not logs[OLD - timedelta(days=1)].exists()
    events = EventRepository(database)
    assert {e for e in ("eheld", "eopen", "eclosed", "ealone", "erecent") if events.get(e)} == {
        "eheld", "eopen", "erecent"}  # fmt: skip
    closed = IncidentRepository(database).get("iclosed")
    assert closed is not None and closed.event_ids == ()  # the case record stays, its aged-out events went
    with database.session() as s:
        assert set(s.scalars(select(AlertRow.id))) == {"aheld", "arecent"}
        assert set(s.scalars(select(DeliveryRow.id))) == {"dheld", "drecent"}
    assert report.kinds[DataKind.EVENTS].items == 2 + 1 and report.kinds[DataKind.ALERTS].items == 2
    assert report.kinds[DataKind.AUDIT].items == 5 and report.errors == 0
    audit = AuditLog(database)
    purges = audit.list(AuditFilter(action=AuditAction.RETENTION_PURGE.value))
    assert len(purges) == 1 and purges[0].seq == report.audit_seq
    detail = purges[0].details
    assert detail["kinds"]["snapshots"]["items"] == 2 and detail["audit"]["rows"] == 5
    assert audit.verify().ok and audit.count() == 2
    again = _service(database, root).run(NOW)  # nothing left to remove; a second audit row
    assert sum(r.items for r in again.kinds.values()) == 0 and audit.verify().ok


def test_a_released_hold_lets_evidence_go(database: Database, site: dict[str, object]) -> None:
    root, media = site["root"], site["media"]
    assert isinstance(root, Path) and isinstance(media, dict)
    IncidentRepository(database).change("iheld", lambda i: i.hold("ana", NOW, False))
    _service(database, root).run(NOW)
    assert not any(p.exists() for p in media["held"])


def test_a_hub_purges_its_thumbnails_and_fetched_clips_by_the_same_rules(
    database: Database, site: dict[str, object]
) -> None:
    """A hub's copies: the stores' thumbnails (snapshots' days) and the clips it fetched into its ``media/`` folder
    (the same keys as at the store) go when they expire, except those of held or open incidents."""
    from storewatch.store.sync_models import HubThumbnailRow

    root, media = site["root"], site["media"]
    assert isinstance(root, Path) and isinstance(media, dict)
    events = site["events"]
    assert isinstance(events, dict)
    with database.session() as s:
        for e in events.values():
            s.add(HubThumbnailRow(event_id=e.id, store="s1", camera=str(e.camera), width=32, height=24, jpeg=b"j",
                                  received_utc=e.start_utc))  # fmt: skip
    dry = _service(database, root).run(NOW, dry_run=True)
    assert dry.kinds[DataKind.SNAPSHOTS].items == 2 + 2  # files and thumbnail rows of "closed" and "alone"
    _service(database, root).run(NOW)
    with database.session() as s:
        left = set(s.scalars(select(HubThumbnailRow.event_id)))
    assert left == {"eheld", "eopen", "erecent"}
    assert not any(p.exists() for p in media["alone"]) and all(p.exists() for p in media["recent"])


def test_the_hub_reads_its_retention_file_and_names_what_is_wrong(tmp_path: Path) -> None:
    from storewatch.cli.hub_cmd import _read_retention, _time_zone
    from storewatch.errors import ConfigError

    assert _read_retention(None) == RetentionConfig()
    good = tmp_path / "keep.yaml"
    good.write_text("retention:\n  snapshots_days: 7\n  run_at_hour: 4\n")
    assert _read_retention(good).snapshots_days == 7
    bare = tmp_path / "bare.yaml"
    bare.write_text("clips_days: 3\nsnapshots_days: 3\n")
    assert _read_retention(bare).clips_days == 3
    bad = tmp_path / "bad.yaml"
    bad.write_text("snapshot_days: 7\n")
    with pytest.raises(ConfigError, match=r"bad\.yaml.*unknown retention kind 'snapshot_days'"):
        _read_retention(bad)
    with pytest.raises(ConfigError, match="unknown time zone 'Mars/Base'"):
        _time_zone("Mars/Base")
