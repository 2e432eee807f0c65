from __future__ import annotations

import numpy as np
import pytest

from storewatch.detect.letterbox import Letterbox
from storewatch.detect.nanodet import BINS, decode, preprocess


def _outputs(width: int, height: int) -> list[np.ndarray]:
    """Six NanoDet outputs with every score 0 and every side distribution peaked at bin 0."""
    scores, dists = [], []
    for stride in (8, 16, 32):
        cells = (width // stride) * (height // stride)
        scores.append(np.zeros((1, cells, 80), np.float32))
        d = np.full((1, cells, 4 * BINS), -20.0, np.float32)
        d[..., ::BINS] = 20.0
        dists.append(d)
    return scores + dists


def _place(outputs, level, width, stride, col, row, cls, score, sides):
    cell = row * (width // stride) + col
    outputs[level][0, cell, cls] = score
    d = np.full(4 * BINS, -20.0, np.float32)
    for side, bins in enumerate(sides):
        d[side * BINS + bins] = 20.0
    outputs[3 + level][0, cell] = d


def test_decode_puts_box_around_cell_centre():
    w, h = 64, 32
    out = _outputs(w, h)
    _place(out, 1, w, 16, col=2, row=1, cls=0, score=0.9, sides=(1, 2, 3, 4))
    raw = decode(out, w, h, score_threshold=0.3, nms_iou=0.5)
    centre = (2.5 * 16, 1.5 * 16)
    assert raw.class_ids.tolist() == [0]
    np.testing.assert_allclose(raw.xyxy[0], [centre[0] - 16, centre[1] - 32, centre[0] + 48, centre[1] + 64], atol=1e-3)
    assert raw.scores[0] == pytest.approx(0.9)


def test_decode_threshold_nms_and_class_filter():
    w, h = 64, 64
    out = _outputs(w, h)
    _place(out, 0, w, 8, col=3, row=3, cls=0, score=0.8, sides=(2, 2, 2, 2))
    _place(out, 0, w, 8, col=3, row=4, cls=0, score=0.7, sides=(2, 2, 2, 2))  # overlaps: suppressed
    _place(out, 0, w, 8, col=6, row=6, cls=2, score=0.9, sides=(1, 1, 1, 1))  # a car
    _place(out, 0, w, 8, col=1, row=6, cls=0, score=0.2, sides=(1, 1, 1, 1))  # below threshold
    raw = decode(out, w, h, score_threshold=0.3, nms_iou=0.5)
    assert sorted(raw.class_ids.tolist()) == [0, 2]
    people = decode(out, w, h, score_threshold=0.3, nms_iou=0.5, class_ids=[0, 24])
    assert people.class_ids.tolist() == [0] and people.scores[0] == pytest.approx(0.8)


def test_decode_needs_six_outputs():
    with pytest.raises(ValueError, match="expected 6 outputs"):
        decode(_outputs(32, 32)[:5], 32, 32, score_threshold=0.3, nms_iou=0.5)


@pytest.mark.parametrize(
    ("frame", "limit", "scaled", "padded"),
    [
        ((768, 576), (416, 416), (416, 312), (416, 320)),
        ((1920, 1080), (640, 640), (640, 360), (640, 384)),
        ((576, 768), (416, 416), (312, 416), (320, 416)),
        ((640, 480), (640, 480), (640, 480), (640, 480)),
    ],
)
def test_letterbox_fit(frame, limit, scaled, padded):
    lb = Letterbox.fit(*frame, max_width=limit[0], max_height=limit[1])
    assert (lb.scaled_width, lb.scaled_height) == scaled
    assert (lb.input_width, lb.input_height) == padded


def test_letterbox_apply_and_map_back():
    img = np.zeros((576, 768, 3), np.uint8)
    img[100:200, 300:340] = 255
    lb = Letterbox.fit(768, 576, max_width=416, max_height=416)
    out = lb.apply(img, (1, 2, 3))
    assert out.shape == (320, 416, 3)
    assert out[-1, 0].tolist() == [1, 2, 3]  # padding colour below the picture
    ys, xs = np.nonzero(out[..., 0] > 128)
    box = np.array([[xs.min(), ys.min(), xs.max() + 1, ys.max() + 1]], np.float32)
    np.testing.assert_allclose(lb.to_frame(box)[0], [300, 100, 340, 200], atol=2.5)
    with pytest.raises(ValueError, match="fitted for 768x576"):
        lb.apply(np.zeros((10, 10, 3), np.uint8), (0, 0, 0))


def test_squash_mode_pads_nothing():
    lb = Letterbox.fit(768, 576, max_width=416, max_height=416, keep_aspect=False, pad_to_max=True)
    assert (lb.scaled_width, lb.scaled_height, lb.input_width, lb.input_height) == (416, 416, 416, 416)


def test_preprocess_normalises_bgr_nchw():
    img = np.zeros((2, 3, 3), np.uint8)
    img[..., 0] = 104
    x = preprocess(img)
    assert x.shape == (1, 3, 2, 3) and x.dtype == np.float32
    assert abs(float(x[0, 0, 0, 0])) < 0.01
    assert float(x[0, 2, 0, 0]) == pytest.approx(-123.675 / 58.395, rel=1e-4)


def test_decode_rejects_outputs_of_another_input_size():
    out = _outputs(64, 64)
    with pytest.raises(ValueError, match="stride 8: expected 32 cells"):
        decode(out, 32, 64, score_threshold=0.3, nms_iou=0.5)


def test_preprocess_matches_the_plain_formula_on_a_real_sized_frame():
    img = np.random.default_rng(1).integers(0, 256, (320, 416, 3), dtype=np.uint8)
    from storewatch.detect.nanodet import MEAN_BGR, STD_BGR

    expected = ((img.astype(np.float32) - MEAN_BGR) / STD_BGR).transpose(2, 0, 1)[None]
    x = preprocess(img)
    assert x.shape == (1, 3, 320, 416) and x.dtype == np.float32 and x.flags.c_contiguous
    np.testing.assert_allclose(x, expected, atol=1e-5)
