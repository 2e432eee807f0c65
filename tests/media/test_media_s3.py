"""The S3 media store against a real SeaweedFS on 127.0.0.1 (see conftest): a 5 MB clip round trip, multipart
streaming, bucket creation, and clear errors for a wrong endpoint, wrong credentials and a missing bucket."""

from __future__ import annotations

import hashlib
import io
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from storewatch.media.config import S3Media, open_media_store
from storewatch.media.s3 import S3MediaStore
from storewatch.media.store import (
    MediaAuthError,
    MediaBucketError,
    MediaConnectionError,
    MediaNotFoundError,
    MediaStore,
)
from tests.media.conftest import SeaweedS3, free_ports

CLIP_KEY = "s1/entrance/2026-03-01/0123456789abcdef.mp4"


def _config(seaweed: SeaweedS3, **overrides: Any) -> S3Media:
    data: dict[str, Any] = {
        "kind": "s3",
        "endpoint_url": seaweed.endpoint_url,
        "bucket": f"t-{uuid.uuid4().hex[:12]}",
        "access_key": seaweed.access_key,
        "secret_key": seaweed.secret_key,
        "create_bucket": True,
        "max_attempts": 1,
        "multipart_chunk_mb": 5,
    }
    return S3Media.model_validate({**data, **overrides})


@pytest.fixture
def store(seaweed: SeaweedS3) -> S3MediaStore:
    opened = open_media_store(_config(seaweed))
    assert isinstance(opened, S3MediaStore) and isinstance(opened, MediaStore)
    return opened


def test_server_started_in_time(seaweed: SeaweedS3) -> None:
    print(f"SeaweedFS ready in {seaweed.start_s:.2f} s")  # shown with -s; the fixture deadline is the real check
    assert seaweed.start_s < 30


def test_a_5mb_clip_round_trip(store: S3MediaStore, tmp_path: Path) -> None:
    data = os.urandom(5 * 1000 * 1000)
    clip = tmp_path / "clip.mp4"
    clip.write_bytes(data)
    ref = store.put(CLIP_KEY, clip)
    assert (ref.size_bytes, ref.content_type, ref.uri) == (len(data), "video/mp4", f"s3://{store.bucket}/{CLIP_KEY}")
    assert store.exists(CLIP_KEY) and store.size(CLIP_KEY) == len(data)
    digest = hashlib.sha256()
    with store.open(CLIP_KEY) as stream:  # streamed back in chunks
        while chunk := stream.read(256 * 1024):
            digest.update(chunk)
    assert digest.digest() == hashlib.sha256(data).digest()
    assert list(store.list("s1")) == [CLIP_KEY]
    store.delete(CLIP_KEY)
    assert not store.exists(CLIP_KEY)
    assert list(store.list()) == []
    with pytest.raises(MediaNotFoundError, match=CLIP_KEY):
        store.open(CLIP_KEY)
    with pytest.raises(MediaNotFoundError):
        store.size(CLIP_KEY)
    store.delete(CLIP_KEY)  # deleting what is not there is not an error


class _Generated(io.RawIOBase):
    """A non-seekable stream of ``total`` bytes made on the fly (like a clip being encoded), hashing what it gives."""

    def __init__(self, total: int) -> None:
        self.left, self.digest = total, hashlib.sha256()

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        n = min(len(buffer), self.left, 1 << 20)
        chunk = os.urandom(n)
        buffer[:n] = chunk
        self.digest.update(chunk)
        self.left -= n
        return n


def test_a_large_stream_goes_up_in_parts(store: S3MediaStore) -> None:
    source = _Generated(12 * 1024 * 1024)
    ref = store.put("s1/cam/2026-03-01/long.mp4", io.BufferedReader(source))
    assert ref.size_bytes == 12 * 1024 * 1024
    etag = store._client.head_object(Bucket=store.bucket, Key=ref.key)["ETag"]
    assert etag.strip('"').endswith("-3")  # 5 + 5 + 2 MiB parts: a multipart upload
    with store.open(ref.key) as stream:
        assert hashlib.sha256(stream.read()).digest() == source.digest.digest()


