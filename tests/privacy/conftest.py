"""Fixtures of the privacy tests: the face detector from the model cache (skipping, with the fix named, when it
has not been fetched) and a stub inference backend for geometry tests that need no model."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
from numpy.typing import NDArray

from storewatch.privacy.faces import OUTPUT_STRIDE, CenterFaceDetector


@pytest.fixture(scope="module")
def face_detector() -> CenterFaceDetector:
    from storewatch.errors import ModelError
    from storewatch.privacy.faces import open_face_detector

    try:
        return open_face_detector()
    except ModelError as exc:
        pytest.skip(f"CenterFace is not in the model cache ({exc}); `storewatch models fetch` obtains it")


class StubBackend:
    """Stands in for CenterFace: one face of ``size_px`` (network pixels) centred on the cell ``at(h, w)`` of
    every image of the batch, with the given score. Records the input shapes it was run on."""

    name = "stub"
    input_name = "input.1"
    output_names = ("537", "538", "539", "540")

    def __init__(self, at: Callable[[int, int], tuple[int, int]], size_px: float = 32.0, score: float = 0.9) -> None:
        self.at, self.size_px, self.score = at, size_px, score
        self.shapes: list[tuple[int, ...]] = []

    def run(self, tensor: NDArray[np.float32]) -> list[NDArray[np.float32]]:
        self.shapes.append(tuple(tensor.shape))
        n, _, h, w = tensor.shape
        gh, gw = h // OUTPUT_STRIDE, w // OUTPUT_STRIDE
        heat = np.zeros((n, 1, gh, gw), np.float32)
        row, col = self.at(gh, gw)
        heat[:, 0, row, col] = self.score
        scale = np.full((n, 2, gh, gw), np.log(self.size_px / OUTPUT_STRIDE), np.float32)
        return [heat, scale, np.zeros((n, 2, gh, gw), np.float32), np.zeros((n, 10, gh, gw), np.float32)]


@pytest.fixture
def centre_stub() -> StubBackend:
    """A face in the middle cell of every input."""
    return StubBackend(lambda gh, gw: (gh // 2, gw // 2))
