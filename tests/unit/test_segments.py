from __future__ import annotations

import itertools
import subprocess
import sys
import textwrap
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import av
import pydantic
import pytest

from storewatch.video.ring import EncodedPacket, PacketCapture
from storewatch.video.segments import (
    RecorderStatus,
    RecordingConfig,
    RetentionPolicy,
    RetentionReason,
    SegmentRecorder,
    enforce_retention,
    list_segments,
    segments_covering,
)
from tests.conftest import ROOT, write_video

T0 = datetime(2024, 5, 1, 23, 59, 55, tzinfo=UTC)
GB = 10**9


class FakeDisk:
    """``shutil.disk_usage`` of a disk of ``total`` bytes holding the files under ``root`` and ``other`` bytes."""

    def __init__(self, root: Path, total: int, other: int = 0) -> None:
        self.root, self.total, self.other = root, total, other

    def __call__(self, path: Path) -> SimpleNamespace:
        used = self.other + sum(p.stat().st_size for p in self.root.rglob("*") if p.is_file())
        return SimpleNamespace(total=self.total, used=used, free=self.total - used)


class StreamClock:
    """UTC that follows the stream: T0 plus the time of the packet being fed."""

    def __init__(self) -> None:
        self.t_s = 0.0

    def __call__(self) -> datetime:
        return T0 + timedelta(seconds=self.t_s)


@pytest.fixture(scope="module")
def records(tmp_path_factory) -> list[EncodedPacket]:
    """12 s of H.264 (10 fps, a key frame every 0.5 s) as packet records."""
    path = tmp_path_factory.mktemp("src") / "cam.mp4"
    write_video(path, frames=120, fps=10, codec="libx264")
    capture = PacketCapture()
    with av.open(str(path)) as container:
        found = [capture.convert(p) for p in container.demux(video=0)]
    return [r for r in found if r is not None]


def _feed(recorder: SegmentRecorder, clock: StreamClock, records: list[EncodedPacket]) -> None:
    for record in records:
        clock.t_s = record.t_s
        recorder.add(record)


def _frames(path: Path) -> list[av.VideoFrame]:
    with av.open(str(path)) as container:
        return list(container.decode(video=0))


def test_recorder_cuts_segments_at_key_frames_named_by_utc_start(tmp_path, records):
    clock = StreamClock()
    rec = SegmentRecorder(tmp_path, "store-1/door", RecordingConfig(enabled=True, segment_s=5), clock=clock)
    _feed(rec, clock, records)
    assert rec.status is RecorderStatus.RECORDING and list(tmp_path.rglob("*.partial"))
    rec.close()

    segments = list_segments(tmp_path)
    rel = [s.path.relative_to(tmp_path).as_posix() for s in segments]
    assert rel == [
        "store-1/door/2024-05-01/235955.mp4",
        "store-1/door/2024-05-02/000000.mp4",  # a new day, a new directory
        "store-1/door/2024-05-02/000005.mp4",
    ]
    frames = [_frames(s.path) for s in segments]
    assert sum(len(f) for f in frames) == len(records)  # every packet, none twice
    assert all(f[0].key_frame for f in frames)
    keys = [r.t_s for r in records if r.keyframe]
    longest_gop = max(b - a for a, b in itertools.pairwise(keys))
    for f in frames[:2]:
        assert 5.0 <= len(f) / 10 < 5.0 + longest_gop + 1e-6
    assert rec.segments_written == 3 and rec.status is RecorderStatus.IDLE
    assert not list(tmp_path.rglob("*.partial"))


def test_recorder_starts_a_new_segment_when_the_stream_restarts(tmp_path, records):
    clock = StreamClock()
    rec = SegmentRecorder(tmp_path, "store-1/door", RecordingConfig(enabled=True, segment_s=60), clock=clock)
    _feed(rec, clock, records[:40])
    clock.t_s = 7.0  # the wall clock went on while the camera reconnected; its stream time starts again
    for record in records[:30]:
        rec.add(record)
    rec.close()
    segments = list_segments(tmp_path)
    assert [s.start_utc for s in segments] == [T0, T0 + timedelta(seconds=7)]
    assert [len(_frames(s.path)) for s in segments] == [40, 30]


def test_a_disabled_recorder_writes_nothing(tmp_path, records):
    rec = SegmentRecorder(tmp_path, "store-1/door", RecordingConfig())
    _feed(rec, StreamClock(), records[:20])
    rec.close()
    assert not list(tmp_path.rglob("*.*")) and rec.reason == "recording is disabled"


