"""What the data folder's files are, for retention: evidence media by kind, tracks and event logs by day.

Evidence keys are ``<store>/<camera>/<YYYY-MM-DD>/<event id><suffix>`` (``runtime.evidence``, ``media.store``),
the same in the local folder and in a bucket: ``-path.jpg`` is a path picture, other pictures are snapshots,
``.mp4``/``.mkv`` are clips; the day is the event's start day (UTC). Tracks are ``tracks/<store>/<camera>/
<YYYY-MM-DD>.csv`` and the events log ``events/<YYYY-MM-DD>.jsonl``. A file whose day ended before the cut-off
has expired. Anything else (a partial upload, a file someone put there) is left alone.

>>> classify("s1/door/2026-03-01/e1-path.jpg")
MediaFile(key='s1/door/2026-03-01/e1-path.jpg', kind=<DataKind.PATH_PICTURES: 'path_pictures'>, \
day=datetime.date(2026, 3, 1), event_id='e1', camera='s1/door')
>>> classify("s1/door/2026-03-01/e1.mp4").kind, classify("s1/door/notes.txt")
(<DataKind.CLIPS: 'clips'>, None)
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path, PurePosixPath

from storewatch.retention.config import DataKind

log = logging.getLogger(__name__)

PICTURES = (".jpg", ".jpeg", ".png")
VIDEOS = (".mp4", ".mkv")
PATH_SUFFIX = "-path"
PROTECTED = ".protected"
"""``<event id>.protected.mp4``: a clip's faces-blurred copy (``privacy.clips``), kept and purged like the clip."""


@dataclass(frozen=True, slots=True)
class MediaFile:
    key: str
    kind: DataKind
    day: date
    event_id: str
    camera: str


@dataclass(frozen=True, slots=True)
class DayFile:
    """A file holding one day of something (tracks of one camera, the events log)."""

    path: Path
    day: date
    camera: str | None


def _day(text: str) -> date | None:
    try:
        return date.fromisoformat(text) if len(text) == 10 else None
    except ValueError:
        return None


def classify(key: str) -> MediaFile | None:
    """The evidence file ``key`` names, or None when it is not one."""
    parts = PurePosixPath(key).parts
    if len(parts) != 4 or (day := _day(parts[2])) is None:
        return None
    name = PurePosixPath(parts[3])
    suffix, stem = name.suffix.lower(), name.stem
    if suffix in VIDEOS:
        kind, stem = DataKind.CLIPS, stem.removesuffix(PROTECTED)  # a faces-blurred copy goes with its clip
    elif suffix in PICTURES and stem.endswith(PATH_SUFFIX):
        kind, stem = DataKind.PATH_PICTURES, stem.removesuffix(PATH_SUFFIX)
    elif suffix in PICTURES:
        kind = DataKind.SNAPSHOTS
    else:
        return None
    return MediaFile(key, kind, day, stem, f"{parts[0]}/{parts[1]}") if stem else None


def local_media(root: Path) -> Iterator[tuple[MediaFile, Path]]:
    """Evidence files under a local media folder (``root/<store>/<camera>/<day>/<file>``)."""
    if not root.is_dir():
        return
    for store in sorted(os.scandir(root), key=lambda e: e.name):
        for camera in _dirs(store.path):
            for day in _dirs(camera.path):
                for entry in sorted(os.scandir(day.path), key=lambda e: e.name):
                    if entry.is_file(follow_symlinks=False):
                        found = classify(f"{store.name}/{camera.name}/{day.name}/{entry.name}")
                        if found is not None:
                            yield found, Path(entry.path)


def remove_event_files(root: Path, event_ids: set[str]) -> int:
    """Delete the evidence files of these events under a local media folder (a data subject's erasure at a hub,
    whose fetched files carry the stores' keys); how many went. A file that cannot be deleted is logged."""
    removed = 0
    for found, path in local_media(root):
        if found.event_id in event_ids:
            try:
                path.unlink()
                removed += 1
            except OSError as exc:
                log.error("erasure: %s not deleted: %s", path, exc)
    return removed


def track_files(root: Path) -> Iterator[DayFile]:
    """Recorded tracks: ``root/<store>/<camera>/<YYYY-MM-DD>.csv``."""
    if not root.is_dir():
        return
    for store in _dirs(str(root)):
        for camera in _dirs(store.path):
            for entry in sorted(os.scandir(camera.path), key=lambda e: e.name):
                day = _day(entry.name.removesuffix(".csv")) if entry.name.endswith(".csv") else None
                if day is not None and entry.is_file(follow_symlinks=False):
                    yield DayFile(Path(entry.path), day, f"{store.name}/{camera.name}")


def event_logs(root: Path) -> Iterator[DayFile]:
    """The events log: ``root/<YYYY-MM-DD>.jsonl``."""
    if not root.is_dir():
        return
    for entry in sorted(os.scandir(root), key=lambda e: e.name):
        day = _day(entry.name.removesuffix(".jsonl")) if entry.name.endswith(".jsonl") else None
        if day is not None and entry.is_file(follow_symlinks=False):
            yield DayFile(Path(entry.path), day, None)


def remove_empty_days(root: Path, before: date) -> None:
    """Remove the empty day folders (``root/<store>/<camera>/<day>``) of days before ``before``. Only expired days:
    today's folder may be empty for a moment while the evidence writer is about to write into it."""
    for store in _dirs(str(root)):
        for camera in _dirs(store.path):
            for day in _dirs(camera.path):
                found = _day(day.name)
                if found is not None and found < before:
                    with contextlib.suppress(OSError):  # not empty: kept
                        os.rmdir(day.path)


def _dirs(path: str) -> list[os.DirEntry[str]]:
    try:
        return sorted((e for e in os.scandir(path) if e.is_dir(follow_symlinks=False)), key=lambda e: e.name)
    except OSError:
        return []
