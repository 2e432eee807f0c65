from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from storewatch.errors import VideoError
from storewatch.video.prefetch import prefetch
from storewatch.video.source import VideoSource
from storewatch.video.writer import Mp4Writer
from tests.conftest import write_video


def test_frames_carry_identity_and_time(make_video):
    path = make_video(frames=12, fps=10)
    with VideoSource(path, "s1/c1") as src:
        frames = list(src.frames())
    assert len(frames) == 12 and src.stats.corrupt == 0
    assert [f.meta.seq for f in frames] == list(range(12))
    assert frames[3].meta.mono_s == pytest.approx(0.3)
    assert frames[0].meta.camera_id == "s1/c1"
    assert (frames[5].meta.utc - frames[0].meta.utc).total_seconds() == pytest.approx(0.5)
    assert frames[0].image.shape == (120, 160, 3) and frames[0].image.dtype == np.uint8


def _damage(path: Path, offset: int, length: int = 400) -> None:
    data = bytearray(path.read_bytes())
    rng = np.random.default_rng(3)
    data[offset + 40 : offset + 40 + length] = rng.integers(0, 256, length, dtype=np.uint8).tobytes()
    path.write_bytes(bytes(data))


def test_corrupt_frame_is_skipped_and_counted(tmp_path):
    path = tmp_path / "damaged.mp4"
    offsets = write_video(path, frames=30, size=(320, 240), codec="libx264")
    _damage(path, offsets[12])
    with VideoSource(path) as src:
        frames = list(src.frames())
    assert src.stats.corrupt >= 1
    assert len(frames) + src.stats.corrupt == 30
    assert 12 in src.stats.corrupt_seqs
    # sequence numbers keep counting skipped frames, so later frames keep their place in the file
    assert frames[-1].meta.seq == 29


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: p, "no such file"),
        (lambda p: (p.write_bytes(b""), p)[1], "empty"),
        (lambda p: (p.write_text("this is not a video\n" * 50), p)[1], "cannot be opened as video"),
        (lambda p: (p.mkdir(), p)[1], "not a file"),
    ],
    ids=["missing", "empty", "not-video", "directory"],
)
def test_bad_files_name_the_file(tmp_path, make, message):
    path = make(tmp_path / "cam.avi")
    with pytest.raises(VideoError) as err:
        VideoSource(path)
    assert str(path) in str(err.value) and message in str(err.value)


def test_unreadable_file(tmp_path, make_video):
    import os

    path = make_video()
    path.chmod(0)
    try:
        if os.access(path, os.R_OK):
            pytest.skip("running as a user who can read any file")
        with pytest.raises(VideoError, match="not readable"):
            VideoSource(path)
    finally:
        path.chmod(0o644)


def test_prefetch_reraises_producer_errors():
    def items():
        yield 1
        raise RuntimeError("decoder died")

    it = prefetch(items(), depth=1)
    assert next(it) == 1
    with pytest.raises(RuntimeError, match="decoder died"):
        next(it)


def test_prefetch_stops_producer_when_consumer_leaves():
    produced = []

    def items():
        for i in range(1000):
            produced.append(i)
            yield i

    it = prefetch(items(), depth=2)
    assert next(it) == 0
    it.close()
    assert len(produced) < 10


def test_mp4_writer_round_trip(tmp_path):
    path = tmp_path / "out" / "a.mp4"
    with Mp4Writer(path, fps=10) as w:
        for i in range(15):
            w.write(np.full((121, 161, 3), i * 10, np.uint8))
    with VideoSource(path) as src:
        frames = list(src.frames())
    assert len(frames) == 15
    assert frames[0].image.shape == (120, 160, 3)  # odd sizes cropped to even for yuv420p


def test_a_missing_usb_camera_is_named_in_the_error():
    import pytest

    from storewatch.errors import VideoError
    from storewatch.runtime.camera import open_camera_source

    with pytest.raises(VideoError, match=r"/dev/video97: no such camera device"):
        open_camera_source("v4l2:///dev/video97", "s/usb")
