"""Where evidence media (snapshots, clips) is kept: the ``MediaStore`` protocol, its keys and its errors.

A key is a relative POSIX path such as ``store-1/entrance/2026-03-01/<event id>.jpg``. Keys are checked strictly
before any backend sees them, so path traversal is impossible by construction: every segment is 1-255 ASCII
letters, digits, ``.``, ``_`` or ``-`` starting with a letter or digit (so no ``.``/``..``, no hidden or temporary
names), segments are joined by single ``/`` (no leading, trailing or doubled slash, no backslash) and the whole key
is at most 512 characters. Anything else is a ``ValueError`` naming the key.

>>> validate_key("store-1/entrance/2026-03-01/ab12.jpg")
'store-1/entrance/2026-03-01/ab12.jpg'
>>> validate_key("a//b")
Traceback (most recent call last):
...
ValueError: invalid media key 'a//b': empty segment (doubled or trailing '/')
"""

from __future__ import annotations

import mimetypes
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import BinaryIO, Protocol, runtime_checkable

from storewatch.errors import StorewatchError

MAX_KEY_CHARS = 512
_SEGMENT = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,254}", re.ASCII)

MediaData = bytes | Path | BinaryIO
"""What ``put`` takes: the bytes themselves, a file to stream from, or an open binary stream read to its end."""


def validate_key(key: str) -> str:
    """Return ``key`` unchanged when it is a safe media key, else raise ``ValueError`` naming it (see module doc)."""
    if not isinstance(key, str):
        raise ValueError(f"invalid media key {key!r}: must be a string")
    if not key:
        raise ValueError("invalid media key '': must not be empty")
    if len(key) > MAX_KEY_CHARS:
        raise ValueError(f"invalid media key {key[:40]!r}...: longer than {MAX_KEY_CHARS} characters")
    if "\\" in key:
        raise ValueError(f"invalid media key {key!r}: backslashes are not allowed (use '/')")
    if key.startswith("/"):
        raise ValueError(f"invalid media key {key!r}: must be relative (no leading '/')")
    for segment in key.split("/"):
        if not segment:
            raise ValueError(f"invalid media key {key!r}: empty segment (doubled or trailing '/')")
        if not _SEGMENT.fullmatch(segment):
            raise ValueError(
                f"invalid media key {key!r}: segment {segment!r} must be ASCII letters, digits, '.', '_' or '-' "
                "starting with a letter or digit"
            )
    return key


def validate_prefix(prefix: str) -> str:
    """A listing prefix is ``""`` (everything) or a valid key naming a "directory"; a trailing ``/`` is dropped."""
    return "" if prefix == "" else validate_key(prefix.removesuffix("/"))


def content_type_for(key: str) -> str:
    """The MIME type a key's suffix implies (``application/octet-stream`` when unknown).

    >>> content_type_for("a/b.jpg"), content_type_for("a/b.mp4"), content_type_for("a/b")
    ('image/jpeg', 'video/mp4', 'application/octet-stream')
    """
    guessed, _ = mimetypes.guess_type(key, strict=False)
    return guessed or "application/octet-stream"


def evidence_key(camera: str, start_utc: datetime, event_id: str, suffix: str) -> str:
    """The key of an event's evidence file: ``<store>/<camera>/<YYYY-MM-DD>/<event id><suffix>``, the layout
    ``runtime.evidence`` uses on disk, so a file there and an object in a bucket have the same name.

    >>> from datetime import UTC
    >>> evidence_key("store-1/entrance", datetime(2026, 3, 1, 9, tzinfo=UTC), "ab12", ".jpg")
    'store-1/entrance/2026-03-01/ab12.jpg'
    """
    return validate_key(f"{camera}/{start_utc.strftime('%Y-%m-%d')}/{event_id}{suffix}")


@dataclass(frozen=True, slots=True)
class MediaRef:
    """What ``put`` stored: the key, its size, its content type and a backend URI (``file://...``,
    ``s3://bucket/key``) for logs; links for people are made by ``media.signing``, not from ``uri``."""

    key: str
    size_bytes: int
    content_type: str
    uri: str


@runtime_checkable
class MediaStore(Protocol):
    """A flat namespace of media objects addressed by validated keys.

    ``put`` replaces atomically (readers see the old or the new object, never part of one); ``open`` returns a
    binary stream the caller closes (use ``with``); ``list(prefix)`` yields the keys under ``prefix/`` (all keys for
    ``""``) in sorted order; ``delete`` of a missing key is not an error. Missing keys raise ``MediaNotFoundError``.
    """

    def put(self, key: str, data: MediaData, content_type: str | None = None) -> MediaRef: ...

    def open(self, key: str) -> BinaryIO: ...

    def read_bytes(self, key: str) -> bytes: ...

    def exists(self, key: str) -> bool: ...

    def delete(self, key: str) -> None: ...

    def size(self, key: str) -> int: ...

    def list(self, prefix: str = "") -> Iterator[str]: ...


class MediaError(StorewatchError):
    """Media could not be stored or read."""


class MediaNotFoundError(MediaError):
    """No object under the key."""


class MediaConnectionError(MediaError):
    """The storage endpoint cannot be reached."""


class MediaAuthError(MediaError):
    """The storage endpoint rejected the credentials (or they lack the permission)."""


class MediaBucketError(MediaError):
    """The bucket does not exist (and is not to be created) or cannot be created."""
