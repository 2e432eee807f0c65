"""The filesystem media store: round trips, atomic replacement, listing, and refusing every way out of the root."""

from __future__ import annotations

import io
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from storewatch.media.local import LocalMediaStore
from storewatch.media.store import MediaError, MediaNotFoundError, MediaStore

KEY = "s1/cam/2026-03-01/e1.jpg"


@pytest.fixture
def store(tmp_path: Path) -> LocalMediaStore:
    return LocalMediaStore(tmp_path / "media")


def test_is_a_media_store(store: LocalMediaStore) -> None:
    assert isinstance(store, MediaStore)


@pytest.mark.parametrize("kind", ["bytes", "path", "stream"])
def test_round_trip(store: LocalMediaStore, tmp_path: Path, kind: str) -> None:
    data = os.urandom(300_000)
    source: bytes | Path | io.BytesIO = data
    if kind == "path":
        source = tmp_path / "clip.bin"
        source.write_bytes(data)
    elif kind == "stream":
        source = io.BytesIO(data)
    ref = store.put(KEY, source)
    assert (ref.key, ref.size_bytes, ref.content_type) == (KEY, len(data), "image/jpeg")
    assert ref.uri == (store.root / KEY).as_uri()
    assert store.read_bytes(KEY) == data
    assert store.size(KEY) == len(data)
    assert store.exists(KEY)
    with store.open(KEY) as stream:
        assert stream.read(10) == data[:10]


def test_explicit_content_type_is_returned(store: LocalMediaStore) -> None:
    assert store.put("a/blob", b"x", "image/png").content_type == "image/png"
    assert store.put("a/blob2", b"x").content_type == "application/octet-stream"


def test_files_are_not_world_readable(store: LocalMediaStore) -> None:
    store.put(KEY, b"x")
    assert (store.root / KEY).stat().st_mode & 0o777 == 0o640


def test_put_replaces_and_an_open_reader_keeps_the_old_object(store: LocalMediaStore) -> None:
    store.put(KEY, b"old" * 1000)
    with store.open(KEY) as reader:
        store.put(KEY, b"new")
        assert reader.read() == b"old" * 1000
    assert store.read_bytes(KEY) == b"new"


class _FailingStream(io.RawIOBase):
    """Gives some bytes, then fails like a dropped upload."""

    def __init__(self) -> None:
        self.sent = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        if self.sent >= 3 << 20:
            raise OSError("connection reset while copying")
        n = min(len(buffer), 1 << 20)
        buffer[:n] = b"z" * n
        self.sent += n
        return n


@pytest.mark.parametrize("fsync", [True, False])
def test_failed_put_leaves_the_old_object_and_no_temporary_file(tmp_path: Path, fsync: bool) -> None:
    store = LocalMediaStore(tmp_path / "m", fsync=fsync)
    store.put(KEY, b"old")
    with pytest.raises(MediaError, match=r"cannot write media 's1/cam/2026-03-01/e1\.jpg'"):
        store.put(KEY, io.BufferedReader(_FailingStream()))
    assert store.read_bytes(KEY) == b"old"
    assert os.listdir(store.root / "s1/cam/2026-03-01") == ["e1.jpg"]


def test_a_crash_leftover_temporary_file_is_never_listed(store: LocalMediaStore) -> None:
    store.put(KEY, b"x")
    (store.root / "s1/cam/2026-03-01/.e2.jpg.abc123.part").write_bytes(b"half")
    assert list(store.list()) == [KEY]


def test_list_is_sorted_and_scoped_to_whole_segments(store: LocalMediaStore) -> None:
    keys = ["s1/b.jpg", "s1/a/z.mp4", "s1/a.jpg", "s10/x.jpg", "s2/y.jpg"]
    for key in keys:
        store.put(key, b"x")
    assert list(store.list()) == sorted(keys)
    assert list(store.list("s1")) == ["s1/a.jpg", "s1/a/z.mp4", "s1/b.jpg"]
    assert list(store.list("s1/")) == list(store.list("s1"))
    assert list(store.list("s1/a")) == ["s1/a/z.mp4"]
    assert list(store.list("nothing")) == []
    assert list(store.list("s1/a.jpg")) == []


def test_missing_objects(store: LocalMediaStore) -> None:
    store.put("a/b/c.jpg", b"x")
    for key in ("missing.jpg", "a/b", "a/b/c.jpg/d"):
        with pytest.raises(MediaNotFoundError, match=repr(key)):
            store.open(key)
        with pytest.raises(MediaNotFoundError):
            store.size(key)
        assert not store.exists(key)
        store.delete(key)  # deleting what is not there is not an error
    store.delete("a/b/c.jpg")
    assert not store.exists("a/b/c.jpg")
    assert list(store.list()) == []


BAD_KEYS = ["../x", "/etc/passwd", "a//b", "a\\b", "a/../../x", "\uff0e\uff0e/x", "a\u2215..\u2215x", ""]


def _calls(store: LocalMediaStore) -> list[Callable[[str], object]]:
    return [
        lambda k: store.put(k, b"x"),
        store.open,
        store.read_bytes,
        store.exists,
        store.delete,
        store.size,
    ]


@pytest.mark.parametrize("key", BAD_KEYS)
def test_every_operation_refuses_bad_keys_before_touching_the_disk(tmp_path: Path, key: str) -> None:
    store = LocalMediaStore(tmp_path / "root" / "media")
    victim = tmp_path / "root" / "x"
    victim.write_bytes(b"keep")
    for call in _calls(store):
        with pytest.raises(ValueError, match="invalid media key"):
            call(key)
    assert victim.read_bytes() == b"keep"
    assert sorted(p.name for p in (tmp_path / "root").iterdir()) == ["media", "x"]


@pytest.mark.parametrize("prefix", ["..", "../", "/", "/etc"])
def test_list_refuses_bad_prefixes(store: LocalMediaStore, prefix: str) -> None:
    with pytest.raises(ValueError, match="invalid media key"):
        list(store.list(prefix))


def test_a_symlink_inside_the_root_cannot_lead_outside(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.jpg").write_bytes(b"private")
    store = LocalMediaStore(tmp_path / "media")
    (store.root / "link").symlink_to(outside, target_is_directory=True)
    with pytest.raises(MediaError, match="outside"):
        store.open("link/secret.jpg")
    with pytest.raises(MediaError, match="outside"):
        store.put("link/new.jpg", b"x")
    assert sorted(p.name for p in outside.iterdir()) == ["secret.jpg"]
    assert list(store.list()) == []
    for prefix in ("link", "link/sub"):
        with pytest.raises(MediaError, match="outside"):
            list(store.list(prefix))
