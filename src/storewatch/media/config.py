"""Which media store to use: ``kind: local`` (the default, a directory) or ``kind: s3`` (an S3-compatible bucket).

``secret_key`` is a ``SecretStr`` (shown as ``**********``), and validation errors do not print it: ``MediaConfig``
masks it in any input that is not ``kind: s3`` (a wrong or missing ``kind`` would otherwise echo the whole mapping),
and ``S3Media`` validated on its own hides its input (``hide_input_in_errors``). One gap: a ``secret_key`` that is
not a string (YAML ``secret_key: 12345``) is echoed by its type error; quote secrets.

>>> from pydantic import TypeAdapter
>>> TypeAdapter(MediaConfig).validate_python({"kind": "local", "root": "/srv/media"})
LocalMedia(kind='local', root=PosixPath('/srv/media'), fsync=True)
>>> s3 = TypeAdapter(MediaConfig).validate_python(
...     {"kind": "s3", "endpoint_url": "http://127.0.0.1:8333", "bucket": "evidence", "access_key": "k",
...      "secret_key": "s"})
>>> s3.secret_key
SecretStr('**********')
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, SecretStr

from storewatch.media.local import LocalMediaStore
from storewatch.media.s3 import S3MediaStore, S3Settings
from storewatch.media.store import MediaStore

_BUCKET = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]", re.ASCII)
_MB = 1024 * 1024


def _bucket_name(value: str) -> str:
    if not _BUCKET.fullmatch(value) or ".." in value:
        raise ValueError("must be an S3 bucket name: 3-63 lower-case letters, digits, '.' or '-', no '..'")
    return value


def _endpoint(value: str | None) -> str | None:
    if value is None:
        return None
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("must be an http:// or https:// URL with a host, e.g. http://127.0.0.1:8333")
    if parts.username is not None or parts.password is not None:
        raise ValueError("must not hold credentials (use access_key and secret_key)")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise ValueError("must be scheme://host[:port] only (the bucket is a separate setting)")
    return value.rstrip("/")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)


class LocalMedia(_Strict):
    """Media files in a directory on this machine."""

    kind: Literal["local"] = Field("local", description="Local filesystem storage.")
    root: Path = Field(
        Path("media"), description="Directory of the media files; a relative path is taken under the data directory."
    )
    fsync: bool = Field(
        True, description="Flush every file (and its directory) to disk before it counts as written (crash-safe)."
    )


class S3Media(_Strict):
    """Media objects in a bucket of an S3-compatible service (AWS S3, SeaweedFS, MinIO, ...)."""

    kind: Literal["s3"] = Field(description="S3-compatible object storage.")
    endpoint_url: Annotated[str | None, AfterValidator(_endpoint)] = Field(
        None, description="Service URL, e.g. http://127.0.0.1:8333 (None: AWS S3 in `region`)."
    )
    bucket: Annotated[str, AfterValidator(_bucket_name)] = Field(description="Bucket holding the media.")
    region: str = Field(
        "us-east-1", min_length=1, max_length=64, pattern=r"^[a-z0-9-]+$", description="Region (signing, creation)."
    )
    access_key: str = Field(min_length=1, max_length=256, description="Access key id (shown in error messages).")
    secret_key: SecretStr = Field(min_length=1, description="Secret access key (never shown or logged).")
    create_bucket: bool = Field(False, description="Create the bucket at start when it does not exist.")
    path_style: bool = Field(
        True, description="Address as endpoint/bucket/key (S3-compatible servers) instead of bucket.endpoint/key."
    )
    connect_timeout_s: float = Field(5.0, gt=0, le=120, description="Seconds to wait for a connection.")
    read_timeout_s: float = Field(60.0, gt=0, le=3600, description="Seconds to wait for a response.")
    max_attempts: int = Field(3, ge=1, le=10, description="Attempts per request, retries included.")
    multipart_chunk_mb: int = Field(
        8, ge=5, le=512, description="Uploads above this many MiB go in parts of this size (S3's minimum part: 5)."
    )

    def settings(self) -> S3Settings:
        return S3Settings(
            bucket=self.bucket,
            endpoint_url=self.endpoint_url,
            region=self.region,
            access_key=self.access_key,
            secret_key=self.secret_key.get_secret_value(),
            path_style=self.path_style,
            connect_timeout_s=self.connect_timeout_s,
            read_timeout_s=self.read_timeout_s,
            max_attempts=self.max_attempts,
            multipart_chunk_bytes=self.multipart_chunk_mb * _MB,
        )


def _mask_secret(value: object) -> object:
    """Only ``S3Media`` takes ``secret_key``; in any other input an error message would echo it, so mask it first."""
    if isinstance(value, dict) and value.get("kind") != "s3" and "secret_key" in value:
        return {**value, "secret_key": "**********"}
    return value


MediaConfig = Annotated[LocalMedia | S3Media, Field(discriminator="kind"), BeforeValidator(_mask_secret)]
"""The ``media`` section: ``LocalMedia`` or ``S3Media``, chosen by ``kind``."""


def open_media_store(config: LocalMedia | S3Media, *, data_dir: Path | None = None) -> MediaStore:
    """The store ``config`` describes, checked: a local root is created; an S3 bucket is checked (created when
    ``create_bucket``) so a wrong endpoint, credentials or bucket fail here with ``MediaConnectionError``,
    ``MediaAuthError`` or ``MediaBucketError`` rather than at the first alert."""
    if isinstance(config, LocalMedia):
        root = config.root if config.root.is_absolute() or data_dir is None else data_dir / config.root
        return LocalMediaStore(root, fsync=config.fsync)
    store = S3MediaStore(config.settings())
    store.ensure_bucket(create=config.create_bucket)
    return store
