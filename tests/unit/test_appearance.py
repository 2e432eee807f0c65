from __future__ import annotations

import numpy as np

from storewatch.appearance.color import DIM, ColorDescriber, describe
from storewatch.core import Detections


def _person(image, x, torso, legs):
    image[100:140, x : x + 30] = torso
    image[140:200, x : x + 30] = legs


def test_same_clothes_are_similar_different_clothes_are_not():
    img = np.full((300, 400, 3), 90, np.uint8)
    _person(img, 20, (0, 0, 200), (120, 60, 20))  # red top, dark blue trousers (BGR)
    _person(img, 120, (10, 5, 215), (115, 58, 22))  # nearly the same
    _person(img, 220, (0, 200, 0), (200, 200, 200))  # green top, light trousers
    boxes = np.array([[20, 95, 50, 205], [120, 95, 150, 205], [220, 95, 250, 205]], np.float32)
    d = describe(img, boxes)
    assert d.shape == (3, DIM)
    assert np.allclose(np.linalg.norm(d, axis=1), 1.0, atol=1e-5)
    assert d[0] @ d[1] > 0.9 > d[0] @ d[2]


def test_describer_adds_a_column_only_for_people_and_survives_empty_boxes():
    img = np.zeros((50, 50, 3), np.uint8)
    dets = Detections([[0, 0, 20, 40], [5, 5, 15, 15], [60, 60, 60, 60]], [0.9, 0.9, 0.9], [0, 24, 0])
    out = ColorDescriber((0,)).describe(img, dets)
    emb = out.data["embedding"]
    assert emb.shape == (3, DIM) and not emb[1].any() and not emb[2].any()
    assert "embedding" not in dets.data  # input untouched
