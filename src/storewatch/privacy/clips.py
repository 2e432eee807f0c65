"""Clips as a person may see them: every frame decoded, its people found (the detector and a tracker, so someone the
detector misses for a frame or two is still covered where the track predicts them), protected exactly as a
snapshot is (``SitePrivacy``: privacy zones black, faces blurred, head areas blurred where no trustworthy face is
found), and encoded again as H.264 in MP4.

Re-encoding is unavoidable: blurring changes pixels, and a stream copy cannot. The cost is the detector and the face
detector on every frame (about 0.2 s a frame on the 2-core reference machine, ``storewatch bench privacy``), so a
protected clip is made once, on a worker (a job with progress), and kept beside the original as
``<name>.protected.mp4``; the original stays for the few who may see it unblurred (with a reason, audited).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path, PurePath
from typing import TYPE_CHECKING, Protocol, TypeVar

import av
import numpy as np
from numpy.typing import NDArray

from storewatch.core.detections import Detections
from storewatch.errors import StorewatchError
from storewatch.privacy.protect import people_to_protect
from storewatch.track.bytetrack import ByteTracker
from storewatch.track.config import TrackerConfig
from storewatch.video.source import VideoSource

if TYPE_CHECKING:
    from storewatch.config.schema import SiteConfig

log = logging.getLogger(__name__)

SUFFIX = ".protected.mp4"
VIDEO_SUFFIXES = (".mp4", ".mkv")
P = TypeVar("P", bound=PurePath)
ENCODER_OPTIONS = {"preset": "veryfast", "crf": "23"}


class Detector(Protocol):
    def detect(self, image: NDArray[np.uint8]) -> Detections: ...


class Protector(Protocol):
    """``SitePrivacy``: the picture of ``camera``'s frame a person may see, given the people in it."""

    def __call__(self, camera: str, image: NDArray[np.uint8], people: Detections) -> NDArray[np.uint8]: ...


@dataclass(frozen=True, slots=True)
class ProtectedClip:
    path: Path
    frames: int
    seconds: float
    """Wall time it took."""


def protected_path(clip: P) -> P:
    """Where the protected copy of ``clip`` is kept.

    >>> protected_path(Path("media/s1/door/ev1.mkv")).name
    'ev1.protected.mp4'
    """
    return clip.with_name(clip.stem + SUFFIX)


def is_protected(path: PurePath) -> bool:
    return path.name.endswith(SUFFIX)


def original_of(protected: Path) -> Path | None:
    """The recorded clip a protected copy is made from (``.mp4`` or ``.mkv`` beside it), if it is there."""
    stem = protected.name.removesuffix(SUFFIX)
    return next((c for c in (protected.with_name(stem + s) for s in VIDEO_SUFFIXES) if c.is_file()), None)


def protect_clip(
    clip: Path,
    *,
    camera: str,
    protector: Protector,
    detector: Detector,
    tracker: TrackerConfig | None = None,
    progress: Callable[[float, str], None] | None = None,
    out: Path | None = None,
) -> ProtectedClip:
    """Write the protected copy of ``clip`` (default ``protected_path(clip)``; atomic: a ``.partial`` renamed at
    the end, so a half-written copy is never served). ``progress(fraction, message)`` per frame."""
    dst = out or protected_path(clip)
    started = time.perf_counter()
    if not clip.is_file():
        raise StorewatchError(f"{clip.name}: the clip is not there (removed by retention?)")
    try:
        source = VideoSource(clip, camera_id=camera)
    except (StorewatchError, av.error.FFmpegError) as exc:
        raise StorewatchError(f"{clip.name}: cannot read the clip ({exc})") from exc
    tmp = dst.with_name(f"{dst.name}.{os.getpid()}-{threading.get_ident()}.partial")  # each writer its own
    frames = 0
    with source:
        total = source.frame_count
        fps = source.fps if source.fps > 0 else 25.0
        tracks = ByteTracker(tracker or TrackerConfig(), source.camera_id)
        with av.open(str(tmp), "w", format="mp4") as output:
            stream = output.add_stream("libx264", rate=Fraction(fps).limit_denominator(1001), options=ENCODER_OPTIONS)
            stream.width, stream.height = source.width - source.width % 2, source.height - source.height % 2
            stream.pix_fmt = "yuv420p"
            for frame in source.frames():
                detections = detector.detect(frame.image)
                tracked = tracks.update(detections, frame.meta)
                people = people_to_protect(tracked, detections)
                seen = protector(camera, frame.image, people)[: stream.height, : stream.width]
                video_frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(seen), format="bgr24")
                video_frame.pts = frames
                video_frame.time_base = Fraction(1) / stream.codec_context.rate
                output.mux(stream.encode(video_frame))
                frames += 1
                if progress is not None:
                    done = frames / total if total else 0.0
                    progress(min(done, 0.99), f"Blurring faces: frame {frames}" + (f" of {total}" if total else ""))
            output.mux(stream.encode(None))
    if frames == 0:
        tmp.unlink(missing_ok=True)
        raise StorewatchError(f"{clip.name}: the clip has no frames")
    tmp.replace(dst)  # atomic: two writers (a dashboard and a CLI export) each leave a whole copy
    return ProtectedClip(dst, frames, time.perf_counter() - started)


