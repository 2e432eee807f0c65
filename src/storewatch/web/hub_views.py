"""The dashboard on a hub's database (``storewatch hub --web-port``): the estate as the hub's registry knows it.

At a hub the stores and cameras come from the registry the ingester keeps (``hub_stores``, ``hub_cameras``), not
from a site file: ``RegistryDirectory`` reads them (again after ``refresh_s``), so every page lists every store
that ever reported. ``HubEstateService`` adds to each store of the overview what only the hub knows: when it was
last heard from, each camera's health and when it was last heard of, and the configuration version it runs
against the newest one pushed (or why it refused it). ``HubStatusService`` answers the hub page: the sync streams
(messages, gaps, late), the alerts and thumbnails received and the configuration versions pushed. Evidence files
stay at the stores: ``StoredMediaLinks`` shows each snapshot as the thumbnail that travelled with its event and
links clips and full snapshots to ``/hub/media/<key>``, which fetches them when opened (``web.hub_media``).

>>> from storewatch.store.db import open_database
>>> from storewatch.store.migrate import upgrade
>>> db = open_database("sqlite://"); upgrade(db)
>>> RegistryDirectory(db, "Europe/Madrid").configured
[]
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path, PurePosixPath

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from storewatch.errors import StorewatchError
from storewatch.privacy.clips import protected_path
from storewatch.store.db import Database
from storewatch.store.models import AlertStatus
from storewatch.store.sync_models import HubConfigRow
from storewatch.sync.commands import AcknowledgeCommand, CommandRefusedError, send_acknowledge
from storewatch.sync.ingest import store_alert
from storewatch.sync.media import MediaFetcher, StoreOfflineError
from storewatch.sync.registry import CameraView, Registry, StoreView, StreamView
from storewatch.web.directory import StoreDirectory, StoreInfo
from storewatch.web.errors import ConflictError, InvalidError, NotFoundError
from storewatch.web.hub_media import StoreUnavailableError, Thumbnails
from storewatch.web.incident_service import IncidentsService
from storewatch.web.media import CONTENT_TYPES, MediaLinks
from storewatch.web.present import Views
from storewatch.web.readmodels import ReadModels
from storewatch.web.schemas import AcknowledgeIn, AlertPublic, CameraHealth, CameraStatus, Evidence, StoreSummary
from storewatch.web.scope import StoreScope
from storewatch.web.services import AlertService, EstateService
from storewatch.web.users import User

HUB_SITE_NAME = "storewatch hub"
REGISTRY_HEALTH = {"ok": CameraStatus.OK, "offline": CameraStatus.OFFLINE, "tampering": CameraStatus.TAMPERED}


# --- schemas -------------------------------------------------------------------------------------------------------
class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class HubCameraHealth(CameraHealth):
    last_seen_utc: datetime | None = Field(None, description="When the hub last heard of this camera.")


class HubStoreSummary(StoreSummary):
    cameras: list[HubCameraHealth]  # type: ignore[assignment]  # a narrower item type, as the hub knows more
    last_seen_utc: datetime | None = Field(description="When the hub last heard from the store (None: never).")
    config_running: int | None = Field(description="Configuration version the store runs (0: its site file).")
    config_latest: int | None = Field(description="Newest version pushed to the store (None: none).")
    config_ok: bool = Field(description="False: the store refused the newest version (see config_error).")
    config_error: str | None


class StreamPublic(_Out):
    camera: str = Field(description="store/camera, or '' for the store's own stream (incidents, acknowledgements).")
    last_seq: int
    received: int
    gaps: int
    late: int
    updated_utc: datetime


class ConfigVersionPublic(_Out):
    store: str
    version: int
    created_utc: datetime
    created_by: str


class HubStorePublic(_Out):
    """One store of the hub's registry with its sync streams (``GET /api/v1/hub/stores``)."""

    id: str
    name: str
    first_seen_utc: datetime
    last_seen_utc: datetime
    config_running: int | None
    config_latest: int | None
    config_ok: bool
    config_error: str | None
    cameras: int
    cameras_with_problems: int
    streams: list[StreamPublic]
    messages: int
    gaps: int
    late: int
    alerts: int = Field(0, description="Alerts received from the store.")
    alerts_waiting: int = Field(0, description="Of them, not acknowledged yet.")
    thumbnails: int = Field(0, description="Thumbnails of event snapshots received from the store.")


class HubStatus(_Out):
    stores: list[HubStorePublic]
    versions: list[ConfigVersionPublic] = Field(description="Configuration versions pushed, newest first.")


# --- reads ---------------------------------------------------------------------------------------------------------
class HubReadModels:
    """The hub's tables, read for the dashboard (the registry's own reads, and the versions pushed)."""

    def __init__(self, database: Database) -> None:
        self.db = database
        self.registry = Registry(database)

    def versions(self, stores: Sequence[str] | None, limit: int = 20) -> list[ConfigVersionPublic]:
        query = select(HubConfigRow.store, HubConfigRow.version, HubConfigRow.created_utc, HubConfigRow.created_by)
        if stores is not None:
            query = query.where(HubConfigRow.store.in_(list(stores)))
        query = query.order_by(HubConfigRow.created_utc.desc(), HubConfigRow.version.desc()).limit(limit)
        with self.db.session() as session:
            return [
                ConfigVersionPublic(store=s, version=v, created_utc=at, created_by=by)
                for s, v, at, by in session.execute(query)
            ]