_CRASH = """
import os, sys
from datetime import UTC, datetime
from pathlib import Path
import av
from storewatch.video.ring import PacketCapture
from storewatch.video.segments import RecordingConfig, SegmentRecorder

root, src = Path(sys.argv[1]), sys.argv[2]
rec = SegmentRecorder(root, "store-1/till", RecordingConfig(enabled=True, segment_s=60),
                      clock=lambda: datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC))
capture = PacketCapture(rec.add)
with av.open(src) as container:
    for i, packet in enumerate(container.demux(video=0)):
        capture(packet)
        if i == 100:
            os._exit(9)  # killed mid-segment: no trailer, no rename
"""


def test_a_crash_leaves_one_partial_file_which_the_next_recorder_recovers(tmp_path):
    src = tmp_path / "cam.mp4"
    write_video(src, frames=120, fps=10, codec="libx264")
    root = tmp_path / "rec"
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(_CRASH), str(root), str(src)], cwd=ROOT, capture_output=True
    )
    assert result.returncode == 9, result.stderr.decode()
    partials = list(root.rglob("*.partial"))
    assert [p.name for p in partials] == ["120000.mp4.partial"]
    (partials[0].parent / "115900.mp4.partial").write_bytes(b"\x00" * 100)  # a partial with nothing readable

    rec = SegmentRecorder(root, "store-1/till", RecordingConfig(enabled=True))

    assert [p.name for p in rec.recovered] == ["120000.mp4"]
    frames = _frames(rec.recovered[0])
    assert 50 <= len(frames) <= 101 and frames[0].key_frame  # what reached the disk before the crash
    assert not list(root.rglob("*.partial")) and not list(root.rglob("*.recovering"))


def _segment(root: Path, camera: str, start: datetime, size: int) -> Path:
    path = root / camera / start.strftime("%Y-%m-%d") / start.strftime("%H%M%S.mp4")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"x" * size)
    return path


NOW = datetime(2024, 5, 10, 12, 0, tzinfo=UTC)


def _store(root: Path) -> None:
    """Two cameras, a segment per camera per day for 10 days (the older camera a minute earlier), 100 bytes each."""
    for day in range(10):
        _segment(root, "s1/a", NOW - timedelta(days=10 - day, minutes=1), 100)
        _segment(root, "s1/b", NOW - timedelta(days=10 - day), 100)


@pytest.mark.parametrize(
    ("policy", "disk_total", "expected"),
    [
        (RetentionPolicy(max_age_days=8, min_free_gb=0), 0, [RetentionReason.AGE] * 5),  # b at 8 days is not older
        (
            RetentionPolicy(max_age_days=None, max_total_gb=1500 / GB, min_free_gb=0),
            0,
            [RetentionReason.TOTAL_SIZE] * 5,
        ),
        (RetentionPolicy(max_age_days=None, min_free_gb=500 / GB), 7_000 + 200, [RetentionReason.FREE_SPACE] * 3),
        (
            RetentionPolicy(max_age_days=9.5, max_total_gb=1650 / GB, min_free_gb=800 / GB),
            7_000 + 300,
            [RetentionReason.AGE] * 2 + [RetentionReason.TOTAL_SIZE] * 2 + [RetentionReason.FREE_SPACE],
        ),
        (RetentionPolicy(max_age_days=30, max_total_gb=1, min_free_gb=0), 0, []),
    ],
)
def test_retention_deletes_oldest_first_across_cameras_until_all_limits_hold(tmp_path, policy, disk_total, expected):
    _store(tmp_path)  # 2000 bytes; the disk's total is chosen so 7000 + n leaves n bytes free
    (tmp_path / "s1/b/2024-04-30/120000.mp4.partial").write_bytes(b"y" * 5000)  # being written: never deleted
    before = list_segments(tmp_path)

    deleted = enforce_retention(tmp_path, policy, NOW, disk_usage=FakeDisk(tmp_path, disk_total))

    assert [d.reason for d in deleted] == expected
    assert [d.segment.path for d in deleted] == [s.path for s in before[: len(expected)]]
    assert [s.camera for s in before[:2]] == ["s1/a", "s1/b"]  # oldest first means across cameras
    assert list_segments(tmp_path) == before[len(expected) :]
    assert (tmp_path / "s1/b/2024-04-30/120000.mp4.partial").exists()
    assert not (tmp_path / "s1/a/2024-04-30").exists() or expected == []  # emptied day directories go


