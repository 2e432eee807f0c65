"""The media configuration section: choosing a backend by ``kind``, strictness, and never echoing the secret."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, ConfigDict, TypeAdapter, ValidationError

from storewatch.media.config import LocalMedia, MediaConfig, S3Media, open_media_store
from storewatch.media.local import LocalMediaStore

SECRET = "TOP-SECRET-VALUE-42"
S3 = {"kind": "s3", "endpoint_url": "http://127.0.0.1:8333", "bucket": "evidence", "access_key": "k"}


class Site(BaseModel):
    model_config = ConfigDict(extra="forbid")
    media: MediaConfig = LocalMedia()


def _parse(data: dict[str, Any]) -> LocalMedia | S3Media:
    return TypeAdapter(MediaConfig).validate_python(data)


def test_local_is_the_default_and_lives_under_the_data_dir(tmp_path: Path) -> None:
    media = Site().media
    assert isinstance(media, LocalMedia)
    store = open_media_store(media, data_dir=tmp_path)
    assert isinstance(store, LocalMediaStore)
    assert store.root == (tmp_path / "media").resolve()
    absolute = open_media_store(LocalMedia(root=tmp_path / "elsewhere"), data_dir=tmp_path / "ignored")
    assert isinstance(absolute, LocalMediaStore) and absolute.root == (tmp_path / "elsewhere").resolve()


def test_s3_section_parses_with_defaults() -> None:
    media = _parse({**S3, "secret_key": SECRET})
    assert isinstance(media, S3Media)
    defaults = (media.region, media.path_style, media.create_bucket, media.multipart_chunk_mb)
    assert defaults == ("us-east-1", True, False, 8)
    assert SECRET not in repr(media) and SECRET not in str(media.settings())
    assert media.settings().secret_key == SECRET
    assert media.settings().multipart_chunk_bytes == 8 * 1024 * 1024


@pytest.mark.parametrize(
    ("change", "where"),
    [
        ({"bucket": "Evidence"}, "bucket"),
        ({"bucket": "ab"}, "bucket"),
        ({"bucket": "a..b"}, "bucket"),
        ({"endpoint_url": "ftp://127.0.0.1"}, "endpoint_url"),
        ({"endpoint_url": "http://user:pw@127.0.0.1:8333"}, "endpoint_url"),
        ({"endpoint_url": "http://127.0.0.1:8333/evidence"}, "endpoint_url"),
        ({"access_key": ""}, "access_key"),
        ({"secret_key": ""}, "secret_key"),
        ({"multipart_chunk_mb": 4}, "multipart_chunk_mb"),
        ({"max_attempts": 0}, "max_attempts"),
        ({"region": "US East"}, "region"),
        ({"secrt_key": "x"}, "secrt_key"),
        ({"kind": "s4"}, "kind"),
        ({"kind": None}, "kind"),
    ],
)
def test_invalid_sections_name_the_field_and_never_the_secret(change: dict[str, Any], where: str) -> None:
    data = {**S3, "secret_key": SECRET, **change}
    if change.get("kind", "") is None:
        del data["kind"]
    with pytest.raises(ValidationError) as info:
        Site(media=data)
    text = str(info.value)
    assert SECRET not in text
    assert where in text or "discriminator 'kind'" in text


def test_a_secret_in_a_local_section_is_refused_without_echoing_it() -> None:
    with pytest.raises(ValidationError) as info:
        _parse({"kind": "local", "secret_key": SECRET})
    assert "secret_key" in str(info.value) and SECRET not in str(info.value)


def test_s3_model_alone_hides_its_input() -> None:
    with pytest.raises(ValidationError) as info:
        S3Media.model_validate({**S3, "kind": "s3", "secret_key": SECRET, "bucket": "B"})
    assert SECRET not in str(info.value)


def test_local_extra_keys_are_refused() -> None:
    with pytest.raises(ValidationError, match="root_dir"):
        _parse({"kind": "local", "root_dir": "/x"})
