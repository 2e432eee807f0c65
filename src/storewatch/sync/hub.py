"""The hub's NATS side: the durable consumer that feeds the ingester, and publishing configuration versions.

``HubService`` reads ``STOREWATCH_SYNC`` through the durable pull consumer ``storewatch-hub`` in batches of
``batch``, in order (so each camera's stream is applied in order): runs of events, health, alerts, thumbnails and
acknowledgements together in two transactions a run (``Ingester.apply_run``: catching up after an outage is
bounded by the database's commits, not by the messages), incidents one by one; it acknowledges a message only
after the ingester committed it. What happens on each failure:

* NATS away: the connection reconnects in the background; the consumer and the messages are in the server's
  file storage and delivery resumes where it stopped.
* the database away (a transient error): the same message is retried with backoff, the server told it is still
  in progress, and nothing behind it is applied meanwhile; stopping then leaves it unacknowledged (redelivered).
* an incident naming events not here yet: ``nak`` with a delay; from the ``wait_deliveries``-th delivery on it is
  applied without the missing links.
* a message that is not a valid envelope, or that the database refuses for good: logged, counted, terminated.

Every ``republish_every_s`` the newest configuration version of each store is checked against the configuration
stream and published again when missing (a version pushed while NATS was away, or a server that lost its state).
``publish_config`` is the one call that sends a version (also used by ``storewatch hub config``).
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections import Counter
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import nats.errors
import nats.js.errors
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from sqlalchemy.exc import SQLAlchemyError

from storewatch.runtime.backoff import Backoff
from storewatch.store.db import Database
from storewatch.store.events import is_transient
from storewatch.sync.envelope import SOLO_KINDS, Envelope, EnvelopeError
from storewatch.sync.ingest import Ingester, Outcome
from storewatch.sync.jetstream import (
    CONFIG_STREAM,
    HUB_CONSUMER,
    MSG_ID_HEADER,
    SYNC_STREAM,
    NatsLink,
    config_subject,
    ensure_streams,
)
from storewatch.sync.live_config import ConfigVersion, LiveConfigError
from storewatch.sync.registry import ConfigVersions

log = logging.getLogger(__name__)


async def publish_config(js: JetStreamContext, version: ConfigVersion) -> None:
    """Put ``version`` on its store's configuration subject (de-duplicated by store and version)."""
    headers = {MSG_ID_HEADER: f"config-{version.store}-{version.version}"}
    await js.publish(config_subject(version.store), version.to_json(), headers=headers)


async def published_version(js: JetStreamContext, store: str) -> int:
    """The version on the store's configuration subject now (0: none)."""
    try:
        msg = await js.get_last_msg(CONFIG_STREAM, config_subject(store))
        return ConfigVersion.parse(msg.data or b"").version
    except (nats.js.errors.NotFoundError, LiveConfigError):
        return 0


