"""At a hub given the stores' bucket (``--media-bucket``), a clip the store archived is served from the bucket
(real SeaweedFS S3 on 127.0.0.1), and kept; one the bucket does not have, with no way to the store, is a 503
saying so."""

from __future__ import annotations

from pathlib import Path

import pytest

from storewatch.media.config import S3Media, open_media_store
from storewatch.web.hub_media import HubMedia, StoreUnavailableError
from storewatch.web.scope import StoreScope
from tests.media.conftest import SeaweedS3, seaweed  # noqa: F401  (the media tests' S3 server)


def test_a_clip_is_served_from_the_stores_bucket(seaweed: SeaweedS3, tmp_path: Path) -> None:  # noqa: F811
    config = S3Media(kind="s3", endpoint_url=seaweed.endpoint_url, bucket="hub-evidence", access_key=seaweed.access_key,
                     secret_key=seaweed.secret_key, create_bucket=True)  # type: ignore[arg-type]  # fmt: skip
    bucket = open_media_store(config)
    key = "s1/door/2026-03-02/e1.mp4"
    bucket.put(key, b"\x00\x00\x00\x18ftypmp42 a clip")
    media = HubMedia(tmp_path / "media", bucket=bucket)
    path, content_type = media.file(key, StoreScope.of(["*"]))
    assert (path.read_bytes(), content_type, media.from_bucket) == (b"\x00\x00\x00\x18ftypmp42 a clip", "video/mp4", 1)
    media.file(key, StoreScope.of(["*"]))
    assert media.from_bucket == 1  # kept at the hub: not read again
    with pytest.raises(StoreUnavailableError, match="no way to fetch it"):
        media.file("s1/door/2026-03-02/e2.mp4", StoreScope.of(["*"]))
