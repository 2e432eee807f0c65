"""Retention purges the bucket's copies of evidence too (SeaweedFS on 127.0.0.1), by the same rules as the local
files: expired objects go, an open incident's stay, other objects are left alone."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from storewatch.core.events import Event
from storewatch.core.ids import CameraId
from storewatch.incidents.workflow import Incident
from storewatch.media.config import S3Media, open_media_store
from storewatch.retention.config import DataKind, RetentionConfig
from storewatch.retention.service import RetentionService
from storewatch.store import EventRepository, default_url, open_database, upgrade
from storewatch.store.incidents import IncidentRepository
from tests.media.conftest import SeaweedS3

NOW = datetime(2026, 12, 1, 4, tzinfo=UTC)
OLD = NOW - timedelta(days=60)


def test_expired_bucket_objects_are_deleted_and_kept_ones_stay(seaweed: SeaweedS3, tmp_path: Path) -> None:
    media = S3Media.model_validate(
        {"kind": "s3", "endpoint_url": seaweed.endpoint_url, "bucket": f"ret-{uuid.uuid4().hex[:8]}",
         "access_key": seaweed.access_key, "secret_key": seaweed.secret_key, "create_bucket": True}
    )  # fmt: skip
    bucket = open_media_store(media)
    day, recent = f"{OLD:%Y-%m-%d}", f"{NOW - timedelta(days=1):%Y-%m-%d}"
    keys = {
        "old": f"s1/c1/{day}/eold.jpg",
        "old_clip": f"s1/c1/{day}/eold.mp4",
        "kept": f"s1/c1/{day}/ekept.jpg",
        "recent": f"s1/c1/{recent}/enew.jpg",
        "other": "notes/readme.txt",
    }
    for key in keys.values():
        bucket.put(key, b"x" * 50)
    with open_database(default_url(tmp_path)) as db:
        upgrade(db)
        kept = Event(id="ekept", type="loitering", camera=CameraId("s1/c1"), start_utc=OLD, explanation="kept")
        EventRepository(db).upsert(kept)
        IncidentRepository(db).save(Incident.open("i1", "s1", OLD, "open case").with_event("ekept", OLD, "e"))
        service = RetentionService(db, RetentionConfig(), tmp_path, tmp_path / "media", archive=bucket)
        dry = service.run(NOW, dry_run=True)
        assert dry.kinds[DataKind.SNAPSHOTS].items == 1 and all(bucket.exists(k) for k in keys.values())
        report = service.run(NOW)
    assert (report.kinds[DataKind.SNAPSHOTS].items, report.kinds[DataKind.CLIPS].items) == (1, 1)
    assert report.kinds[DataKind.SNAPSHOTS].bytes == 50 and report.kinds[DataKind.SNAPSHOTS].kept == 1
    assert {name for name, key in keys.items() if bucket.exists(key)} == {"kept", "recent", "other"}
