"""Blurring: the detail in a blurred area is destroyed, nothing outside it changes, and every person is covered,
by a trustworthy face or by the body fallback over the head."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from storewatch.core.detections import Detections
from storewatch.privacy.blur import (
    REASON_BODY,
    REASON_FACE,
    blur_faces,
    head_areas,
    people_with_face,
    pixelate,
    privacy_areas,
)
from storewatch.privacy.config import PrivacyConfig
from storewatch.privacy.faces import FACE_CLASS_ID
from storewatch.privacy.masks import PrivacyMask
from storewatch.privacy.protect import protect

CFG = PrivacyConfig()


def high_frequency_energy(patch: np.ndarray, band: tuple[float, float] = (4.0, 16.0)) -> float:
    """Spectral energy of the grey patch between ``band`` cycles across it: a face is recognised by its eyes,
    nose, mouth and their spacing, detail at about 4-16 cycles per face width, not by its average colours."""
    grey = cv2.cvtColor(patch, cv2.COLOR_BGR2GRAY).astype(np.float64)
    h, w = grey.shape
    grey = (grey - grey.mean()) * np.outer(np.hanning(h), np.hanning(w))  # no spurious edges at the border
    power = np.abs(np.fft.fft2(grey)) ** 2
    cycles = np.hypot(np.fft.fftfreq(h)[:, None] * h, np.fft.fftfreq(w)[None, :] * w)
    return float(power[(cycles >= band[0]) & (cycles <= band[1])].sum())


def textured(shape: tuple[int, int], seed: int, grain_px: float) -> np.ndarray:
    """Random texture with detail of about ``grain_px`` pixels (like facial features at that face size)."""
    noise = np.random.default_rng(seed).integers(0, 256, (*shape, 3), dtype=np.uint8)
    return np.asarray(cv2.GaussianBlur(noise, (0, 0), max(grain_px, 0.5)), np.uint8)


def face(x1: float, y1: float, x2: float, y2: float, score: float = 0.9) -> Detections:
    return Detections(np.array([[x1, y1, x2, y2]]), np.array([score]), np.array([FACE_CLASS_ID]))


def people(*boxes: tuple[float, float, float, float]) -> Detections:
    return Detections(
        np.array(boxes, np.float32).reshape(-1, 4), class_id=np.zeros(len(boxes)), track_id=np.arange(len(boxes))
    )


@pytest.mark.parametrize("side", [8, 12, 24, 60, 200])
def test_blurring_removes_over_90_percent_of_the_fine_detail_at_any_face_size(side: int) -> None:
    image = textured((400, 400), side, side / 24)  # detail at the scale of a face this size's features
    box = np.array([[100, 100, 100 + side, 100 + side]], np.float32)
    out = pixelate(image, box, cells_across=CFG.cells_across)
    inside = (slice(100, 100 + side), slice(100, 100 + side))
    assert high_frequency_energy(out[inside]) < 0.1 * high_frequency_energy(image[inside])
    if side >= 24:  # the measure can fail: 16 cells across keep much of the detail
        weak = pixelate(image, box, cells_across=16)
        assert high_frequency_energy(weak[inside]) > 0.2 * high_frequency_energy(image[inside])
    outside = np.ones(image.shape[:2], bool)
    outside[inside] = False
    assert np.array_equal(out[outside], image[outside])


def test_a_blurred_area_keeps_only_a_few_averages_across() -> None:
    """A face of 4x4 cells: whatever the picture, what is left is a smooth surface through 16 averages."""
    image = np.random.default_rng(1).integers(0, 256, (120, 120, 3), dtype=np.uint8)
    out = pixelate(image, np.array([[20, 20, 100, 100]], np.float32), cells_across=4)
    cells = cv2.resize(out[20:100, 20:100], (4, 4), interpolation=cv2.INTER_AREA).astype(int)
    expected = cv2.resize(image[20:100, 20:100], (4, 4), interpolation=cv2.INTER_AREA).astype(int)
    assert np.abs(cells - expected).max() <= 12  # the same 16 averages, smoothed between
    assert np.abs(np.diff(out[20:100, 20:100].astype(int), axis=1)).max() <= 12  # no edge left


def test_the_input_image_is_never_changed() -> None:
    image = np.random.default_rng(2).integers(0, 256, (100, 100, 3), dtype=np.uint8)
    before = image.copy()
    blur_faces(image, face(10, 10, 40, 40), people((50, 20, 80, 95)))
    protect(image, people((50, 20, 80, 95)), [PrivacyMask("m", ((0, 0), (1, 0), (1, 0.1)))])
    assert np.array_equal(image, before)


def test_every_person_without_a_face_gets_the_body_fallback_over_the_head() -> None:
    crowd = people((10, 10, 40, 90), (60, 30, 90, 110), (200, 0, 260, 150), (300, 100, 320, 160))
    areas = privacy_areas(Detections.empty(), crowd, CFG)
    assert areas.data["reason"].tolist() == [REASON_BODY] * 4
    assert sorted(areas.track_id.tolist()) == [0, 1, 2, 3]
    for (x1, y1, x2, y2), (a1, b1, a2, b2) in zip(crowd.xyxy, areas.xyxy, strict=True):
        h = y2 - y1
        assert a1 < x1 and a2 > x2 and b1 < y1  # wider than the box, above its top
        assert b2 >= y1 + 0.3 * h  # down to the shoulders


def test_a_large_sure_face_replaces_the_fallback_but_a_small_or_unsure_one_does_not() -> None:
    person = people((100, 100, 200, 400))
    big_face = face(130, 105, 170, 150)  # 45 px tall, in the head area
    assert people_with_face(big_face, person, CFG).tolist() == [True]
    areas = privacy_areas(big_face, person, CFG)
    assert areas.data["reason"].tolist() == [REASON_FACE]
    tiny = face(145, 110, 155, 122)  # 12 px: too small to trust its box
    assert privacy_areas(tiny, person, CFG).data["reason"].tolist() == [REASON_FACE, REASON_BODY]
    unsure = face(130, 105, 170, 150, score=0.4)  # blurred, but not trusted
    assert privacy_areas(unsure, person, CFG).data["reason"].tolist() == [REASON_FACE, REASON_BODY]
    low = face(130, 105, 170, 150, score=0.2)  # below face_score: not even blurred as a face
    assert privacy_areas(low, person, CFG).data["reason"].tolist() == [REASON_BODY]


def test_a_face_below_the_head_or_a_neighbours_face_does_not_excuse_a_person() -> None:
    pair = people((100, 100, 200, 400), (140, 110, 240, 410))
    own = face(130, 110, 170, 155)  # the first person's face, also inside the second's box and head area
    assert people_with_face(own, pair, CFG).tolist() == [True, False]
    on_the_legs = face(130, 300, 170, 345)
    assert people_with_face(on_the_legs, pair, CFG).tolist() == [False, False]


def test_head_areas_grow_for_people_cut_off_by_the_frame() -> None:
    standing, cut_off = head_areas(people((0, 0, 40, 100), (0, 0, 100, 120)), 0.3)
    assert standing[3] == pytest.approx(30.0)  # top 30% of a standing person
    assert cut_off[3] == pytest.approx(70.0)  # 0.7 of the width: the head of a person seen from the chest up


def test_protect_without_a_face_detector_blurs_every_head_and_keeps_masks_black() -> None:
    image = textured((200, 200), 3, 1.5)
    crowd = people((20, 20, 60, 180), (120, 30, 170, 190))
    top = PrivacyMask("top", ((0, 0), (1, 0), (1, 0.1), (0, 0.1)))
    out = protect(image, crowd, [top])
    assert int(out[:20].max()) == 0  # the mask stays black though a head area reaches into it
    for x1, y1, x2, _ in crowd.xyxy.astype(int):
        head = (slice(y1 + 2, y1 + 30), slice(x1 + 5, x2 - 5))
        assert high_frequency_energy(out[head]) < 0.1 * high_frequency_energy(image[head])
    assert np.array_equal(out[150:], image[150:])  # below the heads, untouched
