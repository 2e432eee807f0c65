"""``storewatch run``: a site's cameras running live on this machine, with everything around the pipeline.

Per camera: capture (reconnecting, watched), the shared gated detector and a tracker (``Pipeline``); a ring of the
last ``ring_s`` seconds of encoded video and, when enabled, continuous recording in segments, both fed from the
camera's main stream without decoding it (from the detection stream itself when the camera has no sub-stream);
tampering checks and the behaviour rules on the analysed frames. Around them: the event bus, the event store
(SQLite in the data folder or PostgreSQL; one writer), the evidence writer (snapshot, clip), an events log (JSON
lines, one file per UTC day), the status server (``/metrics``, ``/status``), the public-view monitors and the
live event feed it serves, the deterrent actions (``actions.service``), a maintenance loop (recording retention,
camera health changes as events), the data retention job (``retention``: once at start, then daily) and the
integrations' ingest sources (``ingest``: POS and door-access drop folders, POS over NATS), each a supervised
worker with its health and counters in ``/status`` and ``/metrics``.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np

from storewatch.actions.executor import build_executors
from storewatch.actions.service import ActionService
from storewatch.analysis.tracking import FrameResult
from storewatch.audit.chain import ActorKind, AuditAction
from storewatch.audit.repeat import RepeatFilter
from storewatch.behaviour.engine import BehaviourEngine
from storewatch.behaviour.site import engine_for
from storewatch.config.schema import Camera, CaptureMode, SiteConfig, Store
from storewatch.core.events import Event, EventState, Severity
from storewatch.core.ids import CameraId, camera_key
from storewatch.detect.gated import WindowDetector
from storewatch.detect.tampering import TamperDetector, TamperKind
from storewatch.incidents.service import IncidentService
from storewatch.ingest.report import SourceStatus
from storewatch.ingest.sources import site_workers
from storewatch.ingest.worker import IngestWorkers
from storewatch.media.config import LocalMedia, S3Media, open_media_store
from storewatch.media.local import LocalMediaStore
from storewatch.privacy.clips import ClipPreparer, ClipProtector
from storewatch.privacy.masks import masks_for_camera
from storewatch.privacy.protect import people_to_protect
from storewatch.privacy.site import SitePrivacy
from storewatch.retention.schedule import RetentionScheduler
from storewatch.retention.service import RetentionService
from storewatch.runtime.alerting import Alerting, link_secret
from storewatch.runtime.bus import EventBus
from storewatch.runtime.camera import FrameSource, open_camera_source
from storewatch.runtime.evidence import CameraMedia, EvidenceWriter, StreamClock
from storewatch.runtime.health import Health
from storewatch.runtime.live import LiveFeed
from storewatch.runtime.packets import MainStreamReader
from storewatch.runtime.pipeline import Pipeline
from storewatch.runtime.pvm import MonitorSpec, PublicViewMonitors
from storewatch.runtime.queues import DropOldestQueue
from storewatch.runtime.status_server import MediaAccess, StatusServer
from storewatch.runtime.trackrec import TrackRecorder
from storewatch.runtime.workers import CaptureSpec
from storewatch.store import Database, EventWriter, SqlDeliveryLog, default_url, open_database, upgrade
from storewatch.store.actions import ActionLogRepository
from storewatch.store.audit import AuditLog
from storewatch.video.ring import EncodedPacket, PacketCapture, PacketRing
from storewatch.video.segments import SegmentRecorder, enforce_retention

log = logging.getLogger(__name__)

TAMPER_TEXT = {
    TamperKind.TOO_DARK: "view too dark",
    TamperKind.BLOCKED: "view blocked",
    TamperKind.OUT_OF_FOCUS: "view out of focus",
    TamperKind.MOVED: "camera moved",
}


@dataclass
class CameraRuntime:
    """What the runner keeps per camera besides its pipeline lane."""

    camera_id: CameraId
    config: Camera
    ring: PacketRing
    clock: StreamClock = field(default_factory=StreamClock)
    recorder: SegmentRecorder | None = None
    tamper: TamperDetector | None = None
    open_tamper: dict[TamperKind, Event] = field(default_factory=dict)
    health_event: Event | None = None
    reader: MainStreamReader | None = None
    store: Store | None = None
    engine: BehaviourEngine | None = None
    tracks: TrackRecorder | None = None
    pending: tuple[Store, Camera] | None = None
    """A new configuration of the camera (``SiteRunner.reconfigure``), taken on the detector's thread."""

    def on_packet(self, record: EncodedPacket) -> None:
        self.ring.add(record)
        self.clock.add(record)
        if self.recorder is not None:
            self.recorder.add(record)

    @property
    def media(self) -> CameraMedia:
        return CameraMedia(self.ring, self.clock)


