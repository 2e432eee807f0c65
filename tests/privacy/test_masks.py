"""Privacy masks: exactly the pixels whose centre is inside the polygon go black, nothing else changes, and the
masks are a camera's zones of kind privacy."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from storewatch.config.schema import Camera
from storewatch.privacy.masks import PrivacyMask, apply_masks, mask_array, masks_for_camera


def _centres_inside(polygon: np.ndarray, width: int, height: int) -> np.ndarray:
    """Brute force: even-odd test of every pixel centre against the polygon (pixels)."""
    ys, xs = np.mgrid[0:height, 0:width] + 0.5
    inside = np.zeros((height, width), bool)
    for (x1, y1), (x2, y2) in zip(polygon, np.roll(polygon, -1, axis=0), strict=True):
        if y1 == y2:
            continue
        crosses = (y1 > ys) != (y2 > ys)
        inside ^= crosses & (xs < x1 + (ys - y1) * (x2 - x1) / (y2 - y1))
    return inside


@settings(max_examples=60, deadline=None)
@given(
    corners=st.lists(st.tuples(st.floats(0, 1), st.floats(0, 1)), min_size=3, max_size=8),
    width=st.integers(8, 120),
    height=st.integers(8, 90),
)
def test_the_mask_is_exactly_the_pixels_whose_centre_is_inside(corners, width, height) -> None:
    pts = np.array(corners)
    order = np.argsort(np.arctan2(pts[:, 1] - pts[:, 1].mean(), pts[:, 0] - pts[:, 0].mean()))
    polygon = tuple(map(tuple, pts[order]))  # a star-shaped, simple polygon
    got = mask_array([PrivacyMask("m", polygon)], width, height)
    expected = _centres_inside(np.array(polygon) * [width, height], width, height)
    assert np.array_equal(got, expected)


def test_apply_masks_blacks_out_the_polygon_and_leaves_the_rest_and_the_input_alone() -> None:
    rng = np.random.default_rng(0)
    image = rng.integers(1, 256, (90, 160, 3), dtype=np.uint8)
    before = image.copy()
    masks = [
        PrivacyMask("door", ((0.1, 0.2), (0.6, 0.1), (0.5, 0.9), (0.05, 0.7))),
        PrivacyMask("till", ((0.8, 0.0), (1.0, 0.0), (1.0, 1.0))),
    ]
    out = apply_masks(image, masks)
    hidden = mask_array(masks, 160, 90)
    assert 0.15 < hidden.mean() < 0.6
    assert (out[hidden] == 0).all()
    assert np.array_equal(out[~hidden], image[~hidden])
    assert np.array_equal(image, before)


def test_a_frame_wide_mask_hides_everything_and_no_mask_returns_the_image_itself() -> None:
    image = np.full((30, 40, 3), 200, np.uint8)
    whole = PrivacyMask("all", ((0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0)))
    assert int(apply_masks(image, [whole]).max()) == 0
    assert apply_masks(image, []) is image


def test_the_same_masks_follow_a_change_of_resolution() -> None:
    left = [PrivacyMask("left", ((0.0, 0.0), (0.25, 0.0), (0.25, 1.0), (0.0, 1.0)))]
    for w, h in ((64, 48), (1280, 720)):
        hidden = mask_array(left, w, h)
        assert hidden[:, : w // 4].all() and not hidden[:, w // 4 :].any()


def test_masks_are_the_cameras_privacy_zones() -> None:
    camera = Camera.model_validate(
        {
            "id": "cam1",
            "source": "video.mp4",
            "zones": [
                {"id": "toilets", "kind": "privacy", "polygon": [[0, 0], [0.3, 0], [0.3, 0.4]]},
                {"id": "till", "kind": "checkout", "polygon": [[0.5, 0.5], [1, 0.5], [1, 1]]},
            ],
        }
    )
    (mask,) = masks_for_camera(camera)
    assert mask.id == "toilets" and mask.polygon == ((0.0, 0.0), (0.3, 0.0), (0.3, 0.4))


@pytest.mark.parametrize("channels", [1, 3])
def test_grey_and_colour_frames(channels: int) -> None:
    shape = (20, 20) if channels == 1 else (20, 20, 3)
    out = apply_masks(np.full(shape, 99, np.uint8), [PrivacyMask("m", ((0, 0), (0.5, 0), (0.5, 0.5), (0, 0.5)))])
    assert out.shape == shape and int(out[:10, :10].max()) == 0 and int(out[10:, 10:].min()) == 99
