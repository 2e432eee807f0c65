"""Evidence for events: a JPEG snapshot at once, a clip from the camera's ring once the seconds after have passed.

Writing files never happens on the detector's thread: jobs go to one worker thread through a bounded queue (a
burst of events beyond it is dropped, counted, and said in the log) and each written file is announced as an
``updated`` event carrying its path, so subscribers see the event at once and its evidence when it exists.

Clip times: the ring holds stream seconds (the stream's own clock), events carry capture (monotonic) times. The
camera's ``StreamClock`` keeps the latest (capture, stream) pair of packets, which maps one to the other.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from storewatch.core.detections import Detections
from storewatch.core.events import Event, EventState
from storewatch.errors import StorewatchError
from storewatch.media.store import MediaStore
from storewatch.render.draw import draw_paths
from storewatch.runtime.bus import EventBus
from storewatch.runtime.queues import DropOldestQueue
from storewatch.video.ring import EncodedPacket, PacketRing, save_clip
from storewatch.video.snapshot import save_snapshot

log = logging.getLogger(__name__)


class StreamClock:
    """Maps capture (monotonic) seconds to a stream's own seconds from the packets seen (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._latest: tuple[float, float] | None = None

    def add(self, record: EncodedPacket) -> None:
        with self._lock:
            self._latest = (time.monotonic(), record.t_s)

    def stream_s(self, mono_s: float) -> float | None:
        with self._lock:
            latest = self._latest
        return None if latest is None else latest[1] - (latest[0] - mono_s)

    def latest_mono_s(self) -> float | None:
        with self._lock:
            return None if self._latest is None else self._latest[0]


@dataclass(frozen=True, slots=True)
class CameraMedia:
    ring: PacketRing
    clock: StreamClock


Protector = Callable[[str, NDArray[np.uint8], Detections], NDArray[np.uint8]]
"""``protect(camera, image, people)``: the picture a person may see (e.g. ``privacy.site.SitePrivacy``)."""


@dataclass(frozen=True, slots=True)
class _Job:
    event: Event
    image: NDArray[np.uint8] | None
    at_mono_s: float
    media: CameraMedia | None
    boxes: Detections | None = None
    paths: dict[int, NDArray[np.float64]] | None = None
    zone: tuple[str, NDArray[np.float32]] | None = None
    people: Detections | None = None


