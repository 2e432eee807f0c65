"""Writing frames to an H.264 MP4 file with PyAV (its bundled FFmpeg carries libx264)."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from storewatch.errors import VideoError


class Mp4Writer:
    """``write(bgr_image)`` appends a frame; ``close()`` flushes. Frame size is fixed by the first frame."""

    def __init__(self, path: Path, fps: float, *, crf: int = 23, preset: str = "veryfast") -> None:
        import av

        if fps <= 0:
            raise ValueError(f"fps must be positive, got {fps}")
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        try:
            self._container: Any = av.open(str(path), mode="w")
        except (OSError, av.error.FFmpegError) as exc:
            raise VideoError(f"{path}: cannot be written ({exc})") from exc
        self._rate = Fraction(fps).limit_denominator(1001)
        self._options = {"crf": str(crf), "preset": preset}
        self._stream: Any = None
        self.frames = 0

    def __enter__(self) -> Mp4Writer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def write(self, image: NDArray[np.uint8]) -> None:
        import av

        h, w = image.shape[:2]
        if self._stream is None:
            self._stream = self._container.add_stream("libx264", rate=self._rate, options=self._options)
            self._stream.width, self._stream.height = w - w % 2, h - h % 2
            self._stream.pix_fmt = "yuv420p"
        frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(image[: h - h % 2, : w - w % 2]), format="bgr24")
        frame.pts = self.frames
        frame.time_base = 1 / self._rate
        self._container.mux(self._stream.encode(frame))
        self.frames += 1

    def close(self) -> None:
        if self._container is None:
            return
        if self._stream is not None:
            self._container.mux(self._stream.encode(None))
        self._container.close()
        self._container = None