class HubService:
    def __init__(
        self,
        database: Database,
        nats_url: str,
        *,
        batch: int = 100,
        report: Callable[[str], None] | None = None,
        report_every_s: float = 5.0,
        republish_every_s: float = 10.0,
        media_dir: Path | None = None,
        wait_deliveries: int = 10,
    ) -> None:
        self.db, self.nats_url = database, nats_url
        self.ingester = Ingester(database, media_dir)
        self.configs = ConfigVersions(database)
        self.batch, self.report, self.report_every_s = batch, report, report_every_s
        self.republish_every_s, self.wait_deliveries = republish_every_s, wait_deliveries
        self.errors = 0
        self._stopping = threading.Event()
        self._link: NatsLink | None = None
        self._task: Future[None] | None = None
        self._reported: Counter[tuple[str, str]] = Counter()

    def start(self) -> None:
        self._link = NatsLink(self.nats_url, name="storewatch-hub")
        self._task = self._link.spawn(self._consume(self._link))

    def stop(self, timeout_s: float = 10.0) -> None:
        """Finish the message in hand (a batch's remaining messages stay unacknowledged: redelivered), stop."""
        self._stopping.set()
        if self._task is not None:
            try:
                self._task.result(timeout_s)
            except Exception:
                self._task.cancel()
        if self._link is not None:
            self._link.close()

    async def _consume(self, link: NatsLink) -> None:
        sub: Any = None
        backoff = Backoff(initial_s=0.5, max_s=5.0)
        loop = asyncio.get_running_loop()
        next_republish = next_report = 0.0
        while not self._stopping.is_set():
            if not link.connected:
                await asyncio.sleep(0.2)
                continue
            try:
                if sub is None:
                    await ensure_streams(link.js)
                    sub = await self._subscribe(link.js)
                    log.info("hub: consuming %s as %s", SYNC_STREAM, HUB_CONSUMER)
                if loop.time() >= next_republish:
                    next_republish = loop.time() + self.republish_every_s
                    await self._republish(link.js)
                try:
                    msgs = await sub.fetch(self.batch, timeout=1.0)
                except nats.errors.TimeoutError:
                    msgs = []
                await self._handle_all(msgs)
                backoff.reset()
            except (TimeoutError, nats.errors.Error, OSError) as exc:
                self.errors += 1
                log.warning("hub: NATS consumer trouble (%s: %s); starting it again", type(exc).__name__, exc)
                sub = None
                await asyncio.sleep(backoff.next_delay())
            except Exception:  # a bug must not end the hub's consumer: logged, the batch is redelivered
                self.errors += 1
                log.exception("hub: consuming failed; starting again")
                sub = None
                await asyncio.sleep(backoff.next_delay())
            if self.report is not None and loop.time() >= next_report:
                next_report = loop.time() + self.report_every_s
                self._report()

    @staticmethod
    async def _subscribe(js: JetStreamContext) -> Any:
        config = ConsumerConfig(durable_name=HUB_CONSUMER, ack_policy=AckPolicy.EXPLICIT,
                                deliver_policy=DeliverPolicy.ALL, ack_wait=60.0, max_ack_pending=1000)  # fmt: skip
        try:
            await js.add_consumer(SYNC_STREAM, config)
        except nats.js.errors.BadRequestError as exc:  # exists with other settings: use it
            log.warning("hub: consumer %s exists with other settings (%s)", HUB_CONSUMER, exc)
        return await js.pull_subscribe_bind(durable=HUB_CONSUMER, stream=SYNC_STREAM)

    async def _handle_all(self, msgs: list[Msg]) -> None:
        """Apply a fetched batch in order: runs of messages other than incidents together (``Ingester.apply_run``:
        two transactions a run), incidents (they may have to wait for their events) and erasures one by one."""
        run: list[tuple[Msg, Envelope]] = []
        for msg in msgs:
            if self._stopping.is_set():
                break  # the rest stay unacknowledged: delivered again to the next run
            try:
                env = Envelope.parse(msg.data)
            except EnvelopeError:
                env = None
            if env is not None and env.kind not in SOLO_KINDS:
                run.append((msg, env))
                continue
            await self._handle_run(run)
            run = []
            await self._handle(msg)
        if not self._stopping.is_set():
            await self._handle_run(run)

    async def _handle_run(self, run: list[tuple[Msg, Envelope]]) -> None:
        if len(run) <= 1:
            for msg, _ in run:
                await self._handle(msg)
            return
        backoff = Backoff(initial_s=0.2, max_s=5.0)
        attempt = 0
        while True:
            try:
                outcomes = await asyncio.to_thread(self.ingester.apply_run, [env for _, env in run])
                break
            except SQLAlchemyError as exc:
                if not is_transient(exc):  # one message the database refuses: find it, one by one
                    log.warning("hub: a run of %d messages refused by the database (%s); one by one", len(run), exc)
                    for msg, _ in run:
                        await self._handle(msg)
                    return
                if attempt % 10 == 0:
                    log.warning("hub: database unavailable (%s); retrying %d messages", type(exc).__name__, len(run))
                attempt += 1
                if self._stopping.is_set():
                    return  # unacknowledged: delivered again to the next run
                for msg, _ in run:
                    await msg.in_progress()
                await asyncio.sleep(backoff.next_delay())
        for (msg, _), outcome in zip(run, outcomes, strict=True):
            if outcome == Outcome.REFUSED:
                await msg.term()
            else:
                await msg.ack()

    async def _handle(self, msg: Msg) -> None:
        try:
            env = Envelope.parse(msg.data)
        except EnvelopeError as exc:
            log.error("hub: message on %s refused: %s", msg.subject, exc)
            await msg.term()
            return
        may_wait = msg.metadata.num_delivered < self.wait_deliveries
        backoff = Backoff(initial_s=0.2, max_s=5.0)
        attempt = 0
        while True:
            try:
                outcome = await asyncio.to_thread(self.ingester.apply, env, may_wait=may_wait)
                break
            except SQLAlchemyError as exc:
                if not is_transient(exc):
                    log.error("hub: message %s (%s from %s) refused by the database: %s", env.id, env.kind.value,
                              env.store, exc)  # fmt: skip
                    await msg.term()
                    return
                if attempt % 10 == 0:
                    log.warning("hub: database unavailable (%s); retrying message %s", type(exc).__name__, env.id)
                attempt += 1
                if self._stopping.is_set():
                    return  # unacknowledged: delivered again to the next run
                await msg.in_progress()
                await asyncio.sleep(backoff.next_delay())
        if outcome == Outcome.WAIT:
            await msg.nak(delay=2.0)
        elif outcome == Outcome.REFUSED:
            await msg.term()
        else:
            await msg.ack()

    async def _republish(self, js: JetStreamContext) -> None:
        try:
            versions = await asyncio.to_thread(self.configs.latest_all)
        except SQLAlchemyError as exc:
            log.warning("hub: configuration versions not read: %s", exc)
            return
        for version in versions:
            if await published_version(js, version.store) < version.version:
                await publish_config(js, version)
                log.info("hub: configuration version %d published to store %s", version.version, version.store)

    def _report(self) -> None:
        assert self.report is not None
        counts = self.ingester.counts.copy()
        new = counts - self._reported
        if not new:
            return
        self._reported = counts
        stores = sorted({store for store, _ in new})
        parts = [f"{store}: " + ", ".join(f"{n} {what}" for (s, what), n in sorted(new.items()) if s == store)
                 for store in stores]  # fmt: skip
        self.report("ingested " + "; ".join(parts))