class EvidenceWriter:
    """``submit(event, image, at_mono_s, media)``; ``start()``/``stop()``. Files go under ``root/<store>/<camera>/
    <YYYY-MM-DD>/<event id>.{jpg,mp4}``."""

    def __init__(
        self,
        root: Path,
        bus: EventBus,
        *,
        before_s: float = 10.0,
        after_s: float = 5.0,
        quality: int = 85,
        maxsize: int = 64,
        archive: MediaStore | None = None,
        protect: Protector | None = None,
    ) -> None:
        """``archive``: a (remote) media store every written file is uploaded to as well, under its evidence key
        (``media.store.evidence_key``); the local file stays as the working copy."""
        self.root, self.bus, self.archive, self.protect = root, bus, archive, protect
        self.archived = self.archive_failures = 0
        self.before_s, self.after_s, self.quality = before_s, after_s, quality
        self._jobs: DropOldestQueue[_Job] = DropOldestQueue(maxsize)
        self._pending: list[_Job] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.snapshots = self.clips = self.failures = 0

    @property
    def dropped(self) -> int:
        return self._jobs.dropped

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="evidence", daemon=True)
        self._thread.start()

    def stop(self, flush: bool = True) -> None:
        """Stop; with ``flush`` the clips still waiting for their seconds after are cut from what is buffered."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10)
        if flush:
            for job in self._pending:
                self._clip(job)
        self._pending.clear()

    def submit(
        self,
        event: Event,
        image: NDArray[np.uint8] | None,
        at_mono_s: float,
        media: CameraMedia | None,
        boxes: Detections | None = None,
        zone: tuple[str, NDArray[np.float32]] | None = None,
        people: Detections | None = None,
    ) -> None:
        """Queue the event's evidence; ``boxes`` (e.g. the people involved) and the ``zone`` (label, corners in
        pixels) are drawn on the snapshot; ``people`` (everyone in the frame) are what ``protect`` hides."""
        if self._jobs.put(_Job(event, image, at_mono_s, media, boxes, zone=zone, people=people)):
            log.warning("evidence queue full: dropped the oldest job (%d dropped so far)", self._jobs.dropped)

    def submit_path(
        self,
        event: Event,
        image: NDArray[np.uint8],
        paths: dict[int, NDArray[np.float64]],
        people: Detections | None = None,
    ) -> None:
        """Queue a picture of the tracks' ``paths`` (track id -> N x 2 points) drawn on ``image``, written as
        ``<event id>-path.jpg`` and announced as the event's ``path`` evidence."""
        if paths and self._jobs.put(_Job(event, image, 0.0, None, paths=paths, people=people)):
            log.warning("evidence queue full: dropped the oldest job (%d dropped so far)", self._jobs.dropped)

    def path_for(self, event: Event, suffix: str) -> Path:
        store, _, camera = str(event.camera).partition("/")
        return self.root / store / camera / event.start_utc.strftime("%Y-%m-%d") / f"{event.id}{suffix}"

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                job = self._jobs.get(timeout=0.1)
            except queue.Empty:
                job = None
            if job is not None and job.paths is not None:
                self._path(job)
            elif job is not None:
                self._snapshot(job)
                if job.media is not None:
                    self._pending.append(job)
            now = time.monotonic()
            for due in [j for j in self._pending if _clip_ready(j, now, self.after_s)]:
                self._pending.remove(due)
                self._clip(due)

    def _snapshot(self, job: _Job) -> None:
        if job.image is None:
            return
        path = self.path_for(job.event, ".jpg")
        try:
            save_snapshot(self._shown(job), path, quality=self.quality, boxes=job.boxes, zone=job.zone)
        except (OSError, StorewatchError, ValueError) as exc:
            self.failures += 1
            log.error("snapshot for event %s not written: %s", job.event.id, exc)
            return
        self.snapshots += 1
        self._announce(job.event, snapshot=str(path))

    def _shown(self, job: _Job) -> NDArray[np.uint8]:
        """The frame as people may see it (privacy zones black, faces blurred), before anything is drawn."""
        assert job.image is not None
        if self.protect is None:
            return job.image
        people = job.people if job.people is not None else Detections.empty()
        return self.protect(str(job.event.camera), job.image, people)

    def _archive(self, event: Event, path: Path) -> None:
        """Upload a written file to the archive (on this worker thread: alerts never wait for it). A failure is
        logged and counted; the local file remains and is what the dashboard serves."""
        if self.archive is None:
            return
        try:
            self.archive.put(_archive_key(self.root, path), path)
        except (OSError, StorewatchError) as exc:
            self.archive_failures += 1
            log.error("evidence %s of event %s not uploaded: %s", path.name, event.id, exc)
        else:
            self.archived += 1

    def _path(self, job: _Job) -> None:
        assert job.image is not None and job.paths is not None
        path = self.path_for(job.event, "-path.jpg")
        caption = f"{job.event.type.replace('_', ' ')}: path of track(s) {', '.join(map(str, job.paths))}"
        try:
            save_snapshot(draw_paths(self._shown(job), job.paths, caption), path, quality=self.quality)
        except (OSError, StorewatchError, ValueError) as exc:
            self.failures += 1
            log.error("path picture for event %s not written: %s", job.event.id, exc)
            return
        self._announce(job.event, path=str(path))

    def _clip(self, job: _Job) -> None:
        assert job.media is not None
        centre = job.media.clock.stream_s(job.at_mono_s)
        if centre is None:
            return
        try:
            clip = save_clip(
                job.media.ring, centre - self.before_s, centre + self.after_s, self.path_for(job.event, ".mp4")
            )
        except (OSError, StorewatchError) as exc:
            self.failures += 1
            log.error("clip for event %s not written: %s", job.event.id, exc)
            return
        self.clips += 1
        self._announce(job.event, clip=str(clip.path))

    def _announce(self, event: Event, **paths: str) -> None:
        for path in paths.values():
            self._archive(event, Path(path))
        self.bus.publish(event.with_evidence(**paths).model_copy(update={"state": EventState.UPDATED}))


def _archive_key(root: Path, path: Path) -> str:
    return path.relative_to(root).as_posix()


def _clip_ready(job: _Job, now: float, after_s: float) -> bool:
    """A clip is cut once the ring holds the seconds after the event (or they can no longer come)."""
    assert job.media is not None
    latest = job.media.clock.latest_mono_s()
    return (latest is not None and latest >= job.at_mono_s + after_s) or now > job.at_mono_s + after_s + 10.0