def test_bytes_keep_their_content_type_and_listing_is_scoped(store: S3MediaStore) -> None:
    keys = ["s1/b.jpg", "s1/a/z.mp4", "s1/a.jpg", "s10/x.jpg"]
    for key in keys:
        store.put(key, b"jpeg")
    assert store._client.head_object(Bucket=store.bucket, Key="s1/a.jpg")["ContentType"] == "image/jpeg"
    assert store.read_bytes("s1/b.jpg") == b"jpeg"
    assert list(store.list()) == sorted(keys)
    assert list(store.list("s1/")) == ["s1/a.jpg", "s1/a/z.mp4", "s1/b.jpg"]
    for foreign in ("s1/.hidden", "s1/bad name.jpg"):  # written behind our back, not valid keys
        store._client.put_object(Bucket=store.bucket, Key=foreign, Body=b"x")
    assert list(store.list("s1")) == ["s1/a.jpg", "s1/a/z.mp4", "s1/b.jpg"]


@pytest.mark.parametrize("key", ["../x", "/etc/passwd", "a//b", "a\\b"])
def test_bad_keys_never_reach_the_server(store: S3MediaStore, key: str) -> None:
    for call in (lambda: store.put(key, b"x"), lambda: store.open(key), lambda: store.delete(key)):
        with pytest.raises(ValueError, match="invalid media key"):
            call()


def test_missing_bucket_is_created_only_when_configured(seaweed: SeaweedS3) -> None:
    config = _config(seaweed, create_bucket=False)
    with pytest.raises(MediaBucketError) as info:
        open_media_store(config)
    assert config.bucket in str(info.value) and seaweed.endpoint_url in str(info.value)
    assert "create_bucket: true" in str(info.value)
    created = open_media_store(config.model_copy(update={"create_bucket": True}))
    created.put("a.jpg", b"x")
    assert open_media_store(config).exists("a.jpg")  # now there: opening without create works


def test_wrong_endpoint_is_a_connection_error_naming_it(seaweed: SeaweedS3) -> None:
    (closed_port,) = free_ports(1)
    config = _config(seaweed, endpoint_url=f"http://127.0.0.1:{closed_port}", connect_timeout_s=2)
    with pytest.raises(MediaConnectionError) as info:
        open_media_store(config)
    message = str(info.value)
    assert f"127.0.0.1:{closed_port}" in message and config.bucket in message
    assert seaweed.secret_key not in message


def test_wrong_credentials_are_an_auth_error_without_the_secret(seaweed: SeaweedS3) -> None:
    wrong = "not-the-secret-at-all-0123456789"
    with pytest.raises(MediaAuthError) as info:
        open_media_store(_config(seaweed, secret_key=wrong))
    message = str(info.value)
    assert seaweed.endpoint_url in message and "access key" in message
    assert wrong not in message and seaweed.secret_key not in message


@pytest.fixture
def deleted_bucket_store(store: S3MediaStore) -> Iterator[S3MediaStore]:
    store._client.delete_bucket(Bucket=store.bucket)
    yield store


def test_bucket_removed_while_running_is_a_bucket_error(deleted_bucket_store: S3MediaStore, tmp_path: Path) -> None:
    clip = tmp_path / "clip.mp4"
    clip.write_bytes(b"x" * 1000)
    for data in (b"x", clip, io.BytesIO(b"x")):
        with pytest.raises(MediaBucketError, match=deleted_bucket_store.bucket):
            deleted_bucket_store.put("a.jpg", data)
    with pytest.raises(MediaBucketError):
        list(deleted_bucket_store.list())


def test_wrong_credentials_on_every_write_path(seaweed: SeaweedS3, tmp_path: Path) -> None:
    config = _config(seaweed)
    open_media_store(config)  # creates the bucket with the right key
    wrong = S3MediaStore(config.model_copy(update={"secret_key": SecretStr("x" * 32)}).settings())
    clip = tmp_path / "clip.mp4"
    clip.write_bytes(b"x" * 1000)
    for data in (b"x", clip, io.BytesIO(b"x")):
        with pytest.raises(MediaAuthError, match=config.bucket):
            wrong.put("a.jpg", data)
