"""The ingest sources a site file configures, as supervised workers for ``storewatch run`` / ``edge``: a worker
per ``pos.sources.drop_folders`` and ``access.sources.drop_folders`` entry, and one for ``pos.sources.nats``.
(MQTT keeps its own ``storewatch pos mqtt`` process; HTTP is the dashboard app's.)

A drop folder given as a relative path is taken in the data folder; it is made when missing, so a POS can start
writing into it (one that cannot be made is not fatal: its worker is ``degraded`` saying the folder is
missing, and takes it up once it is there). Each worker has its own ingest service (no state shared between
threads but the database).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from storewatch.ingest.dropfolder import DropFolder
from storewatch.ingest.report import FileReport
from storewatch.ingest.worker import IngestWorker
from storewatch.pos.config import DropFolderSource
from storewatch.runtime.supervisor import RestartPolicy

if TYPE_CHECKING:
    from storewatch.access.service import AccessIngestService
    from storewatch.config.schema import SiteConfig
    from storewatch.pos.service import PosIngestService
    from storewatch.store.db import Database

log = logging.getLogger(__name__)


def folder_path(source: DropFolderSource, data_dir: Path) -> Path:
    """The folder of a source: absolute as written, else in the data folder."""
    path = Path(source.path).expanduser()
    return path if path.is_absolute() else data_dir / path


def pos_service(site: SiteConfig, db: Database, data_dir: Path) -> PosIngestService:
    """The site's POS ingest (with the till cameras' track recordings when registers are mapped to cameras)."""
    from storewatch.pos.service import PosIngestService, TrackSource

    tracks = TrackSource(data_dir / "tracks", {f"{s.id}/{c.id}": c.zones for s in site.stores for c in s.cameras})
    return PosIngestService(db, site.pos, tracks if site.pos.tills else None)


def access_service(site: SiteConfig, db: Database, data_dir: Path) -> AccessIngestService:
    """The site's door-access ingest (its rules, opening hours and the door cameras' track recordings)."""
    from storewatch.access.service import AccessIngestService, site_door_tracks, site_rules
    from storewatch.store.access import AccessRepository

    tracks = site_door_tracks(site, data_dir / "tracks") if any(d.camera for d in site.access.doors) else None
    return AccessIngestService(AccessRepository(db), site_rules(site), tracks, ZoneInfo(site.access.timezone))


def site_workers(
    site: SiteConfig, db: Database, data_dir: Path, policy: RestartPolicy | None = None
) -> list[IngestWorker]:
    """A supervised worker per configured source (none when the site configures none)."""
    workers: list[IngestWorker] = []
    folders: list[tuple[str, DropFolderSource, Callable[[Path], FileReport]]] = []
    for source in site.pos.sources.drop_folders:
        folders.append(("pos", source, pos_service(site, db, data_dir).ingest_file))
    for source in site.access.sources.drop_folders:
        folders.append(("access", source, access_service(site, db, data_dir).ingest_file))
    for kind, source, ingest in folders:
        path = folder_path(source, data_dir)
        try:
            path.mkdir(parents=True, exist_ok=True)
        except OSError as exc:  # not fatal: the worker reports the folder missing until it is there
            log.warning("drop folder %s cannot be made: %s", path, exc.strerror or exc)
        folder = DropFolder(path, ingest, source.settle_s)
        workers.append(
            IngestWorker(f"{kind}-drop:{path}", f"{kind}-drop-folder", folder.poll_once, folder.counts,
                         interval_s=source.poll_s, policy=policy)
        )  # fmt: skip
    if (nats := site.pos.sources.nats) is not None:
        from storewatch.pos.nats import PosNatsSource

        sub = PosNatsSource(nats, pos_service(site, db, data_dir))
        workers.append(
            IngestWorker(sub.name, "pos-nats", sub.step, sub.counts, interval_s=0.0, policy=policy, close=sub.close)
        )
    return workers
