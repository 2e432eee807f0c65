"""Evidence at a hub: thumbnails that travelled with the events, and clips and full snapshots fetched on demand.

Snapshots and clips stay at the stores. What the hub has of each event is the thumbnail the edge sent
(``hub_thumbnails``), shown wherever a snapshot would be. A clip, a full-size snapshot or a path picture is
fetched when someone opens it: from the S3-compatible bucket the stores archive to (``runtime.media: {kind: s3}``
at the edge, the same bucket given to the hub), else from the store itself over NATS (``sync.media``); what was
fetched is kept under the hub's ``media/`` folder, so opening it again (or a video player's range requests) is
served from there. A store that does not answer within a few seconds is ``StoreUnavailableError`` (HTTP 503:
"store offline, clip not available now").

The hub keeps what it fetched until its retention purges it (``storewatch hub --retention``, docs/sync.md).
"""

from __future__ import annotations

import logging
import os
import tempfile
from collections import OrderedDict
from pathlib import Path, PurePosixPath

from sqlalchemy import select

from storewatch.media.store import MediaError, MediaNotFoundError, MediaStore, validate_key
from storewatch.store.db import Database
from storewatch.store.sync_models import HubThumbnailRow
from storewatch.sync.media import MediaFetcher, RemoteMediaNotFoundError, StoreOfflineError, StorePreparingError
from storewatch.web.errors import NotFoundError, ServiceError
from storewatch.web.media import CONTENT_TYPES
from storewatch.web.scope import StoreScope

log = logging.getLogger(__name__)


class StoreUnavailableError(ServiceError):
    """The store (or the hub's way to it) does not answer now: try again later."""

    status = 503


class Thumbnails:
    """The thumbnails the hub has, by event id (positive answers remembered: a thumbnail never goes away)."""

    def __init__(self, database: Database, remember: int = 20_000) -> None:
        self.db, self.remember = database, remember
        self._known: OrderedDict[str, None] = OrderedDict()

    def has(self, event_id: str) -> bool:
        if event_id in self._known:
            return True
        with self.db.session() as session:
            found = session.scalar(select(HubThumbnailRow.event_id).where(HubThumbnailRow.event_id == event_id))
        if found is not None:
            self._known[event_id] = None
            while len(self._known) > self.remember:
                self._known.popitem(last=False)
        return found is not None

    def get(self, store: str, event_id: str, scope: StoreScope) -> bytes:
        """The thumbnail of ``event_id`` of ``store``, if the user may see that store."""
        with self.db.session() as session:
            row = session.get(HubThumbnailRow, event_id)
            if row is None or row.store != store or not scope.allows(row.store):
                raise NotFoundError(f"no thumbnail of event {event_id!r} at this hub")
            return bytes(row.jpeg)


class HubMedia:
    """Evidence files of the stores, fetched when opened (see the module's docstring)."""

    def __init__(
        self, cache_dir: Path, *, fetcher: MediaFetcher | None = None, bucket: MediaStore | None = None
    ) -> None:
        self.cache_dir, self.fetcher, self.bucket = cache_dir, fetcher, bucket
        self.fetched = self.from_bucket = 0

    def file(self, key: str, scope: StoreScope) -> tuple[Path, str]:
        """The file for ``key`` (fetched now unless the hub has it) and its content type."""
        try:
            validate_key(key)
        except ValueError as exc:
            raise NotFoundError(f"no evidence file {key!r}") from exc
        store = key.split("/", 1)[0]
        content_type = CONTENT_TYPES.get(PurePosixPath(key).suffix.lower())
        if not scope.allows(store) or content_type is None:
            raise NotFoundError(f"no evidence file {key!r}")
        root = self.cache_dir.resolve()
        path = (root / key).resolve()
        if not path.is_relative_to(root):
            raise NotFoundError(f"no evidence file {key!r}")
        if not path.is_file():
            self._save(path, self._fetch(store, key))
        return path, content_type

    def _fetch(self, store: str, key: str) -> bytes:
        if self.bucket is not None:
            try:
                data = self.bucket.read_bytes(key)
                self.from_bucket += 1
                return data
            except MediaNotFoundError:
                pass  # not archived (yet): ask the store
            except MediaError as exc:
                log.warning("hub: %s not read from the bucket (%s); asking the store", key, exc)
        if self.fetcher is None:
            raise StoreUnavailableError(
                f"{key} is kept at store {store}, and this hub has no way to fetch it (no NATS, no bucket)"
            )
        try:
            data = self.fetcher.fetch(store, key)
        except StoreOfflineError as exc:
            log.info("hub: %s not fetched: %s", key, exc)
            raise StoreUnavailableError(f"Store {store} is offline: this file is not available now ({exc}). It is "
                                        "kept at the store; try again when the store is back.") from exc  # fmt: skip
        except StorePreparingError as exc:
            raise StoreUnavailableError(f"Store {store} is blurring the faces in this clip before sending it: open it "
                                        "again in a minute.") from exc  # fmt: skip
        except RemoteMediaNotFoundError as exc:
            raise NotFoundError(f"store {store} has no file {key!r} (deleted by its retention, or never written)") \
                from exc  # fmt: skip
        self.fetched += 1
        return data

    @staticmethod
    def _save(path: Path, data: bytes) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".fetch-")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def close(self) -> None:
        if self.fetcher is not None:
            self.fetcher.close()
