"""Continuous recording: a camera's encoded video in files of a few minutes, and retention that never fills the disk.

``SegmentRecorder`` is fed the same ``EncodedPacket`` records as the clip ring (see ``ring.PacketCapture``) and
remuxes them, without re-encoding, into ``<root>/<store>/<camera>/<YYYY-MM-DD>/<HHMMSS>.mp4`` named by the UTC
start time (``HHMMSS-2.mp4`` if two segments start in the same second; ``.mkv`` for codecs MP4 does not take).
A new file starts at the first key frame ``segment_s`` seconds after the last one began. A segment is written as
``<name>.partial`` (a fragmented MP4, readable up to its last key frame if the process dies) and renamed when
complete, so a crash leaves at most one partial file per camera, which the next recorder recovers (remuxes what is
readable into a normal segment) or removes.

``enforce_retention`` deletes finished segments oldest first across all cameras until the age, total-size and
free-space limits hold; call it periodically (e.g. hourly) from the supervisor. The recorder calls it itself when
free space falls below ``min_free_gb``, and refuses to write (``status`` ``no_space`` with a ``reason``) while the
space stays short after everything deletable is deleted. Sizes are in GB of 10**9 bytes.
"""

from __future__ import annotations

import contextlib
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from storewatch.core.ids import CameraId, is_slug
from storewatch.errors import VideoError
from storewatch.video.ring import EncodedPacket, PacketCapture, RemuxWriter, container_for

_GB = 10**9
_SUFFIXES = (".mp4", ".mkv")
_NAME = re.compile(r"^(\d{6})(?:-(\d+))?\.(mp4|mkv)$")
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class RetentionPolicy(BaseModel):
    """How long and how much recording to keep; all limits hold at once, the oldest segments go first."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_age_days: float | None = Field(
        30.0, gt=0, le=3650, description="Delete segments that started more than this many days ago (None: no limit)."
    )
    max_total_gb: float | None = Field(
        None, gt=0, description="Delete the oldest segments while all recordings together exceed this (None: no limit)."
    )
    min_free_gb: float = Field(
        2.0, ge=0, description="Keep at least this much free space on the recording disk; recording stops below it."
    )


class RecordingConfig(BaseModel):
    """Continuous recording of a camera."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = Field(False, description="Record the camera continuously.")
    segment_s: float = Field(60.0, ge=2, le=3600, description="Length of one file; cut at the next key frame.")
    retention: RetentionPolicy = Field(default_factory=RetentionPolicy, description="What to keep.")


DiskUsageFn = Callable[[Path], Any]
"""``shutil.disk_usage`` or a stand-in: returns an object with ``total``, ``used`` and ``free`` in bytes."""


@dataclass(frozen=True, slots=True)
class Segment:
    """A finished recording file."""

    path: Path
    camera: CameraId
    start_utc: datetime
    size_bytes: int


class RetentionReason(StrEnum):
    AGE = "age"
    TOTAL_SIZE = "total_size"
    FREE_SPACE = "free_space"


@dataclass(frozen=True, slots=True)
class Deletion:
    segment: Segment
    reason: RetentionReason


def camera_dir(root: Path, camera: CameraId | str) -> Path:
    """The directory of a camera's recordings; ``camera`` is ``store/camera``."""
    parts = str(camera).split("/")
    if len(parts) != 2 or not all(is_slug(p) for p in parts):
        raise ValueError(f"camera id must be 'store/camera' of slugs, got {camera!r}")
    return root / parts[0] / parts[1]


def parse_segment(root: Path, path: Path) -> Segment | None:
    """The segment a file under ``root`` is, or None if its path is not a segment's."""
    match = _NAME.match(path.name)
    rel = path.relative_to(root).parts
    if match is None or len(rel) != 4 or not _DAY.match(rel[2]):
        return None
    try:
        day = date.fromisoformat(rel[2])
        hms = match.group(1)
        start = datetime(day.year, day.month, day.day, int(hms[:2]), int(hms[2:4]), int(hms[4:]), tzinfo=UTC)
        size = path.stat().st_size
    except (ValueError, OSError):
        return None
    return Segment(path, CameraId(f"{rel[0]}/{rel[1]}"), start, size)


def list_segments(root: Path, camera: CameraId | str | None = None) -> list[Segment]:
    """Finished segments under ``root`` (of one camera, or all), oldest first."""
    base = camera_dir(root, camera) if camera is not None else root
    pattern = "*/*" if camera is not None else "*/*/*/*"
    found = (parse_segment(root, p) for p in base.glob(pattern) if p.suffix in _SUFFIXES)
    return sorted((s for s in found if s is not None), key=lambda s: (s.start_utc, _order(s.path), str(s.path)))


def _order(path: Path) -> int:
    match = _NAME.match(path.name)
    return int(match.group(2) or 1) if match else 0


