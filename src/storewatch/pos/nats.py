"""POS transactions from NATS JetStream: publishers send each document (a POSLog, a JSON transaction or list, JSON
Lines or CSV) to a subject of ``pos.sources.nats.subjects`` (default ``pos.transactions.>``, e.g.
``pos.transactions.store-12``); the stream keeps them (``keep_days``) and a durable pull consumer reads them in
batches, so what is published while storewatch is down waits in the stream.

Each message is parsed and ingested like a file, then acknowledged, only then: its transactions are saved and
its unreadable records quarantined (``pos_quarantine``, with the subject and stream sequence as their source), so
an acknowledged message is never lost. When ingest fails for a reason outside the message (the database away),
that message and the rest of the batch are negatively acknowledged (delivered again) and ``step`` raises, so the
supervised worker (``storewatch.ingest.worker``) backs off and counts it; a message whose acknowledgement is lost
is delivered again and changes nothing (ingest is idempotent).

``step()`` is one fetch: the runner calls it from an ``IngestWorker``; ``storewatch pos nats`` runs it alone.
"""

from __future__ import annotations

import logging
from typing import Any

import nats.errors
import nats.js.errors
from nats.aio.msg import Msg
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy, RetentionPolicy, StorageType, StreamConfig

from storewatch.ingest.report import IngestCounts
from storewatch.pos.config import NatsSource
from storewatch.pos.formats import PosFormat, parse_bytes
from storewatch.pos.service import IngestReport, PosIngestService
from storewatch.sync.jetstream import NatsLink, NotConnectedError

log = logging.getLogger(__name__)


def message_format(config: NatsSource) -> PosFormat | None:
    """The configured format of every message (``jsonl`` is read as JSON), or None: sniffed."""
    if config.format is None:
        return None
    return PosFormat.JSON if config.format == "jsonl" else PosFormat(config.format)


class PosNatsSource:
    """``step()`` fetches up to ``batch`` messages (waiting at most ``fetch_timeout_s``), ingests and
    acknowledges each; ``close()`` ends the connection. ``counts``: messages done or with quarantined records."""

    def __init__(self, config: NatsSource, service: PosIngestService, fetch_timeout_s: float = 1.0) -> None:
        self.config, self.service, self.fetch_timeout_s = config, service, fetch_timeout_s
        self.counts = IngestCounts()
        self.last: IngestReport | None = None
        self._format = message_format(config)
        self._link: NatsLink | None = None
        self._sub: Any = None

    @property
    def name(self) -> str:
        return f"pos-nats:{self.config.stream}"

    def step(self) -> int:
        """One fetch; the number of messages stored and acknowledged."""
        link = self._connection()
        if not link.connected:
            raise NotConnectedError(f"NATS at {self.config.url} is not reachable (trying again in the background)")
        try:
            if self._sub is None:
                self._sub = link.run(self._subscribe)
            msgs: list[Msg] = link.run(self._fetch, self.fetch_timeout_s + 10.0)
        except (nats.errors.Error, TimeoutError, OSError):
            self._sub = None  # subscribe afresh next time (the server restarted, the consumer was removed)
            raise
        for i, msg in enumerate(msgs):
            try:
                report = self.ingest(msg)
            except Exception:
                self._nak(msgs[i:])
                raise
            link.run(msg.ack_sync)
            self.counts.add(report)
            self.last = report
        return len(msgs)

    def ingest(self, msg: Msg) -> IngestReport:
        """Parse and store one message (not acknowledged here)."""
        source = f"nats:{msg.subject}#{msg.metadata.sequence.stream}"
        report = self.service.ingest(parse_bytes(bytes(msg.data), self._format, source, self.service.tz), source)
        for q in report.quarantined[:20]:
            log.warning("pos nats: quarantined: %s", q)
        return report

    def close(self) -> None:
        if self._link is not None:
            self._link.close()
            self._link, self._sub = None, None

    def _connection(self) -> NatsLink:
        if self._link is None:
            self._link = NatsLink(self.config.url, name=f"storewatch-{self.config.durable}")
            self._link.wait_connected(min(5.0, self.fetch_timeout_s * 5))
        return self._link

    def _nak(self, msgs: list[Msg]) -> None:
        link = self._link
        for msg in msgs:
            try:
                if link is not None:
                    link.run(msg.nak)
            except (nats.errors.Error, TimeoutError, OSError, NotConnectedError):
                break  # not acknowledged either way: delivered again after ack_wait_s

    async def _subscribe(self) -> Any:
        assert self._link is not None
        js, cfg = self._link.js, self.config
        stream = StreamConfig(name=cfg.stream, subjects=list(cfg.subjects), storage=StorageType.FILE,
                              retention=RetentionPolicy.LIMITS, max_age=cfg.keep_days * 86400.0)  # fmt: skip
        try:
            await js.add_stream(stream)
        except nats.js.errors.BadRequestError as exc:  # exists with other settings: used as it is
            log.warning("pos nats: stream %s exists with other settings (%s); using it", cfg.stream, exc)
        consumer = ConsumerConfig(durable_name=cfg.durable, ack_policy=AckPolicy.EXPLICIT,
                                  deliver_policy=DeliverPolicy.ALL, ack_wait=cfg.ack_wait_s,
                                  max_ack_pending=max(1000, cfg.batch * 2))  # fmt: skip
        try:
            await js.add_consumer(cfg.stream, consumer)
        except nats.js.errors.BadRequestError as exc:
            log.warning("pos nats: consumer %s exists with other settings (%s); using it", cfg.durable, exc)
        return await js.pull_subscribe_bind(durable=cfg.durable, stream=cfg.stream)

    async def _fetch(self) -> list[Msg]:
        try:
            msgs: list[Msg] = await self._sub.fetch(self.config.batch, timeout=self.fetch_timeout_s)
        except nats.errors.TimeoutError:
            return []
        return msgs
