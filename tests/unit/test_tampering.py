"""Tampering: each condition raised after it persists, cleared after it is gone; normal activity raises nothing."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from storewatch.detect.tampering import TamperConfig, TamperDetector, TamperKind

CFG = TamperConfig(check_interval_s=1.0, persist_s=3.0)


def scene(seed: int = 0) -> np.ndarray:
    """A textured 'shop' view: shelves (stripes), boxes and fine noise."""
    rng = np.random.default_rng(seed)
    img = np.full((360, 480, 3), 120, np.uint8)
    for y in range(40, 360, 60):
        img[y : y + 8] = (60, 80, 100)
    for _ in range(40):
        x, y = rng.integers(0, 440), rng.integers(0, 320)
        img[y : y + 30, x : x + 30] = rng.integers(30, 230, 3)
    noise = np.random.default_rng(1).integers(-6, 7, img.shape)
    return np.clip(img.astype(int) + noise, 0, 255).astype(np.uint8)


def run(frames: list[np.ndarray], start_s: float = 0.0) -> tuple[TamperDetector, list]:
    det = TamperDetector(CFG)
    events = []
    for i, f in enumerate(frames):
        events += det.update(f, start_s + i)
    return det, events


NORMAL = scene()


@pytest.mark.parametrize(
    ("spoil", "kind"),
    [
        (lambda im: (im * 0.05).astype(np.uint8), TamperKind.TOO_DARK),
        (lambda im: np.full_like(im, 140), TamperKind.BLOCKED),
        (lambda im: cv2.GaussianBlur(im, (31, 31), 12), TamperKind.OUT_OF_FOCUS),
        (lambda im: np.roll(im, (70, 90), axis=(0, 1)), TamperKind.MOVED),
    ],
)
def test_condition_is_raised_after_it_persists_and_cleared_after(spoil, kind):
    bad = spoil(NORMAL)
    det, events = run([NORMAL] * 5 + [bad] * 6 + [NORMAL] * 6)
    kinds = [(e.kind, e.started) for e in events]
    assert kinds == [(kind, True), (kind, False)], events
    started = events[0]
    assert started.t_s >= 5 + CFG.persist_s and started.message
    assert det.active == set()


def test_brief_occlusion_is_not_raised():
    hand = NORMAL.copy()
    hand[:] = 135  # someone's coat right in front of the lens for two seconds
    _, events = run([NORMAL] * 5 + [hand] * 2 + [NORMAL] * 5)
    assert events == []


def test_people_moving_in_the_view_raise_nothing():
    frames = []
    for i in range(15):
        f = NORMAL.copy()
        f[150:280, 30 * i : 30 * i + 40] = (40, 40, 160)
        frames.append(f)
    _, events = run(frames)
    assert events == []
