"""Media in an S3-compatible bucket (AWS S3, SeaweedFS, MinIO, ...) through boto3.

Objects are stored under their key as-is. Files and streams are uploaded with boto3's managed transfer
(``upload_file`` / ``upload_fileobj``), which switches to a multipart upload of ``multipart_chunk_bytes`` parts above
that size, so a long clip is never held in memory; ``open`` streams the object body back. S3-compatible servers
usually need path-style addressing (``http://host:port/bucket/key``), which is the default here.

Failures become the ``media.store`` error types with the endpoint and bucket named (never the secret key):
``MediaConnectionError`` (endpoint unreachable), ``MediaAuthError`` (credentials rejected), ``MediaBucketError``
(bucket missing), ``MediaNotFoundError`` (no such object), ``MediaError`` (anything else the server said).
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, NoReturn

import boto3
from boto3.exceptions import S3UploadFailedError
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, HTTPClientError
from botocore.exceptions import ConnectionError as BotoConnectionError

from storewatch.media.store import (
    MediaAuthError,
    MediaBucketError,
    MediaConnectionError,
    MediaData,
    MediaError,
    MediaNotFoundError,
    MediaRef,
    content_type_for,
    validate_key,
    validate_prefix,
)

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

_AUTH_CODES = frozenset(
    {"403", "AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch", "InvalidToken", "ExpiredToken"}
)
_MISSING_OBJECT = frozenset({"404", "NoSuchKey", "NotFound"})


@dataclass(frozen=True, slots=True)
class S3Settings:
    """How to reach the bucket; ``secret_key`` is a plain string here (the config holds it as ``SecretStr``)."""

    bucket: str
    endpoint_url: str | None
    region: str
    access_key: str
    secret_key: str
    path_style: bool = True
    connect_timeout_s: float = 5.0
    read_timeout_s: float = 60.0
    max_attempts: int = 3
    multipart_chunk_bytes: int = 8 * 1024 * 1024

    def __repr__(self) -> str:  # never show the secret
        return f"S3Settings(bucket={self.bucket!r}, endpoint_url={self.endpoint_url!r}, region={self.region!r})"


def make_client(settings: S3Settings) -> S3Client:
    """A boto3 S3 client for ``settings`` (its own session: no shared global state, no ambient credentials)."""
    session = boto3.session.Session(
        aws_access_key_id=settings.access_key,
        aws_secret_access_key=settings.secret_key,
        region_name=settings.region,
    )
    config = Config(
        s3={"addressing_style": "path" if settings.path_style else "auto"},
        connect_timeout=settings.connect_timeout_s,
        read_timeout=settings.read_timeout_s,
        retries={"max_attempts": settings.max_attempts, "mode": "standard"},
        signature_version="s3v4",
    )
    return session.client("s3", endpoint_url=settings.endpoint_url, config=config)


class S3MediaStore:
    """``MediaStore`` on one bucket. Build with ``S3MediaStore(settings)``; call ``ensure_bucket()`` once at start
    to fail early (``open_media_store`` does)."""

    def __init__(self, settings: S3Settings, client: S3Client | None = None) -> None:
        self.settings = settings
        self.bucket = settings.bucket
        self._client = client if client is not None else make_client(settings)
        self._transfer = TransferConfig(
            multipart_threshold=settings.multipart_chunk_bytes,
            multipart_chunksize=settings.multipart_chunk_bytes,
            max_concurrency=4,
        )

    def __repr__(self) -> str:
        return f"S3MediaStore(bucket={self.bucket!r}, endpoint={self._where()!r})"

    def ensure_bucket(self, create: bool = False) -> None:
        """Check the bucket is there and the credentials work; create it when missing and ``create`` is set."""
        try:
            self._client.head_bucket(Bucket=self.bucket)
            return
        except ClientError as exc:
            if _code(exc) not in {"404", "NoSuchBucket", "NotFound"}:
                self._raise(exc, "checking the bucket")
            if not create:
                raise MediaBucketError(
                    f"bucket {self.bucket!r} does not exist at {self._where()}",
                    fix="create the bucket, or set create_bucket: true in the media configuration",
                ) from None
        except BotoCoreError as exc:
            self._raise(exc, "checking the bucket")
        try:
            self._client.create_bucket(Bucket=self.bucket, **_location(self.settings.region))
        except (ClientError, BotoCoreError) as exc:
            if isinstance(exc, ClientError) and _code(exc) in {"BucketAlreadyOwnedByYou", "BucketAlreadyExists"}:
                return  # created meanwhile by another process
            self._raise(exc, "creating the bucket")

    def put(self, key: str, data: MediaData, content_type: str | None = None) -> MediaRef:
        validate_key(key)
        ctype = content_type or content_type_for(key)
        try:
            if isinstance(data, bytes):
                self._client.put_object(Bucket=self.bucket, Key=key, Body=data, ContentType=ctype)
                size = len(data)
            elif isinstance(data, Path):
                extra = {"ContentType": ctype}
                self._client.upload_file(str(data), self.bucket, key, ExtraArgs=extra, Config=self._transfer)
                size = self._head(key)
            else:
                extra = {"ContentType": ctype}
                self._client.upload_fileobj(data, self.bucket, key, ExtraArgs=extra, Config=self._transfer)
                size = self._head(key)
        except (ClientError, BotoCoreError) as exc:
            self._raise(exc, f"writing {key!r}")
        except S3UploadFailedError as exc:  # upload_file wraps the ClientError (as its context)
            inner = exc.__cause__ or exc.__context__
            self._raise(inner if isinstance(inner, ClientError | BotoCoreError) else exc, f"writing {key!r}")
        except OSError as exc:  # reading the source file or stream
            raise MediaError(f"cannot write media {key!r} to bucket {self.bucket!r}: {exc}") from exc
        return MediaRef(key, size, ctype, f"s3://{self.bucket}/{key}")

    def open(self, key: str) -> BinaryIO:
        validate_key(key)
        try:
            body = self._client.get_object(Bucket=self.bucket, Key=key)["Body"]
        except (ClientError, BotoCoreError) as exc:
            self._raise(exc, f"reading {key!r}", key=key)
        return _stream(body)

    def read_bytes(self, key: str) -> bytes:
        with self.open(key) as stream:
            return stream.read()

    def exists(self, key: str) -> bool:
        try:
            self.size(key)
        except MediaNotFoundError:
            return False
        return True

    def delete(self, key: str) -> None:
        validate_key(key)
        try:
            self._client.delete_object(Bucket=self.bucket, Key=key)
        except (ClientError, BotoCoreError) as exc:
            self._raise(exc, f"deleting {key!r}")

    def size(self, key: str) -> int:
        validate_key(key)
        try:
            return self._head(key)
        except (ClientError, BotoCoreError) as exc:
            self._raise(exc, f"reading the size of {key!r}", key=key)

    def list(self, prefix: str = "") -> Iterator[str]:
        """Keys under ``prefix/``, sorted; objects whose names are not valid keys are skipped. All pages are read
        and sorted before the first key is returned: S3 promises byte order, but not every compatible server keeps
        it (SeaweedFS lists directory by directory)."""
        prefix = validate_prefix(prefix)
        pages = self._client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=f"{prefix}/" if prefix else ""
        )
        try:
            keys = [item.get("Key", "") for page in pages for item in page.get("Contents", [])]
        except (ClientError, BotoCoreError) as exc:
            self._raise(exc, f"listing {prefix or 'the bucket'!r}")
        return iter(sorted(k for k in keys if _is_key(k)))

    def _head(self, key: str) -> int:
        return self._client.head_object(Bucket=self.bucket, Key=key)["ContentLength"]

    def _where(self) -> str:
        return self.settings.endpoint_url or f"AWS S3 ({self.settings.region})"

    def _raise(self, exc: Exception, doing: str, *, key: str | None = None) -> NoReturn:
        """Re-raise a boto error as the media error a person can act on (endpoint and bucket named)."""
        where = f"bucket {self.bucket!r} at {self._where()}"
        if isinstance(exc, BotoConnectionError | HTTPClientError):
            raise MediaConnectionError(
                f"cannot reach the S3 endpoint {self._where()} ({doing} in bucket {self.bucket!r}): {exc}",
                fix="check media.endpoint_url and that the storage server is running",
            ) from exc
        if not isinstance(exc, ClientError):
            raise MediaError(f"S3 failure {doing} in {where}: {exc}") from exc
        code = _code(exc)
        if key is not None and code in _MISSING_OBJECT:
            raise MediaNotFoundError(f"no media {key!r} in {where}") from None
        if code == "NoSuchBucket":
            raise MediaBucketError(
                f"bucket {self.bucket!r} does not exist at {self._where()} ({doing})",
                fix="create the bucket, or set create_bucket: true in the media configuration",
            ) from None
        if code in _AUTH_CODES:
            raise MediaAuthError(
                f"{self._where()} rejected the credentials (access key {self.settings.access_key!r}) {doing} in "
                f"bucket {self.bucket!r}: {code}",
                fix="check media.access_key / media.secret_key and the key's permissions on the bucket",
            ) from None
        raise MediaError(f"S3 error {code} {doing} in {where}: {exc}") from exc


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _location(region: str) -> dict[str, Any]:
    """us-east-1 is the one region that must not be named when creating a bucket."""
    return {} if region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": region}}


def _is_key(key: str) -> bool:
    try:
        validate_key(key)
    except ValueError:
        return False
    return True


class _BodyStream(io.RawIOBase):
    """botocore's ``StreamingBody`` as a raw stream, so ``open`` returns an ordinary buffered binary stream."""

    def __init__(self, body: Any) -> None:
        super().__init__()
        self._body = body

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        chunk: bytes = self._body.read(len(view))
        view[: len(chunk)] = chunk
        return len(chunk)

    def close(self) -> None:
        if not self.closed:
            self._body.close()
        super().close()


def _stream(body: Any) -> BinaryIO:
    return io.BufferedReader(_BodyStream(body), buffer_size=1 << 16)