def segments_covering(root: Path, camera: CameraId | str, start_utc: datetime, end_utc: datetime) -> list[Segment]:
    """The camera's segments holding video between ``start_utc`` and ``end_utc``, oldest first.

    A segment spans from its start to the next segment's start or the end of its own video, whichever is first
    (recording may have stopped in between)."""
    _check_utc(start_utc, end_utc)
    segments = list_segments(root, camera)
    chosen = [s for s in segments if start_utc <= s.start_utc < end_utc]
    before = [s for s in segments if s.start_utc < start_utc]
    if before:
        last = before[-1]
        later = [s.start_utc for s in segments if s.start_utc > last.start_utc]
        end = last.start_utc + timedelta(seconds=_duration_s(last.path))
        if later:
            end = min(end, later[0])
        if end > start_utc:
            chosen.insert(0, last)
    return chosen


def _duration_s(path: Path) -> float:
    import av

    try:
        with av.open(str(path)) as container:
            return float(container.duration or 0) / 1e6
    except (OSError, av.error.FFmpegError):
        return 0.0


def enforce_retention(
    root: Path, policy: RetentionPolicy, now: datetime, disk_usage: DiskUsageFn = shutil.disk_usage
) -> list[Deletion]:
    """Delete finished segments under ``root``, oldest first across cameras, until the policy's limits hold;
    returns what was deleted and why. Files being written (``.partial``) are never deleted."""
    _check_utc(now)
    remaining = list_segments(root)
    deletions: list[Deletion] = []
    free = int(disk_usage(_existing(root)).free) if policy.min_free_gb > 0 else 0  # before deleting anything

    def delete_oldest(reason: RetentionReason) -> int:
        segment = remaining.pop(0)
        segment.path.unlink(missing_ok=True)
        with contextlib.suppress(OSError):
            segment.path.parent.rmdir()  # an emptied day; camera directories stay (a recorder may be starting)
        deletions.append(Deletion(segment, reason))
        return segment.size_bytes

    if policy.max_age_days is not None:
        cutoff = now - timedelta(days=policy.max_age_days)
        while remaining and remaining[0].start_utc < cutoff:
            delete_oldest(RetentionReason.AGE)
    if policy.max_total_gb is not None:
        total = sum(s.size_bytes for s in remaining)
        while remaining and total > policy.max_total_gb * _GB:
            total -= delete_oldest(RetentionReason.TOTAL_SIZE)
    if policy.min_free_gb > 0:
        free += sum(d.segment.size_bytes for d in deletions)
        while remaining and free < policy.min_free_gb * _GB:
            free += delete_oldest(RetentionReason.FREE_SPACE)
    return deletions


def _existing(path: Path) -> Path:
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def _check_utc(*times: datetime) -> None:
    for t in times:
        if t.utcoffset() != timedelta(0):
            raise ValueError(f"times must be timezone-aware UTC, got {t!r}")


class RecorderStatus(StrEnum):
    IDLE = "idle"
    RECORDING = "recording"
    NO_SPACE = "no_space"
    ERROR = "error"


