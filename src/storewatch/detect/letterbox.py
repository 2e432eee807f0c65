"""Fitting a frame into a detector's input without distorting people.

The frame is scaled by one factor (aspect ratio kept) to fit inside ``max_width`` x ``max_height`` and padded on
the right and bottom up to a multiple of ``stride`` (the network's coarsest stride).  With a model that takes any
input size this pads only a few pixels instead of a full square; ``pad_to_max`` pads to the full size for models
with a fixed input.

>>> lb = Letterbox.fit(768, 576, max_width=416, max_height=416)
>>> (lb.scaled_width, lb.scaled_height, lb.input_width, lb.input_height)
(416, 312, 416, 320)
>>> lb.to_frame(np.array([[0.0, 0.0, 416.0, 312.0]])).round(1).tolist()
[[0.0, 0.0, 768.0, 576.0]]
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np
from numpy.typing import NDArray


@dataclass(frozen=True, slots=True)
class Letterbox:
    frame_width: int
    frame_height: int
    scaled_width: int
    scaled_height: int
    input_width: int
    input_height: int

    @classmethod
    def fit(
        cls,
        frame_width: int,
        frame_height: int,
        *,
        max_width: int,
        max_height: int,
        stride: int = 32,
        pad_to_max: bool = False,
        keep_aspect: bool = True,
    ) -> Letterbox:
        if frame_width <= 0 or frame_height <= 0:
            raise ValueError(f"frame size must be positive, got {frame_width}x{frame_height}")
        if keep_aspect:
            r = min(max_width / frame_width, max_height / frame_height)
            sw, sh = max(1, round(frame_width * r)), max(1, round(frame_height * r))
        else:
            sw, sh = max_width, max_height
        if pad_to_max:
            iw, ih = max_width, max_height
        else:
            iw, ih = stride * math.ceil(sw / stride), stride * math.ceil(sh / stride)
        return cls(frame_width, frame_height, sw, sh, iw, ih)

    @property
    def scale_xy(self) -> tuple[float, float]:
        """Input pixels per frame pixel, horizontally and vertically."""
        return self.scaled_width / self.frame_width, self.scaled_height / self.frame_height

    def resize(self, image: NDArray[np.uint8]) -> NDArray[np.uint8]:
        """The frame scaled to ``scaled_width`` x ``scaled_height`` (no padding)."""
        if image.shape[1] != self.frame_width or image.shape[0] != self.frame_height:
            raise ValueError(
                f"frame is {image.shape[1]}x{image.shape[0]}, letterbox was fitted for "
                f"{self.frame_width}x{self.frame_height}"
            )
        return np.asarray(
            cv2.resize(image, (self.scaled_width, self.scaled_height), interpolation=cv2.INTER_LINEAR), np.uint8
        )

    def apply(self, image: NDArray[np.uint8], pad_value: tuple[int, int, int]) -> NDArray[np.uint8]:
        """The frame resized and padded to the input size (a new array)."""
        resized = self.resize(image)
        if (self.scaled_width, self.scaled_height) == (self.input_width, self.input_height):
            return resized
        out = np.empty((self.input_height, self.input_width, 3), np.uint8)
        out[...] = np.asarray(pad_value, np.uint8)
        out[: self.scaled_height, : self.scaled_width] = resized
        return out

    def to_frame(self, xyxy: NDArray[Any]) -> NDArray[np.float32]:
        """Boxes in input pixels mapped back to frame pixels, clipped to the frame."""
        sx, sy = self.scale_xy
        scale = np.array([sx, sy, sx, sy], np.float32)
        out: NDArray[np.float32] = np.divide(np.asarray(xyxy, np.float32), scale, dtype=np.float32)
        out[:, [0, 2]] = out[:, [0, 2]].clip(0, self.frame_width)
        out[:, [1, 3]] = out[:, [1, 3]].clip(0, self.frame_height)
        return out