def test_retention_deletes_everything_when_the_disk_stays_short(tmp_path):
    _store(tmp_path)
    deleted = enforce_retention(
        tmp_path, RetentionPolicy(min_free_gb=1), NOW, disk_usage=FakeDisk(tmp_path, 12_000, other=9_000)
    )
    assert len(deleted) == 20 and not list_segments(tmp_path)


def test_recorder_refuses_to_fill_the_disk_and_resumes_when_space_returns(tmp_path, records):
    _store(tmp_path)
    disk = FakeDisk(tmp_path, total=12_000, other=9_000)  # 1000 bytes free, with the old segments' 2000
    clock = StreamClock()
    config = RecordingConfig(enabled=True, segment_s=2, retention=RetentionPolicy(min_free_gb=5_000 / GB))
    rec = SegmentRecorder(tmp_path, "s1/a", config, clock=clock, disk_usage=disk)

    _feed(rec, clock, records[:30])

    assert rec.status is RecorderStatus.NO_SPACE and "below min_free_gb" in rec.reason
    assert len(rec.deletions) == 20 and not list(tmp_path.rglob("*.mp4*"))  # everything deletable went first
    disk.other = 0  # someone freed the disk
    _feed(rec, clock, records[30:60])
    rec.close()
    assert rec.segments_written >= 1 and list_segments(tmp_path)
    assert list_segments(tmp_path)[0].start_utc >= T0 + timedelta(seconds=3)  # at a key frame after the retry


def test_segments_covering_a_time_range(tmp_path, records):
    clock = StreamClock()
    rec = SegmentRecorder(tmp_path, "store-1/door", RecordingConfig(enabled=True, segment_s=4), clock=clock)
    _feed(rec, clock, records)
    rec.close()
    _segment(tmp_path, "store-1/other", T0 + timedelta(seconds=5), 10)
    starts = [s.start_utc for s in list_segments(tmp_path, "store-1/door")]
    assert [(t - T0).total_seconds() for t in starts] == [0, 4, 8]

    def covering(a: float, b: float) -> list[float]:
        found = segments_covering(tmp_path, "store-1/door", T0 + timedelta(seconds=a), T0 + timedelta(seconds=b))
        return [(s.start_utc - T0).total_seconds() for s in found]

    assert covering(5.0, 6.0) == [4]
    assert covering(3.5, 8.5) == [0, 4, 8]
    assert covering(11.0, 20.0) == [8]  # the last segment's video runs to 12 s
    assert covering(12.5, 20.0) == []
    assert covering(-10.0, -1.0) == []


def test_config_is_strict():
    assert RecordingConfig().enabled is False
    with pytest.raises(pydantic.ValidationError):
        RetentionPolicy(max_age_days=7, keep_forever=True)  # type: ignore[call-arg]
    with pytest.raises(pydantic.ValidationError):
        RecordingConfig(segment_s=0)
    with pytest.raises(pydantic.ValidationError):
        RetentionPolicy(min_free_gb=-1)


@pytest.mark.parametrize("camera", ["door", "a/b/c", "Store/Door", "../x"])
def test_camera_ids_are_checked(tmp_path, camera):
    with pytest.raises(ValueError, match="store/camera"):
        SegmentRecorder(tmp_path, camera, RecordingConfig(enabled=True))


def test_times_must_be_utc(tmp_path):
    with pytest.raises(ValueError, match="UTC"):
        enforce_retention(tmp_path, RetentionPolicy(), datetime(2024, 1, 1))


def test_a_stream_without_decode_times_at_its_start_is_recorded_from_a_timed_key_frame(tmp_path):
    src = tmp_path / "cam.mkv"  # Matroska with B-frames: the first packets come without decode times
    write_video(src, frames=40, fps=10, codec="libx264")
    clock = StreamClock()
    rec = SegmentRecorder(tmp_path / "rec", "store-1/door", RecordingConfig(enabled=True, segment_s=60), clock=clock)
    capture = PacketCapture()
    with av.open(str(src)) as container:
        records = [r for r in map(capture.convert, container.demux(video=0)) if r is not None]
    assert records[0].dts is None
    _feed(rec, clock, records)
    rec.close()
    (segment,) = list_segments(tmp_path / "rec")
    frames = _frames(segment.path)
    times = [float(f.time) for f in frames]
    assert frames[0].key_frame and times == sorted(times) and len(frames) >= 30
