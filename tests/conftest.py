"""Shared fixtures: the ../shared data (skipping with the missing file named) and small generated videos."""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
PETS_VIDEO = SHARED / "data" / "pets09-s2l1" / "vtest.avi"
PETS_GT = SHARED / "data" / "pets09-s2l1" / "gt-frames-0001-0400.txt"
REFERENCE_DIR = SHARED / "data" / "reference"


def need_shared(path: Path) -> Path:
    """Skip the calling test, naming the file, when a ../shared file is missing."""
    if not path.exists():
        pytest.skip(f"needs {path} (the shared data set beside the project root)")
    return path


@pytest.fixture
def pets_video() -> Path:
    return need_shared(PETS_VIDEO)


@pytest.fixture
def pets_gt() -> Path:
    return need_shared(PETS_GT)


def write_video(
    path: Path, frames: int = 20, size: tuple[int, int] = (160, 120), fps: int = 10, codec: str = "mpeg4"
) -> list[int]:
    """Write a small moving-square video; returns each packet's byte offset so tests can damage one."""
    import av

    w, h = size
    with av.open(str(path), "w") as out:
        stream = out.add_stream(codec, rate=fps)
        stream.width, stream.height, stream.pix_fmt = w, h, "yuv420p"
        stream.gop_size = 5
        for i in range(frames):
            img = np.full((h, w, 3), 40, np.uint8)
            x = 5 + 4 * i
            img[30:70, x : x + 20] = (30, 200, 240)
            frame = av.VideoFrame.from_ndarray(img, format="bgr24")
            frame.pts = i
            frame.time_base = Fraction(1, fps)
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    with av.open(str(path)) as inp:
        return [p.pos for p in inp.demux(inp.streams.video[0]) if p.size]


@pytest.fixture
def make_video(tmp_path: Path) -> Callable[..., Path]:
    def make(name: str = "clip.avi", **kwargs: object) -> Path:
        path = tmp_path / name
        write_video(path, **kwargs)  # type: ignore[arg-type]
        return path

    return make


@pytest.fixture
def pets_people(pets_video: Path) -> tuple[object, np.ndarray, object]:
    """The real detector, PETS frame 100 and the people a full-frame pass finds on it (at least 3, confident);
    skips when the models are not in the cache."""
    from storewatch.analysis.tracking import open_detector
    from storewatch.detect.config import DetectorConfig
    from storewatch.errors import ModelError
    from storewatch.video.source import VideoSource

    try:
        det = open_detector(DetectorConfig())
    except ModelError as exc:
        pytest.skip(f"{exc}")
    with VideoSource(pets_video) as src:
        image = next(f.image for f in src.frames() if f.meta.seq == 99)
    full = det.detect(image)
    people = full[(full.class_id == 0) & (full.confidence > 0.6)]
    assert len(people) >= 3
    return det, image, people
