"""The camera pages' service: the cameras with their health, and what a camera's view shows.

Two ways to a camera's picture. Inside the process of the cameras (``storewatch demo``, given ``LiveCameras``):
the runner's newest frame (encoded at most twice a second, and only while someone looks: the public-view monitors'
encoder, privacy zones masked) with the tracks of that frame. Apart from them (``storewatch serve`` beside
``storewatch run``): the newest event snapshot the camera has stored. Zones and lines always come from the site
file as it is now, so a zone just saved shows at once; the browser draws them and the tracks over the picture.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Protocol

from storewatch.config.schema import Camera
from storewatch.web.camera_reads import CameraReads
from storewatch.web.config_schemas import CameraPublic, FrameMode, LiveViewPublic, TrackPublic
from storewatch.web.errors import NotFoundError
from storewatch.web.geometry_service import shape_json
from storewatch.web.media import MediaLinks, MediaNotServedError
from storewatch.web.schemas import CameraHealth, CameraStatus
from storewatch.web.scope import StoreScope
from storewatch.web.services import EstateService
from storewatch.web.site_source import SiteSource

FRAME_WAIT_S = 2.5
"""How long a request for a live frame waits for the first one (frames are encoded only once someone asks)."""


@dataclass(frozen=True, slots=True)
class LiveFrame:
    tracks: tuple[TrackPublic, ...]
    age_s: float | None


class LiveCameras(Protocol):
    """The cameras running in this process (``web.runner_view.RunnerCameras``)."""

    def has(self, camera: str) -> bool: ...

    def frame(self, camera: str) -> bytes | None:
        """The newest JPEG of the camera (None until one is encoded; asking starts the encoding)."""
        ...

    def tracks(self, camera: str) -> LiveFrame:
        """The tracks of the frame ``frame`` gives now."""
        ...


@dataclass(frozen=True, slots=True)
class Picture:
    data: bytes | None
    path: Path | None
    content_type: str


class CameraService:
    def __init__(
        self,
        reads: CameraReads,
        source: SiteSource,
        estate: EstateService,
        links: MediaLinks,
        live: LiveCameras | None = None,
    ) -> None:
        self.reads, self.source, self.estate, self.links, self.live = reads, source, estate, links, live

    def list(self, scope: StoreScope) -> list[CameraPublic]:
        """Every camera the user may see: the site file's as it is now, then any other the events name."""
        site = self.source.current()
        known: dict[str, tuple[str, CameraHealth]] = {}
        for summary in self.estate.overview(scope):
            for health in summary.cameras:
                known[health.id] = (summary.name, health)
        found = []
        for store in site.stores if site else []:
            for cam in store.cameras if scope.allows(store.id) else []:
                key = f"{store.id}/{cam.id}"
                store_name, health = known.pop(key, (store.name or store.id, _never_heard(key, cam.name or cam.id)))
                found.append(self._public(key, store_name, health, cam))
        for key, (store_name, health) in known.items():
            found.append(self._public(key, store_name, health, None))
        return found

    def _public(self, key: str, store_name: str, health: CameraHealth, cam: Camera | None) -> CameraPublic:
        return CameraPublic(
            id=key,
            store=key.split("/", 1)[0],
            store_name=store_name,
            name=(cam.name or cam.id) if cam else health.name,
            health=health,
            zones=len(cam.zones) if cam else 0,
            lines=len(cam.lines) if cam else 0,
            enabled=cam.enabled if cam else True,
            live=self.live is not None and self.live.has(key),
        )

    def camera(self, scope: StoreScope, store: str, camera: str) -> CameraPublic:
        key = f"{store}/{camera}"
        found = next((c for c in self.list(scope) if c.id == key), None)
        if found is None:
            raise NotFoundError(f"no camera {key} among yours")
        return found

    def view(self, scope: StoreScope, store: str, camera: str) -> LiveViewPublic:
        """What the camera's view shows now: picture, tracks on it, zones and lines."""
        key = f"{store}/{camera}"
        self.camera(scope, store, camera)
        site = self.source.current()
        cams = [c for s in site.stores if s.id == store for c in s.cameras if c.id == camera] if site else []
        cam = cams[0] if cams else None
        zones = [shape_json(z) for z in cam.zones] if cam else []
        lines = [shape_json(ln) for ln in cam.lines] if cam else []
        frame_url = f"/api/v1/cameras/{key}/frame.jpg"
        if self.live is not None and self.live.has(key):
            live = self.live.tracks(key)
            return LiveViewPublic(
                camera=key, mode=FrameMode.LIVE, frame_url=frame_url, frame_age_s=live.age_s,
                tracks=list(live.tracks), zones=zones, lines=lines,
            )  # fmt: skip
        snapshot = self._snapshot(key)
        return LiveViewPublic(
            camera=key,
            mode=FrameMode.SNAPSHOT if snapshot else FrameMode.NONE,
            frame_url=frame_url if snapshot else None,
            snapshot_utc=snapshot[1] if snapshot else None,
            tracks=[],
            zones=zones,
            lines=lines,
        )

    def picture(self, scope: StoreScope, store: str, camera: str) -> Picture:
        """The camera's picture now: the live frame (waiting a moment for the first) or the newest snapshot."""
        key = f"{store}/{camera}"
        self.camera(scope, store, camera)
        if self.live is not None and self.live.has(key):
            deadline = time.monotonic() + FRAME_WAIT_S
            while (jpeg := self.live.frame(key)) is None and time.monotonic() < deadline:
                time.sleep(0.05)  # the encoder starts on the first request and has a frame within half a second
            if jpeg is not None:
                return Picture(jpeg, None, "image/jpeg")
        snapshot = self._snapshot(key)
        if snapshot is None:
            raise NotFoundError(f"camera {key} has no picture yet")
        try:
            path, content_type = self.links.resolve(snapshot[0], scope)
        except MediaNotServedError as exc:
            raise NotFoundError(f"camera {key} has no picture yet") from exc
        return Picture(None, path, content_type)

    def _snapshot(self, camera: str) -> tuple[str, datetime] | None:
        """The media key and time of the camera's newest event snapshot."""
        for evidence, start in self.reads.newest_evidence(camera):
            key = self.links.key(evidence.get("snapshot"))
            if key is not None and (self.links.media_dir / key).is_file():
                return key, start
        return None


def _never_heard(camera: str, name: str) -> CameraHealth:
    return CameraHealth(
        id=camera,
        name=name,
        status=CameraStatus.UNKNOWN,
        since_utc=None,
        reason="not heard from yet",
        last_event_utc=None,
    )