@dataclass
class _Snapshot:
    at: float
    stores: dict[str, StoreInfo] = field(default_factory=dict)


class RegistryDirectory(StoreDirectory):
    """The stores and cameras of the hub's registry (names are ids: a hub has no site file), re-read when
    ``refresh_s`` has passed since the last read, so a store that reports for the first time appears."""

    def __init__(self, database: Database, timezone: str | None = None, refresh_s: float = 5.0) -> None:
        super().__init__(None, timezone)
        self.site_name = HUB_SITE_NAME
        self.registry, self.refresh_s = Registry(database), refresh_s
        self._snapshot = _Snapshot(at=float("-inf"))
        self._lock = threading.Lock()

    @property
    def configured(self) -> list[str]:
        return list(self._current())

    def info(self, store: str) -> StoreInfo:
        return self._current().get(store) or StoreInfo(store, store, self.default_zone)

    def _current(self) -> dict[str, StoreInfo]:
        snapshot = self._snapshot
        if time.monotonic() - snapshot.at < self.refresh_s:
            return snapshot.stores
        with self._lock:  # one reader refreshes; the others keep the snapshot they had
            if self._snapshot is snapshot:
                self._snapshot = _Snapshot(time.monotonic(), self._read())
        return self._snapshot.stores

    def _read(self) -> dict[str, StoreInfo]:
        cameras: dict[str, dict[str, str]] = {}
        for c in self.registry.cameras():
            cameras.setdefault(c.store, {})[c.camera] = c.camera.partition("/")[2] or c.camera
        stores = [s.id for s in self.registry.stores()]
        return {s: StoreInfo(s, s, self.default_zone, cameras.get(s, {})) for s in stores}


class StoredMediaLinks(MediaLinks):
    """At a hub, evidence files stay at the stores: a snapshot is shown as the thumbnail that travelled with its
    event (``/hub/thumbnails/<key>``; none received: 'kept at the store' rather than a broken image), and a clip,
    full snapshot or path picture links to ``/hub/media/<key>``, fetched from the store when opened."""

    def __init__(self, media_dir: Path, thumbnails: Thumbnails | None = None, *, protect_clips: bool = False) -> None:
        super().__init__(media_dir, protect_clips=protect_clips)
        self.thumbnails = thumbnails

    def url(self, path: str | None) -> str | None:
        key = self.key(path)
        return None if key is None else f"/hub/media/{key}"

    def thumbnail(self, path: str | None) -> str | None:
        key = self.key(path)
        if key is None or self.thumbnails is None or not self.thumbnails.has(PurePosixPath(key).stem):
            return None
        return f"/hub/thumbnails/{key}"

    def evidence(self, paths: Mapping[str, str]) -> Evidence:
        clip = self.url(paths.get("clip"))
        if clip is not None and self.protect_clips:  # the store sends a clip only with faces blurred
            clip = str(protected_path(PurePosixPath(clip)))
        return Evidence(
            snapshot=self.thumbnail(paths.get("snapshot")),
            snapshot_full=self.url(paths.get("snapshot")),
            clip=clip,
            clip_type=CONTENT_TYPES.get(PurePosixPath(clip).suffix.lower()) if clip else None,
            path=self.url(paths.get("path")),
        )


# --- services ------------------------------------------------------------------------------------------------------
class HubEstateService(EstateService):
    """The estate overview with what the hub's registry adds (see the module's docstring)."""

    def __init__(self, reads: ReadModels, directory: StoreDirectory) -> None:
        super().__init__(reads, directory)
        self.registry = Registry(reads.db)

    def overview(self, scope: StoreScope) -> list[StoreSummary]:
        base = super().overview(scope)
        stores = {s.id: s for s in self.registry.stores() if scope.allows(s.id)}
        cameras = {c.camera: c for c in self.registry.cameras() if scope.allows(c.store)}
        return [_hub_summary(s, stores.get(s.id), cameras) for s in base]


def _hub_summary(base: StoreSummary, store: StoreView | None, cameras: dict[str, CameraView]) -> HubStoreSummary:
    return HubStoreSummary(
        **{**base.model_dump(), "cameras": [_hub_camera(c, cameras.get(c.id)) for c in base.cameras]},
        last_seen_utc=store.last_seen_utc if store else None,
        config_running=store.config_running if store else None,
        config_latest=store.config_latest if store else None,
        config_ok=store.config_ok if store else True,
        config_error=store.config_error if store else None,
    )


