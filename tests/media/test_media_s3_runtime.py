"""``runtime.media: {kind: s3}``: a running site uploads its evidence to the bucket (SeaweedFS on 127.0.0.1) and
serves the alert links from there, so a link works even once the local working copy is gone."""

from __future__ import annotations

import uuid
from pathlib import Path
from urllib.request import ProxyHandler, build_opener

import cv2
import numpy as np

from storewatch.bench.alerts import blinking_camera
from storewatch.config.schema import SiteConfig
from storewatch.media.config import S3Media, open_media_store
from storewatch.media.signing import signed_url
from storewatch.media.store import evidence_key
from storewatch.runtime.runner import SiteRunner
from storewatch.store import EventRepository
from tests.helpers import CountingDetector, wait_for
from tests.media.conftest import SeaweedS3


def test_evidence_goes_to_the_bucket_and_links_are_served_from_it(seaweed: SeaweedS3, tmp_path: Path) -> None:
    bucket = f"evidence-{uuid.uuid4().hex[:8]}"
    media = {"kind": "s3", "endpoint_url": seaweed.endpoint_url, "bucket": bucket, "access_key": seaweed.access_key,
             "secret_key": seaweed.secret_key, "create_bucket": True}  # fmt: skip
    camera = blinking_camera(tmp_path / "blink.mp4", lit_s=3.0, dark_s=3.0)
    site = SiteConfig.model_validate({
        "site": {"id": "t"},
        "stores": [{"id": "s1", "cameras": [{"id": "back", "source": str(camera),
                                             "tampering": {"persist_s": 1.0, "check_interval_s": 0.25}}]}],
        "runtime": {"data_dir": str(tmp_path / "data"), "status_port": 0, "clip_before_s": 2, "clip_after_s": 1,
                    "media": media},
    })  # fmt: skip
    runner = SiteRunner(site, CountingDetector())
    runner.start()
    try:
        assert runner.database is not None
        events = EventRepository(runner.database)

        def with_clip() -> bool:
            return any("clip" in e.evidence for e in events.list(limit=50))

        wait_for(with_clip, 30)
        event = next(e for e in events.list(limit=50) if "clip" in e.evidence)
        snapshot = Path(event.evidence["snapshot"])
        key = evidence_key(str(event.camera), event.start_utc, event.id, ".jpg")
        bucket_store = open_media_store(S3Media.model_validate(media))
        wait_for(lambda: bucket_store.exists(key), 10)
        clip_key = evidence_key(str(event.camera), event.start_utc, event.id, Path(event.evidence["clip"]).suffix)
        assert (
            bucket_store.exists(clip_key) and bucket_store.size(clip_key) == Path(event.evidence["clip"]).stat().st_size
        )
        snapshot.unlink()  # the local working copy is gone (e.g. a small edge disk): the link still works
        link = signed_url(f"{runner.status.url}/media", key, 60, runner.link_secret)
        body = build_opener(ProxyHandler({})).open(link, timeout=5).read()
    finally:
        runner.stop()
    image = cv2.imdecode(np.frombuffer(body, np.uint8), cv2.IMREAD_COLOR)
    assert image is not None and image.shape == (240, 320, 3)
    assert runner.evidence.archive_failures == 0 and runner.evidence.archived >= 2
