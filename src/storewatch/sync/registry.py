"""The hub's registry, read side, and its configuration versions.

``Registry`` answers what the hub knows of the estate: stores (last heard of, configuration version each runs
against the newest pushed), cameras (health, last event), streams (last sequence number, gaps, late messages) and
how many alerts and thumbnails each store sent.
``ConfigVersions`` keeps every version pushed to a store (``hub_configs``, append-only): ``push`` numbers the next
one (a concurrent push that took the same number makes it try again) and ``latest`` is what a store should run.

>>> from datetime import UTC, datetime
>>> from storewatch.store.db import open_database
>>> from storewatch.store.migrate import upgrade
>>> from storewatch.sync.live_config import LiveConfig
>>> db = open_database("sqlite://"); upgrade(db)
>>> versions = ConfigVersions(db)
>>> [versions.push("s1", LiveConfig(), "ana").version for _ in range(2)], versions.latest("s1").version
([1, 2], 2)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, func, select
from sqlalchemy.exc import IntegrityError

from storewatch.store.db import Database
from storewatch.store.models import AlertRow, AlertStatus
from storewatch.store.sync_models import HubCameraRow, HubConfigRow, HubStoreRow, HubThumbnailRow, ReceivedRow
from storewatch.store.types import utcnow
from storewatch.sync.live_config import ConfigVersion, LiveConfig


@dataclass(frozen=True, slots=True)
class StoreView:
    id: str
    first_seen_utc: datetime
    last_seen_utc: datetime
    config_running: int | None
    config_latest: int | None
    config_ok: bool
    config_error: str | None


@dataclass(frozen=True, slots=True)
class CameraView:
    store: str
    camera: str
    health: str
    health_reason: str
    health_since_utc: datetime | None
    last_seen_utc: datetime
    last_event_utc: datetime | None


@dataclass(frozen=True, slots=True)
class StreamView:
    store: str
    camera: str
    last_seq: int
    received: int
    gaps: int
    late: int
    updated_utc: datetime


class Registry:
    def __init__(self, database: Database) -> None:
        self.db = database

    def stores(self) -> list[StoreView]:
        latest = dict(ConfigVersions(self.db).latest_numbers())
        with self.db.session() as session:
            return [
                StoreView(r.id, r.first_seen_utc, r.last_seen_utc, r.config_version, latest.get(r.id), r.config_ok,
                          r.config_error)
                for r in session.scalars(select(HubStoreRow).order_by(HubStoreRow.id))
            ]  # fmt: skip

    def cameras(self, store: str | None = None) -> list[CameraView]:
        query = select(HubCameraRow).order_by(HubCameraRow.store, HubCameraRow.camera)
        if store is not None:
            query = query.where(HubCameraRow.store == store)
        with self.db.session() as session:
            return [
                CameraView(r.store, r.camera, r.health, r.health_reason, r.health_since_utc, r.last_seen_utc,
                           r.last_event_utc)
                for r in session.scalars(query)
            ]  # fmt: skip

    def streams(self, store: str | None = None) -> list[StreamView]:
        query = select(ReceivedRow).order_by(ReceivedRow.store, ReceivedRow.camera)
        if store is not None:
            query = query.where(ReceivedRow.store == store)
        with self.db.session() as session:
            return [StreamView(r.store, r.camera, r.last_seq, r.received, r.gaps, r.late, r.updated_utc)
                    for r in session.scalars(query)]  # fmt: skip

    def alerts(self) -> dict[str, tuple[int, int]]:
        """Store -> (alerts, of them still waiting for someone)."""
        waiting = func.sum(case((AlertRow.status == AlertStatus.WAITING, 1), else_=0))
        query = select(AlertRow.store, func.count(), waiting).group_by(AlertRow.store)
        with self.db.session() as session:
            return {store: (int(n), int(w or 0)) for store, n, w in session.execute(query)}

    def thumbnails(self) -> dict[str, int]:
        """Store -> thumbnails received."""
        query = select(HubThumbnailRow.store, func.count()).group_by(HubThumbnailRow.store)
        with self.db.session() as session:
            return {store: int(n) for store, n in session.execute(query)}


class ConfigVersions:
    def __init__(self, database: Database) -> None:
        self.db = database

    def push(self, store: str, config: LiveConfig, by: str, attempts: int = 5) -> ConfigVersion:
        """Store the next version of ``store``'s configuration; returns it (to publish)."""
        for attempt in range(attempts):
            try:
                with self.db.write_session() as session:
                    last = session.scalar(select(func.max(HubConfigRow.version)).where(HubConfigRow.store == store))
                    version = ConfigVersion(store=store, version=int(last or 0) + 1, created_utc=utcnow(),
                                            created_by=by, config=config)  # fmt: skip
                    data = config.model_dump(mode="json", exclude_none=True)
                    session.add(HubConfigRow(store=store, version=version.version, created_utc=version.created_utc,
                                             created_by=by, config=data))  # fmt: skip
                return version
            except IntegrityError:
                if attempt == attempts - 1:
                    raise
        raise AssertionError("unreachable")

    def latest(self, store: str) -> ConfigVersion | None:
        query = select(HubConfigRow).where(HubConfigRow.store == store).order_by(HubConfigRow.version.desc()).limit(1)
        with self.db.session() as session:
            row = session.scalar(query)
            return None if row is None else _version(row)

    def latest_all(self) -> list[ConfigVersion]:
        """The newest version of every store that has one."""
        newest = dict(self.latest_numbers())
        with self.db.session() as session:
            rows = session.scalars(select(HubConfigRow).where(HubConfigRow.store.in_(list(newest))))
            return [_version(r) for r in rows if newest[r.store] == r.version]

    def latest_numbers(self) -> list[tuple[str, int]]:
        query = select(HubConfigRow.store, func.max(HubConfigRow.version)).group_by(HubConfigRow.store)
        with self.db.session() as session:
            return [(store, int(v)) for store, v in session.execute(query)]


def _version(row: HubConfigRow) -> ConfigVersion:
    return ConfigVersion(store=row.store, version=row.version, created_utc=row.created_utc, created_by=row.created_by,
                         config=LiveConfig.model_validate(row.config))  # fmt: skip
