"""Media on the local filesystem: ``<root>/<key>``, written atomically.

A ``put`` writes ``.<name>.<random>.part`` beside the target (never a valid key, so listings skip it), optionally
fsyncs it, and renames it over the target, so a reader or a crash sees the old object or the new one, never half
of one; with ``fsync`` the directory is synced too, so the rename survives a power cut. Files are created mode
0640 (evidence shows people: not world-readable).

Keys are validated (``store.validate_key``) and, as a second wall, the resolved path must stay under the resolved
root, so a symlink planted inside the tree cannot lead a key outside it.

>>> import tempfile
>>> with tempfile.TemporaryDirectory() as tmp:
...     store = LocalMediaStore(Path(tmp))
...     ref = store.put("s1/cam/2026-03-01/e1.jpg", b"jpeg bytes")
...     (ref.size_bytes, ref.content_type, store.read_bytes(ref.key), list(store.list("s1")))
(10, 'image/jpeg', b'jpeg bytes', ['s1/cam/2026-03-01/e1.jpg'])
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from storewatch.media.store import (
    MediaData,
    MediaError,
    MediaNotFoundError,
    MediaRef,
    content_type_for,
    validate_key,
    validate_prefix,
)

_COPY_CHUNK = 1 << 20
_FILE_MODE = 0o640


class LocalMediaStore:
    """``MediaStore`` on a directory (created if missing)."""

    def __init__(self, root: Path, *, fsync: bool = True) -> None:
        root.mkdir(parents=True, exist_ok=True)
        self.root = root.resolve()
        self.fsync = fsync

    def __repr__(self) -> str:
        return f"LocalMediaStore({str(self.root)!r})"

    def put(self, key: str, data: MediaData, content_type: str | None = None) -> MediaRef:
        path = self._path(key)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            size = self._write_atomically(path, data)
        except OSError as exc:
            raise MediaError(f"cannot write media {key!r} under {self.root}: {exc}") from exc
        return MediaRef(key, size, content_type or content_type_for(key), path.as_uri())

    def open(self, key: str) -> BinaryIO:
        path = self._path(key)
        try:
            return path.open("rb")
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise MediaNotFoundError(f"no media {key!r} under {self.root}") from None

    def read_bytes(self, key: str) -> bytes:
        with self.open(key) as stream:
            return stream.read()

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def delete(self, key: str) -> None:
        path = self._path(key)
        try:
            path.unlink(missing_ok=True)
        except NotADirectoryError:
            return  # a file where a directory of the key would be: the key holds nothing
        except (IsADirectoryError, PermissionError) as exc:
            if path.is_dir():
                return  # a "directory" key holds no object; nothing to delete
            raise MediaError(f"cannot delete media {key!r} under {self.root}: {exc}") from exc

    def size(self, key: str) -> int:
        path = self._path(key)
        try:
            st = path.stat()
        except (FileNotFoundError, NotADirectoryError):
            raise MediaNotFoundError(f"no media {key!r} under {self.root}") from None
        if not path.is_file():
            raise MediaNotFoundError(f"no media {key!r} under {self.root} (it is a directory)")
        return st.st_size

    def list(self, prefix: str = "") -> Iterator[str]:
        """Keys under ``prefix/`` in sorted order (collected, then sorted, to match S3's order)."""
        prefix = validate_prefix(prefix)
        base = self._path(prefix) if prefix else self.root
        keys: list[str] = []
        if base.is_dir():
            _collect(base, prefix, keys)
        return iter(sorted(keys))

    def _path(self, key: str) -> Path:
        path = self.root.joinpath(*validate_key(key).split("/"))
        if not path.resolve().is_relative_to(self.root):
            raise MediaError(f"media key {key!r} leads outside {self.root} (through a symlink); refusing it")
        return path

    def _write_atomically(self, path: Path, data: MediaData) -> int:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
        try:
            os.fchmod(fd, _FILE_MODE)
            with os.fdopen(fd, "wb") as out:
                _copy(data, out)
                size = out.tell()
                if self.fsync:
                    out.flush()
                    os.fsync(out.fileno())
            os.replace(tmp_name, path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp_name)
            raise
        if self.fsync:
            _fsync_dir(path.parent)
        return size


def _copy(data: MediaData, out: BinaryIO) -> None:
    if isinstance(data, bytes | bytearray | memoryview):
        out.write(data)
    elif isinstance(data, Path):
        with data.open("rb") as src:
            shutil.copyfileobj(src, out, _COPY_CHUNK)
    else:
        shutil.copyfileobj(data, out, _COPY_CHUNK)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _collect(directory: Path, prefix: str, keys: list[str]) -> None:
    """Regular files below ``directory`` whose relative path is a valid key; symlinks and temporary files skipped."""
    with os.scandir(directory) as entries:
        for entry in entries:
            key = f"{prefix}/{entry.name}" if prefix else entry.name
            try:
                validate_key(key)
            except ValueError:
                continue
            if entry.is_dir(follow_symlinks=False):
                _collect(Path(entry.path), key, keys)
            elif entry.is_file(follow_symlinks=False):
                keys.append(key)
