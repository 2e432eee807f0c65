from __future__ import annotations

import cv2
import numpy as np
import pytest

from storewatch.core.detections import Detections
from storewatch.video.snapshot import save_snapshot


def _image() -> np.ndarray:
    rng = np.random.default_rng(0)
    img = np.full((120, 160, 3), 90, np.uint8)
    img[20:60, 30:90] = (30, 200, 240)
    return np.clip(img.astype(np.int16) + rng.integers(-8, 8, img.shape), 0, 255).astype(np.uint8)


def test_snapshot_is_a_jpeg_of_the_frame(tmp_path):
    image = _image()
    path = tmp_path / "events" / "e1.jpg"
    written = save_snapshot(image, path)
    data = path.read_bytes()
    assert written == len(data) and data[:3] == b"\xff\xd8\xff"
    decoded = cv2.imread(str(path))
    assert decoded.shape == image.shape
    assert np.abs(decoded.astype(int) - image.astype(int)).mean() < 6
    assert [p.name for p in path.parent.iterdir()] == ["e1.jpg"]  # no temporary file left


def test_quality_trades_size(tmp_path):
    image = _image()
    small = save_snapshot(image, tmp_path / "low.jpg", quality=20)
    large = save_snapshot(image, tmp_path / "high.jpg", quality=95)
    assert small < large


def test_boxes_are_drawn_on_a_copy(tmp_path):
    image = _image()
    before = image.copy()
    boxes = Detections(xyxy=np.array([[30, 20, 90, 60]]), confidence=np.array([0.9]), class_id=np.array([0]))
    save_snapshot(image, tmp_path / "plain.jpg", quality=100)
    save_snapshot(image, tmp_path / "boxed.jpg", quality=100, boxes=boxes)
    assert np.array_equal(image, before)
    plain, boxed = (cv2.imread(str(tmp_path / n)).astype(int) for n in ("plain.jpg", "boxed.jpg"))
    edge = np.abs(boxed[58:62, 40:80] - plain[58:62, 40:80]).mean()
    inside = np.abs(boxed[35:45, 50:70] - plain[35:45, 50:70]).mean()
    assert edge > 30 and inside < 3  # the outline, not a fill


def test_overwrite_replaces_the_file(tmp_path):
    path = tmp_path / "s.jpg"
    path.write_bytes(b"old")
    save_snapshot(_image(), path)
    assert path.read_bytes()[:2] == b"\xff\xd8"


@pytest.mark.parametrize(
    ("image", "quality", "message"),
    [
        (np.zeros((10, 10), np.uint8), 85, "H x W x 3"),
        (np.zeros((10, 10, 3), np.float32), 85, "H x W x 3"),
        (np.zeros((0, 10, 3), np.uint8), 85, "H x W x 3"),
        (np.zeros((10, 10, 3), np.uint8), 0, "quality"),
        (np.zeros((10, 10, 3), np.uint8), 101, "quality"),
    ],
)
def test_bad_input_is_refused_before_writing(tmp_path, image, quality, message):
    with pytest.raises(ValueError, match=message):
        save_snapshot(image, tmp_path / "x.jpg", quality=quality)
    assert not list(tmp_path.iterdir())