class SegmentRecorder:
    """Continuous recording of one camera: ``add(record)`` for every packet, ``close()`` at the end.

    ``status`` and ``reason`` say whether it is recording and, if not, why. ``clock`` gives the UTC time that
    names a segment (when its first key frame arrives); ``disk_usage`` measures free space.

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as root:
    ...     rec = SegmentRecorder(Path(root), "store-1/door", RecordingConfig(enabled=True))
    ...     rec.status, rec.recovered
    (<RecorderStatus.IDLE: 'idle'>, [])
    """

    def __init__(
        self,
        root: Path,
        camera: CameraId | str,
        config: RecordingConfig,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        disk_usage: DiskUsageFn = shutil.disk_usage,
    ) -> None:
        self.root = root
        self.camera = CameraId(str(camera))
        self.dir = camera_dir(root, camera)
        self.config = config
        self._clock = clock
        self._disk_usage = disk_usage
        self.status = RecorderStatus.IDLE
        self.reason = "" if config.enabled else "recording is disabled"
        self.segments_written = 0
        self.deletions: list[Deletion] = []
        """What this recorder deleted to make space."""
        self._writer: RemuxWriter | None = None
        self._partial: Path | None = None
        self._final: Path | None = None
        self._segment_t = 0.0
        self._last: EncodedPacket | None = None
        self._retry_t: float | None = None
        self._untimed_keys = 0
        self.recovered = self.recover()
        """Segments remuxed from partial files a previous run left behind."""

    def add(self, record: EncodedPacket) -> None:
        """Record one packet (decode order)."""
        if not self.config.enabled:
            return
        last, self._last = self._last, record
        if last is not None and (record.info != last.info or record.t_s < last.t_s - 1.0):
            self._finish()  # a new stream (reconnect): its own segment from its first key frame
            self._retry_t, self._untimed_keys = None, 0
        if record.keyframe and record.dts is None and self._writer is None and self._untimed_keys < 2:
            self._untimed_keys += 1  # a stream's first key frames may lack decode times (B-frames): wait
        elif record.keyframe and self._should_cut(record):
            self._finish()
            self._start(record)
        if self._writer is not None:
            try:
                self._writer.write(record)
            except (OSError, VideoError) as exc:
                self._fail(exc)

    def close(self) -> None:
        """Finish the open segment."""
        self._finish()
        if self.status is RecorderStatus.RECORDING:
            self.status = RecorderStatus.IDLE

    def _should_cut(self, record: EncodedPacket) -> bool:
        if self._writer is None:
            return self._retry_t is None or record.t_s >= self._retry_t
        return record.t_s - self._segment_t >= self.config.segment_s or self._free_bytes() < self._min_free()

    def _start(self, record: EncodedPacket) -> None:
        if self._free_bytes() < self._min_free():
            self.deletions += enforce_retention(self.root, self.config.retention, self._clock(), self._disk_usage)
            free = self._free_bytes()
            if free < self._min_free():
                self.status = RecorderStatus.NO_SPACE
                self.reason = (
                    f"{free / _GB:.2f} GB free, below min_free_gb {self.config.retention.min_free_gb}, "
                    "with no recordings left to delete"
                )
                self._retry_t = record.t_s + self.config.segment_s
                return
        self._final = self._free_name(self._clock(), container_for(record.info.codec)[1])
        self._partial = self._final.with_name(self._final.name + ".partial")
        try:
            self._writer = RemuxWriter(self._partial, record.info, fragmented=True)
        except VideoError as exc:
            self._fail(exc)
            return
        self._segment_t = record.t_s
        self._retry_t = None
        self.status, self.reason = RecorderStatus.RECORDING, ""

    def _finish(self) -> None:
        writer, self._writer = self._writer, None
        if writer is None or self._partial is None or self._final is None:
            return
        try:
            writer.close()
            self._partial.replace(self._final)
            self.segments_written += 1
        except (OSError, VideoError) as exc:
            self._fail(exc)  # the partial file is recovered or removed; the caller keeps recording

    def _fail(self, exc: Exception) -> None:
        writer, self._writer = self._writer, None
        if writer is not None:
            with contextlib.suppress(OSError, VideoError):
                writer.close()
        if self._partial is not None:
            recover_partial(self._partial)
        self.status, self.reason = RecorderStatus.ERROR, f"writing {self._partial}: {exc}"
        self._retry_t = (self._last.t_s if self._last else 0.0) + self.config.segment_s

    def recover(self) -> list[Path]:
        """Remux partial files left by a crash into segments (or remove them when nothing is readable)."""
        recovered = []
        for partial in sorted(self.dir.glob("*/*.partial")):
            path = recover_partial(partial)
            if path is not None:
                recovered.append(path)
        return recovered

    def _free_name(self, start: datetime, suffix: str) -> Path:
        start = start.astimezone(UTC)
        day_dir = self.dir / start.strftime("%Y-%m-%d")
        stem = start.strftime("%H%M%S")
        for n in range(1, 1000):
            path = day_dir / (f"{stem}{suffix}" if n == 1 else f"{stem}-{n}{suffix}")
            if not path.exists() and not path.with_name(path.name + ".partial").exists():
                return path
        raise VideoError(f"{day_dir}: too many segments starting at {stem}")

    def _free_bytes(self) -> int:
        return int(self._disk_usage(_existing(self.dir)).free)

    def _min_free(self) -> float:
        return self.config.retention.min_free_gb * _GB


def recover_partial(partial: Path) -> Path | None:
    """Remux what is readable of a partial segment into the segment it was to become; remove the partial.
    Returns the segment, or None when nothing was readable."""
    import av

    final = partial.with_name(partial.name.removesuffix(".partial"))
    fmt = "mp4" if final.suffix == ".mp4" else "matroska"
    capture = PacketCapture()
    writer: RemuxWriter | None = None
    tmp = final.with_name(final.name + ".recovering")
    try:
        with av.open(str(partial), format=fmt) as container:
            stream = container.streams.video[0]
            for packet in container.demux(stream):
                record = capture.convert(packet)
                if record is None or (writer is None and not record.keyframe):
                    continue
                writer = writer or RemuxWriter(tmp, record.info)
                writer.write(record)
    except (OSError, IndexError, VideoError, av.error.FFmpegError):
        pass  # a truncated file: keep what was read
    finally:
        if writer is not None:
            writer.close()
        partial.unlink(missing_ok=True)
    if writer is None or writer.packets == 0:
        tmp.unlink(missing_ok=True)
        return None
    tmp.replace(final)
    return final
