"""The edge's side of sync, put together for ``storewatch edge``: outbox, feeds, publisher and configuration.

``EdgeSync`` is the ``RunHooks`` of ``storewatch run``: it picks the edge's store from the site file, opens the
edge's database (the one the runner uses: SQLite in the data folder unless ``runtime.database_url``), applies the
configuration version stored from the hub before the cameras start, attaches the event feed to the event writer
before it starts (no stored event is missed), and after the start sends its configuration acknowledgement and
starts the publisher and the incident and alert feeds; over NATS it also answers the hub's requests for evidence
files (``sync.media``) and its commands (``sync.commands``: alerts acknowledged at the hub). At the stop, after
the runner has flushed its events, it sends what it can for a few seconds; the rest waits in the outbox for the
next start.

``EdgeConfig`` is the configuration the edge runs: the site file with the newest pushed version applied over it.
A version that does not fit the site is refused (the acknowledgement says why) and the edge keeps the one it runs;
one that fits is applied live (``SiteRunner.reconfigure``), stored (``edge_config``) so a restart runs it too, and
acknowledged in the same transaction.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from typing import TYPE_CHECKING
from urllib.parse import urlsplit, urlunsplit

from pydantic import ValidationError
from sqlalchemy.orm import Session

from storewatch.config.schema import SiteConfig
from storewatch.errors import ConfigError
from storewatch.store.db import Database, default_url, open_database
from storewatch.store.migrate import upgrade
from storewatch.store.sync_models import EdgeConfigRow
from storewatch.store.types import utcnow
from storewatch.sync.envelope import Kind
from storewatch.sync.feed import AlertFeed, EventFeed, IncidentFeed
from storewatch.sync.live_config import ConfigVersion, LiveConfig, LiveConfigError, apply_live, select_store
from storewatch.sync.outbox import Outbox, Outgoing
from storewatch.sync.payloads import ConfigAck
from storewatch.sync.publisher import Publisher, Transport

if TYPE_CHECKING:
    from storewatch.runtime.runner import SiteRunner
    from storewatch.sync.commands import CommandResponder
    from storewatch.sync.media import MediaResponder

log = logging.getLogger(__name__)

SECRET_ENV = "STOREWATCH_SYNC_SECRET"


def open_transport(hub: str, *, secret: str | None = None, name: str = "storewatch-edge") -> Transport:
    """The transport for a ``--hub`` URL: ``nats://`` or ``tls://`` (JetStream), ``http://`` or ``https://``
    (signed batches; the secret from ``$STOREWATCH_SYNC_SECRET`` unless given)."""
    scheme = hub.split("://", 1)[0].lower() if "://" in hub else ""
    if scheme in ("nats", "tls"):
        from storewatch.sync.jetstream import NatsTransport

        return NatsTransport(hub, name=name)
    if scheme in ("http", "https"):
        from storewatch.sync.http import HttpTransport

        secret = secret or os.environ.get(SECRET_ENV, "")
        if len(secret) < 16:
            raise ConfigError(f"--hub {hub}: HTTPS sync signs its requests; set ${SECRET_ENV} (16+ characters)")
        return HttpTransport(hub, secret)
    raise ConfigError(f"--hub {hub!r}: use nats://host:4222 (NATS JetStream) or https://hub/api/v1/sync")


class EdgeConfig:
    def __init__(self, database: Database, outbox: Outbox, base: SiteConfig, store: str) -> None:
        self.db, self.outbox, self.base, self.store = database, outbox, base, store
        self.version = 0
        self.rejected: set[int] = set()
        self.cameras = tuple(f"{store}/{c.id}" for s in base.stores if s.id == store for c in s.cameras if c.enabled)

    def load(self) -> SiteConfig:
        """The site to run: the stored version applied over the site file (the file alone if it no longer fits)."""
        with self.db.session() as session:
            row = session.get(EdgeConfigRow, self.store)
            if row is None:
                return self.base
            version, config = row.version, row.config
        try:
            site = apply_live(self.base, self.store, LiveConfig.model_validate(config))
        except (LiveConfigError, ValidationError) as exc:
            log.error("sync: stored configuration version %d no longer fits the site file: %s", version, exc)
            with self.db.write_session() as session:
                stored = session.get(EdgeConfigRow, self.store)
                if stored is not None:
                    stored.error = str(exc)[:2000]
            return self.base
        self.version = version
        return site

    def acknowledge_start(self) -> None:
        self.outbox.add([self._ack(ConfigAck(version=self.version, cameras=self.cameras))])

    def offer(self, version: ConfigVersion, apply: Callable[[SiteConfig], None]) -> None:
        """Apply a pushed version if it is newer and fits; acknowledge either way (once per refused version)."""
        if version.version <= self.version or version.version in self.rejected or version.store != self.store:
            return
        try:
            site = apply_live(self.base, self.store, version.config)
        except LiveConfigError as exc:
            self.rejected.add(version.version)
            log.error("sync: configuration version %d refused: %s", version.version, exc)
            ack = ConfigAck(version=self.version, received=version.version, ok=False, error=str(exc)[:2000],
                            cameras=self.cameras)  # fmt: skip
            self.outbox.add([self._ack(ack)])
            return
        apply(site)
        self.version = version.version
        log.info("sync: running configuration version %d", version.version)
        ack = ConfigAck(version=version.version, received=version.version, cameras=self.cameras)
        with self.outbox.transaction() as session:
            self._store(session, version)
            self.outbox.add([self._ack(ack)], session)

    def _store(self, session: Session, version: ConfigVersion) -> None:
        row = session.get(EdgeConfigRow, self.store)
        if row is None:
            row = EdgeConfigRow(store=self.store)
            session.add(row)
        row.version, row.config = version.version, version.config.model_dump(mode="json", exclude_none=True)
        row.received_utc = row.applied_utc = utcnow()
        row.error = None

    def _ack(self, ack: ConfigAck) -> Outgoing:
        return Outgoing(Kind.CONFIG_ACK, self.store, None, ack.model_dump(mode="json"))


class EdgeSync:
    """``RunHooks`` that make ``storewatch run`` an edge of the hub at ``hub``."""

    def __init__(
        self,
        hub: str,
        *,
        store: str | None = None,
        transport: Callable[[str], Transport] = open_transport,
        drain_s: float = 5.0,
    ) -> None:
        self.hub, self.store_id, self.drain_s = hub, store, drain_s
        self._open_transport = transport
        self.base: SiteConfig | None = None
        self.database: Database | None = None
        self.outbox: Outbox | None = None
        self.config: EdgeConfig | None = None
        self.publisher: Publisher | None = None
        self.incidents: IncidentFeed | None = None
        self.alerts: AlertFeed | None = None
        self.media: MediaResponder | None = None
        self.commands: CommandResponder | None = None
        self.transport: Transport | None = None

    def site(self, site: SiteConfig) -> SiteConfig:
        try:
            self.base = select_store(site, self.store_id)
        except LiveConfigError as exc:
            raise ConfigError(str(exc)) from None
        self.store_id = self.base.stores[0].id
        self.transport = self._open_transport(self.hub)  # a wrong --hub fails before the cameras start
        return self.base

    def before_start(self, runner: SiteRunner) -> None:
        assert self.base is not None and self.store_id is not None and self.transport is not None, "site() first"
        self.database = open_database(runner.site.runtime.database_url or default_url(runner.data_dir))
        upgrade(self.database)
        self.outbox = Outbox(self.database)
        self.config = EdgeConfig(self.database, self.outbox, self.base, self.store_id)
        site = self.config.load()
        if self.config.version:
            runner.reconfigure(site)
        config = self.config
        self.publisher = Publisher(self.outbox, self.transport, store=self.store_id,
                                   running_version=lambda: config.version,
                                   on_config=lambda version: config.offer(version, runner.reconfigure))  # fmt: skip
        runner.stored_listeners.append(EventFeed(self.outbox, wake=self.publisher.wake))
        self.incidents = IncidentFeed(self.database, self.outbox, self.store_id, wake=self.publisher.wake)
        self.alerts = AlertFeed(self.database, self.outbox, self.store_id, wake=self.publisher.wake)
        link = getattr(self.transport, "link", None)
        if link is not None:  # HTTPS sync: clips stay reachable only through a bucket (runtime.media)
            from storewatch.sync.commands import CommandResponder
            from storewatch.sync.media import MediaResponder

            self.media = MediaResponder(link, self.store_id, runner.evidence.root,
                                        protect_clips=runner.clips is not None, prepare=runner.clips)  # fmt: skip
            self.commands = CommandResponder(link, self.store_id, self.database)

    def after_start(self, runner: SiteRunner) -> None:
        assert self.config is not None and self.publisher is not None and self.incidents is not None
        assert self.alerts is not None
        self.config.acknowledge_start()
        self.publisher.start()
        self.incidents.start()
        self.alerts.start()
        if self.media is not None:
            self.media.start()
        if self.commands is not None:
            self.commands.start()

    def after_stop(self, runner: SiteRunner) -> None:
        if self.media is not None:
            self.media.stop()
        if self.commands is not None:
            self.commands.stop()
        if self.incidents is not None:
            self.incidents.stop()
        if self.alerts is not None:
            self.alerts.stop()
        if self.publisher is not None and not self.publisher.stop(self.drain_s):
            log.warning("sync: messages left in the outbox are sent at the next start")
        if self.transport is not None:
            self.transport.close()
        if self.database is not None:
            self.database.close()

    def describe(self) -> str:
        version = self.config.version if self.config is not None else 0
        return f"store {self.store_id} syncing to {safe_hub_url(self.hub)} (configuration version {version})"


def safe_hub_url(url: str) -> str:
    """``url`` without the user and password it may carry, for messages.

    >>> safe_hub_url("nats://edge:secret@hub.local:4222")
    'nats://hub.local:4222'
    """
    parts = urlsplit(url)
    return urlunsplit(parts._replace(netloc=parts.netloc.rsplit("@", 1)[-1]))