class ClipProtector:
    """Protected copies of a site's clips, made as needed: ``protected(clip, progress)``. The person detector and
    the face detector are loaded on first use, once (a dashboard or a CLI export that needs no clip loads nothing).
    """

    def __init__(self, site: SiteConfig | None) -> None:
        from storewatch.privacy.site import SitePrivacy

        self.site = site
        self.privacy = SitePrivacy(site)
        self._detector: Detector | None = None
        self._lock = threading.Lock()
        self._making: dict[Path, tuple[threading.Lock, int]] = {}
        """Clips being made: a lock per clip and how many callers hold or wait for it."""

    def protected(self, clip: Path, progress: Callable[[float, str], None] | None = None) -> Path:
        """The protected copy of ``clip`` (a file under ``<media>/<store>/<camera>/<day>/``), made now if missing.
        Callers asking for one clip at once (an evidence pack and an API export) wait for one copy to be made."""
        done = protected_path(clip)
        if done.is_file():
            return done
        with self._lock:
            lock, users = self._making.get(clip, (threading.Lock(), 0))
            self._making[clip] = (lock, users + 1)
        try:
            with lock:
                if done.is_file():  # made while this caller waited
                    return done
                camera = "/".join(clip.parts[-4:-2])
                if progress is not None:
                    progress(0.0, "Loading the person and face detectors")
                return protect_clip(clip, camera=camera, protector=self.privacy, detector=self.detector(),
                                    progress=progress).path  # fmt: skip
        finally:
            with self._lock:
                lock, users = self._making[clip]
                if users == 1:
                    del self._making[clip]
                else:
                    self._making[clip] = (lock, users - 1)

    def detector(self) -> Detector:
        with self._lock:
            if self._detector is None:
                from storewatch.analysis.tracking import open_detector
                from storewatch.detect.config import DetectorConfig

                config = self.site.detector if self.site is not None else DetectorConfig()
                try:
                    self._detector = open_detector(config)
                except OSError as exc:
                    raise StorewatchError(f"the person detector cannot be loaded ({exc})") from exc
            return self._detector


class ClipPreparer:
    """Faces-blurred copies made on request without making anyone wait: ``ready(clip)`` is the copy when it exists;
    otherwise it starts making it on a background thread (never twice for one clip) and returns None — the asker
    says "being prepared" and asks again. For links opened outside the dashboard (signed alert links, the hub)."""

    def __init__(self, protector: ClipProtector) -> None:
        self.protector = protector
        self.made = self.failed = 0
        self._making: set[Path] = set()
        self._lock = threading.Lock()

    def ready(self, clip: Path) -> Path | None:
        done = protected_path(clip)
        if done.is_file():
            return done
        if not clip.is_file():
            raise StorewatchError(f"{clip.name}: the clip is not there (removed by retention?)")
        with self._lock:
            if clip in self._making:
                return None
            self._making.add(clip)
        threading.Thread(target=self._make, args=(clip,), name="clip-protect", daemon=True).start()
        return None

    def _make(self, clip: Path) -> None:
        try:
            self.protector.protected(clip)
            self.made += 1
        except Exception:  # top of the thread: logged; the next request starts it again
            self.failed += 1
            log.exception("faces-blurred copy of %s not made", clip.name)
        finally:
            with self._lock:
                self._making.discard(clip)