PATH_MARGIN_S = 5.0
"""The path drawn for an ended event starts this long before the event did."""


class SiteRunner:
    """``start()``, ``stop()``; ``bus`` for subscribers; ``status`` serves /metrics and /status."""

    def __init__(
        self,
        site: SiteConfig,
        detector: WindowDetector,
        *,
        data_dir: Path | None = None,
        status_port: int | None = None,
    ) -> None:
        rt = site.runtime
        self.site = site
        self.data_dir = Path(data_dir or rt.data_dir)
        self.bus = EventBus()
        self.cameras: dict[CameraId, CameraRuntime] = {}
        sources: dict[CameraId, Callable[[], FrameSource]] = {}
        processes: dict[CameraId, CaptureSpec] = {}
        rates: dict[CameraId, float] = {}
        in_processes = rt.capture == CaptureMode.PROCESS
        for store in site.stores:
            for cam in store.cameras:
                if not cam.enabled:
                    continue
                cid = camera_key(store.id, cam.id)
                runtime = CameraRuntime(cid, cam, PacketRing(rt.ring_s), store=store)
                if rt.record_tracks:
                    runtime.tracks = TrackRecorder(self.data_dir / "tracks", str(cid))
                if cam.record.enabled:
                    runtime.recorder = SegmentRecorder(self.data_dir / "recordings", cid, cam.record)
                if cam.tampering.enabled:
                    runtime.tamper = TamperDetector(cam.tampering)
                if cam.sub_source or in_processes:
                    # Ring and recording take the main stream as it is, read apart (packets do not cross from a
                    # worker process); detection decodes the sub-stream when there is one.
                    runtime.reader = MainStreamReader(
                        cam.source, cid, PacketCapture(runtime.on_packet), rtsp_transport=cam.rtsp_transport
                    )
                    if in_processes:
                        processes[cid] = CaptureSpec(str(cid), cam.sub_source or cam.source, cam.rtsp_transport)
                    else:
                        sources[cid] = _source(cam.sub_source or cam.source, cid, None, cam.rtsp_transport)
                else:
                    sources[cid] = _source(cam.source, cid, runtime.on_packet, cam.rtsp_transport)
                rates[cid] = cam.detect_fps
                self.cameras[cid] = runtime
        masks = {cid: masks_for_camera(cam.config) for cid, cam in self.cameras.items()}  # black before analysis
        self.pipeline = Pipeline(
            sources, detector, detect_fps=rates, tracker_config=site.tracker, subscriber=self._on_result,
            processes=processes, masks=masks,
        )  # fmt: skip
        local_media = rt.media.root if isinstance(rt.media, LocalMedia) else Path("media")
        media_root = local_media if local_media.is_absolute() else self.data_dir / local_media
        # With a bucket: evidence is written here first (clips are cut from the ring into files), then uploaded;
        # alert links are served from the bucket. open_media_store checks the bucket now, not at the first alert.
        archive = open_media_store(rt.media) if isinstance(rt.media, S3Media) else None
        self.privacy = SitePrivacy(site, site.privacy)  # evidence and the live monitors: faces blurred, zones black
        self.media_root, self.archive = media_root, archive
        self.evidence = EvidenceWriter(
            media_root,
            self.bus,
            before_s=rt.clip_before_s,
            after_s=rt.clip_after_s,
            quality=rt.snapshot_quality,
            archive=archive,
            protect=self.privacy,
        )
        self.link_secret = link_secret(self.data_dir / "secrets" / "links.key")
        # Privacy on: a signed clip link serves the faces-blurred copy, made on the first request (ClipPreparer).
        self.clips = ClipPreparer(ClipProtector(site)) if site.privacy.enabled else None
        self._media_access = MediaAccess(archive or LocalMediaStore(media_root, fsync=False), (self.link_secret,),
                                         clips=self.clips, local_root=media_root)  # fmt: skip
        port = rt.status_port if status_port is None else status_port
        self.monitors = PublicViewMonitors(  # the in-store screens; frames encoded only while one is watched
            {cid: MonitorSpec(cam.config.name, [z.polygon for z in cam.config.zones if z.kind == "privacy"])
             for cid, cam in self.cameras.items()},
            protect=self.privacy,
        )  # fmt: skip
        self.live = LiveFeed(self.bus)  # /events/stream
        self.ingest = IngestWorkers()  # the site's drop folders and NATS subjects, made at start (need the database)
        self.status = StatusServer(
            self.pipeline, host=rt.status_host, port=port, media=self._media_access, pvm=self.monitors, live=self.live,
            sources=self.ingest_statuses,
        )  # fmt: skip
        self.actions: ActionService | None = None
        self.alerting: Alerting | None = None
        self._log_inbox: DropOldestQueue[Event] = self.bus.subscribe("events-log", maxsize=10_000)
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self.database: Database | None = None
        self.store: EventWriter | None = None
        self.incidents: IncidentService | None = None
        self.retention: RetentionScheduler | None = None
        self._repeats = RepeatFilter()
        self.stored_listeners: list[Callable[[Sequence[Event]], None]] = []
        """Given each batch the event writer committed (attached before it starts: none is missed)."""

    # --- lifecycle -------------------------------------------------------------------------------------------
    def start(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.database = open_database(self.site.runtime.database_url or default_url(self.data_dir))
        upgrade(self.database)
        self.store = EventWriter(self.bus, self.database)  # the one writer of events
        self.incidents = IncidentService(self.database, self.site.incidents)
        self.incidents.attach(self.store)
        for listener in self.stored_listeners:
            self.store.on_stored(listener)
        self.incidents.start()
        self.store.start()
        self.monitors.start()
        self.live.start()
        if self.site.actions:
            executors = build_executors(self.site.actions, self.site.alerts, self.monitors)
            self.actions = ActionService(self.site, self.bus, ActionLogRepository(self.database), executors)
            self.actions.start()
        self._media_access.on_view = self._media_viewed  # signed alert links: each file's first view recorded
        self.status.start()
        if self.site.alerts.channels:
            # Deliveries live in the event store, so what is pending at a stop or crash is sent after the restart.
            delivery_log = SqlDeliveryLog(self.database)
            self.alerting = Alerting(
                self.site, self.bus, self.status.url, self.link_secret, delivery_log=delivery_log,
                clip_suffix=self._clip_suffix, database=self.database,
            )  # fmt: skip
            self._media_access.acknowledge = self._acknowledge
            self.alerting.start()
        self.evidence.start()
        for cam in self.cameras.values():
            if cam.reader is not None:
                cam.reader.start()
        self.pipeline.start()
        self.ingest = IngestWorkers(site_workers(self.site, self.database, self.data_dir))
        self.ingest.start()
        if self.site.retention.enabled:  # its own thread: purging never holds up capture
            service = RetentionService(self.database, self.site.retention, self.data_dir, self.media_root, self.archive)
            self.retention = RetentionScheduler(
                service.run, self.site.retention.run_at_hour, ZoneInfo(self.site.site.timezone)
            )
            self.retention.start()
        for name, target in (("events-log", self._write_events), ("maintenance", self._maintain)):
            thread = threading.Thread(target=target, name=name, daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self) -> None:
        self._stop.set()
        self.pipeline.stop()
        for cam in self.cameras.values():
            if cam.reader is not None:
                cam.reader.stop()
            if cam.recorder is not None:
                cam.recorder.close()
            if cam.tracks is not None:
                cam.tracks.close()
        for cam in self.cameras.values():
            for event in cam.engine.close() if cam.engine is not None else ():
                self.bus.publish(event)
        self.evidence.stop(flush=True)
        for thread in self._threads:
            thread.join(5)
        self._drain_events()
        if self.actions is not None:
            self.actions.stop()
        if self.alerting is not None:
            self.alerting.stop()
        if self.store is not None:
            self.store.stop()
        if self.incidents is not None:
            self.incidents.stop()
        if self.retention is not None:
            self.retention.stop()
        self.ingest.stop()
        if self.database is not None:
            self.database.close()
        self.live.stop()  # ends the event streams, so their request threads finish
        self.monitors.stop()
        self.status.stop()

    def ingest_statuses(self) -> list[SourceStatus]:
        return self.ingest.statuses()

    def _acknowledge(self, alert_id: str, false_alarm_reason: str | None) -> str:
        assert self.alerting is not None
        text = self.alerting.acknowledge(alert_id, "signed link", false_alarm_reason)
        self._audit(AuditAction.ACK, f"alert:{alert_id}", None, false_alarm=false_alarm_reason is not None)
        return text

    def _media_viewed(self, key: str) -> None:
        """A file served through a signed alert link: one audit row per file per repeat window."""
        if self._repeats.first("signed link", f"media:{key}"):
            self._audit(AuditAction.VIEW, f"media:{key}", key.split("/", 1)[0])

    def _audit(self, action: AuditAction, target: str, store: str | None, **detail: object) -> None:
        if self.database is not None:
            AuditLog(self.database).record("signed link", ActorKind.TOKEN, action, store=store, target=target,
                                           detail={"via": "alert link", **detail})  # fmt: skip

    def reconfigure(self, site: SiteConfig) -> None:
        """Take a new configuration of the same site without a restart. What changes live: each camera's zones,
        lines and rule settings (its behaviour engine ends its open episodes and is rebuilt before the next frame,
        on the detector's thread) and the alert routes. Cameras, sources, channels and runtime settings need a
        restart."""
        self.site = site
        for cam in self.cameras.values():
            store = next((s for s in site.stores if cam.store is not None and s.id == cam.store.id), None)
            camera = next((c for c in store.cameras if c.id == cam.config.id), None) if store else None
            if store is not None and camera is not None:
                cam.pending = (store, camera)
                self.pipeline.set_masks(cam.camera_id, masks_for_camera(camera))
        self.privacy = SitePrivacy(site, site.privacy)  # new privacy zones for evidence and the live views too
        self.evidence.protect = self.monitors.protect = self.privacy
        if self.alerting is not None:
            self.alerting.site = site
            if site.routes:
                self.alerting.routes = list(site.routes)

    def _clip_suffix(self, camera: str) -> str:
        cam = self.cameras.get(CameraId(camera))
        return cam.ring.clip_suffix if cam is not None else ".mp4"

    # --- on the detector's thread: keep it cheap ----------------------------------------------------------------
    def _on_result(self, camera_id: CameraId, result: FrameResult) -> None:
        cam = self.cameras[camera_id]
        self.monitors.offer(camera_id, result.frame.image, result.tracks, result.detections)  # cheap unless watched
        meta = result.frame.meta
        if cam.tracks is not None:
            cam.tracks.add(meta.utc, result.tracks, (meta.width, meta.height))
        if (pending := cam.pending) is not None:  # reconfigured: end what the old engine had open, then rebuild
            cam.pending, (cam.store, cam.config) = None, pending
            for event in cam.engine.close() if cam.engine is not None else ():
                self.bus.publish(event)
            cam.engine = None
        if cam.engine is None:
            assert cam.store is not None
            cam.engine = engine_for(self.site, cam.store, cam.config, meta.width, meta.height)
        for event in cam.engine.process(meta.mono_s, meta.utc, result.tracks):
            self.bus.publish(event)
            if event.state == EventState.STARTED:
                numbers = {int(t.rsplit("/", 1)[1]) for t in event.track_ids if t.rsplit("/", 1)[-1].isdigit()}
                involved = result.tracks[np.isin(result.tracks.track_id, list(numbers))]
                geometry = cam.engine.scene.zones.get(event.zone) if event.zone else None
                zone = (event.zone or "", geometry.polygon.reshape(-1, 2)) if geometry is not None else None
                people = people_to_protect(result.tracks, result.detections, self.site.privacy.weak_person_score)
                self.evidence.submit(event, result.frame.image, meta.mono_s, cam.media, involved, zone, people)
            elif event.state == EventState.ENDED and event.track_ids:  # the record shows where they walked
                window = min((event.duration_s or 0.0) + PATH_MARGIN_S, cam.engine.scene.config.history_s)
                people = people_to_protect(result.tracks, result.detections, self.site.privacy.weak_person_score)
                paths = cam.engine.paths(event.track_ids, window)
                self.evidence.submit_path(event, result.frame.image, paths, people)
        if cam.tamper is not None:
            self._tampering(cam, result)

    def _tampering(self, cam: CameraRuntime, result: FrameResult) -> None:
        camera_id = cam.camera_id
        for change in cam.tamper.update(result.frame.image, result.frame.meta.mono_s) if cam.tamper else ():
            now = result.frame.meta.utc  # the capture time of the frame that showed it
            if change.started:
                event = Event.start(
                    f"camera.tampering.{change.kind.value}", camera_id, now,
                    f"{TAMPER_TEXT[change.kind]}: {change.message}", severity=Severity.HIGH,
                    values={"measure": round(change.value, 4)},
                )  # fmt: skip
                cam.open_tamper[change.kind] = event
                self.bus.publish(event)
                self.evidence.submit(event, result.frame.image, result.frame.meta.mono_s, cam.media)
            elif (opened := cam.open_tamper.pop(change.kind, None)) is not None:
                self.bus.publish(opened.end(now, f"{TAMPER_TEXT[change.kind]} cleared"))

    # --- background threads ------------------------------------------------------------------------------------
    def _maintain(self) -> None:
        last_retention = 0.0
        while not self._stop.wait(1.0):
            for cam in self.cameras.values():
                self._health_events(cam)
            if any(c.recorder is not None for c in self.cameras.values()) and (
                time.monotonic() - last_retention >= self.site.runtime.retention_check_s
            ):
                last_retention = time.monotonic()
                self._prune()

    def _prune(self) -> None:
        root = self.data_dir / "recordings"
        for cam in self.cameras.values():
            if cam.recorder is not None:
                for deleted in enforce_retention(root, cam.config.record.retention, datetime.now(UTC)):
                    log.info("retention: deleted %s (%s)", deleted.segment.path, deleted.reason.value)

    def _health_events(self, cam: CameraRuntime) -> None:
        """A camera that has gone offline raises ``camera.offline`` (ended when it streams again)."""
        lane = next(lane for lane in self.pipeline.lanes if lane.camera_id == cam.camera_id)
        health = lane.capture.health
        now = datetime.now(UTC)
        if health.state == Health.OFFLINE and cam.health_event is None and lane.capture.stats().reconnects:
            cam.health_event = Event.start(
                "camera.offline", cam.camera_id, health.since_utc, f"camera offline: {health.reason}",
                severity=Severity.HIGH,
            )  # fmt: skip
            self.bus.publish(cam.health_event)
        elif health.state == Health.OK and cam.health_event is not None:
            self.bus.publish(cam.health_event.end(now, "camera streaming again"))
            cam.health_event = None

    def _write_events(self) -> None:
        while not self._stop.is_set():
            self._drain_events(wait_s=0.2)

    def _drain_events(self, wait_s: float = 0.0) -> None:
        import queue

        while True:
            try:
                event = self._log_inbox.get(timeout=wait_s)
            except queue.Empty:
                return
            wait_s = 0.0
            path = self.data_dir / "events" / f"{event.start_utc.strftime('%Y-%m-%d')}.jsonl"
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("a", encoding="utf-8") as out:
                out.write(json.dumps(event.model_dump(mode="json")) + "\n")


def _source(
    location: str, camera_id: CameraId, on_packet: Callable[[EncodedPacket], None] | None, rtsp_transport: str
) -> Callable[[], FrameSource]:
    def open_source() -> FrameSource:
        hook = None if on_packet is None else PacketCapture(on_packet)  # a new capture per connection
        return open_camera_source(location, camera_id, on_packet=hook, rtsp_transport=rtsp_transport)

    return open_source