def _hub_camera(base: CameraHealth, known: CameraView | None) -> HubCameraHealth:
    """The camera's health as the registry has it (it follows ``camera.*`` events in order) when it knows it."""
    if known is None:
        return HubCameraHealth(**base.model_dump(), last_seen_utc=None)
    status = REGISTRY_HEALTH.get(known.health, CameraStatus.UNKNOWN)
    return HubCameraHealth(
        id=base.id,
        name=base.name,
        status=status,
        since_utc=None if status == CameraStatus.OK else known.health_since_utc,
        reason="no problem reported" if status == CameraStatus.OK else known.health_reason,
        last_event_utc=known.last_event_utc or base.last_event_utc,
        last_seen_utc=known.last_seen_utc,
    )


class HubAlertService(AlertService):
    """Alerts at a hub: every store's, as they synced; acknowledging one acknowledges it at its store
    (``sync.commands``), whose escalation stops, and the store's answer is stored here at once. A store that does
    not answer changes nothing: the user is told it is offline (HTTP 503)."""

    def __init__(
        self,
        database: Database,
        reads: ReadModels,
        views: Views,
        incidents: IncidentsService,
        requests: MediaFetcher | None,
    ) -> None:
        super().__init__(database, reads, views, incidents)
        self.db, self.requests = database, requests

    def acknowledge(self, scope: StoreScope, user: User, alert_id: str, body: AcknowledgeIn) -> AlertPublic:
        record = self._record(scope, alert_id)
        if record.status != AlertStatus.WAITING:
            what = "called a false alarm" if record.status == AlertStatus.FALSE_ALARM else "acknowledged"
            raise ConflictError(f"alert {alert_id} was {what} already (by {record.acknowledged_by})")
        if self.requests is None:
            raise StoreUnavailableError(f"this hub has no NATS link to the stores (--nats): acknowledge the alert "
                                        f"at store {record.store}")  # fmt: skip
        command = AcknowledgeCommand(alert_id=alert_id, by=user.name, false_alarm_reason=body.false_alarm_reason)
        try:
            reply = send_acknowledge(self.requests, record.store, command)
        except StoreOfflineError as exc:
            raise StoreUnavailableError(
                f"Store {record.store} is offline: the alert was not acknowledged and escalates on at the store. "
                "Try again in a moment, or acknowledge it at the store."
            ) from exc
        except CommandRefusedError as exc:
            if exc.reply.alert is not None:
                store_alert(self.db, exc.reply.alert)
            error = {"conflict": ConflictError, "not_found": NotFoundError}.get(exc.reply.status, InvalidError)
            raise error(exc.reply.message) from exc
        except StorewatchError as exc:
            raise StoreUnavailableError(str(exc)) from exc
        if reply.alert is not None:
            store_alert(self.db, reply.alert)
        return self.present([self._record(scope, alert_id)])[0]


class HubStatusService:
    """The hub page: each store's sync streams and configuration, and the versions pushed."""

    def __init__(self, database: Database, directory: StoreDirectory) -> None:
        self.reads, self.directory = HubReadModels(database), directory

    def status(self, scope: StoreScope) -> HubStatus:
        registry = self.reads.registry
        stores = [s for s in registry.stores() if scope.allows(s.id)]
        cameras = [c for c in registry.cameras() if scope.allows(c.store)]
        streams = [s for s in registry.streams() if scope.allows(s.store)]
        alerts, thumbs = registry.alerts(), registry.thumbnails()
        return HubStatus(
            stores=[self._store(s, cameras, streams, alerts.get(s.id, (0, 0)), thumbs.get(s.id, 0)) for s in stores],
            versions=self.reads.versions(scope.narrow(None)),
        )

    def _store(
        self, s: StoreView, cameras: list[CameraView], streams: list[StreamView], alerts: tuple[int, int], thumbs: int
    ) -> HubStorePublic:
        mine = [c for c in cameras if c.store == s.id]
        flows = [
            StreamPublic(camera=x.camera, last_seq=x.last_seq, received=x.received, gaps=x.gaps, late=x.late,
                         updated_utc=x.updated_utc)
            for x in streams if x.store == s.id
        ]  # fmt: skip
        return HubStorePublic(
            id=s.id,
            name=self.directory.name(s.id),
            first_seen_utc=s.first_seen_utc,
            last_seen_utc=s.last_seen_utc,
            config_running=s.config_running,
            config_latest=s.config_latest,
            config_ok=s.config_ok,
            config_error=s.config_error,
            cameras=len(mine),
            cameras_with_problems=sum(c.health != "ok" for c in mine),
            streams=flows,
            messages=sum(f.received for f in flows),
            gaps=sum(f.gaps for f in flows),
            late=sum(f.late for f in flows),
            alerts=alerts[0],
            alerts_waiting=alerts[1],
            thumbnails=thumbs,
        )


__all__ = [
    "HubAlertService",
    "HubCameraHealth",
    "HubEstateService",
    "HubStatus",
    "HubStatusService",
    "HubStoreSummary",
    "RegistryDirectory",
    "StoredMediaLinks",
]
