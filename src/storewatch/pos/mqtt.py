"""POS transactions from an MQTT broker: each message on the subscribed topic is one document (POSLog XML, a JSON
transaction or list, JSON Lines or CSV; ``format`` from ``pos.sources.mqtt``, else sniffed), parsed and ingested
like a file. The subscription is persistent (clean session off) at QoS 1 by default, so messages published while
the subscriber was away are delivered when it comes back; ingest is idempotent, so a redelivered message changes
nothing.

Messages are ingested in paho's network thread, one at a time: while one is written the broker holds the next
(paho acknowledges a QoS 1 message after its callback returns), so there is no queue here to overflow. A message
that cannot be read is quarantined (table ``pos_quarantine``) and logged; one whose ingest fails for a reason
outside it (the database is away) is logged and counted in ``failed``.
"""

from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.reasoncodes import ReasonCode
from sqlalchemy.exc import SQLAlchemyError

from storewatch.errors import StorewatchError
from storewatch.pos.config import MqttSource
from storewatch.pos.formats import PosFormat, parse_bytes
from storewatch.pos.service import IngestReport, PosIngestService

log = logging.getLogger(__name__)


@dataclass
class MqttCounts:
    messages: int = 0
    accepted: int = 0
    quarantined: int = 0
    failed: int = 0
    """Messages whose ingest failed for a reason outside them (the database)."""


class PosMqttSubscriber:
    """``start()`` connects and subscribes (raises ``StorewatchError`` when the broker cannot be reached or
    refuses), ``stop()`` disconnects. ``counts`` and ``last`` tell what came in."""

    def __init__(self, config: MqttSource, service: PosIngestService, connect_timeout_s: float = 10.0) -> None:
        self.config, self.service, self.timeout_s = config, service, connect_timeout_s
        self.counts = MqttCounts()
        self.last: IngestReport | None = None
        self.ingested = threading.Condition()
        self._client: mqtt.Client | None = None
        self._connected = threading.Event()
        self._refused: str | None = None
        self._format = (
            PosFormat.JSON if config.format == "jsonl" else (PosFormat(config.format) if config.format else None)
        )

    def start(self) -> PosMqttSubscriber:
        cfg = self.config
        client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=cfg.client_id, clean_session=False)
        if cfg.username is not None:
            client.username_pw_set(cfg.username, os.environ.get(cfg.password_env) if cfg.password_env else None)
        client.on_connect = self._on_connect
        client.on_message = self._on_message
        self._client = client
        try:
            client.connect(cfg.host, cfg.port)
        except OSError as exc:
            raise StorewatchError(f"MQTT {cfg.host}:{cfg.port}: cannot connect: {exc}") from None
        client.loop_start()
        if not self._connected.wait(self.timeout_s) or self._refused is not None:
            self.stop()
            raise StorewatchError(f"MQTT {cfg.host}:{cfg.port}: {self._refused or 'no answer to the connection'}")
        return self

    def stop(self) -> None:
        if self._client is not None:
            self._client.disconnect()
            self._client.loop_stop()
            self._client = None

    def _on_connect(self, client: mqtt.Client, userdata: Any, flags: Any, reason: ReasonCode, props: Any) -> None:
        if reason.is_failure:
            self._refused = f"connection refused: {reason}"
        else:
            client.subscribe(self.config.topic, qos=self.config.qos)  # again after every reconnection
        self._connected.set()

    def _on_message(self, client: mqtt.Client, userdata: Any, message: mqtt.MQTTMessage) -> None:
        source = f"mqtt:{message.topic}#{message.mid}"
        try:
            results = parse_bytes(bytes(message.payload), self._format, source, self.service.tz)
            report = self.service.ingest(results, source)
        except SQLAlchemyError as exc:
            log.warning("pos mqtt: %s: not ingested, the database is unavailable: %s", source, exc)
            with self.ingested:
                self.counts.failed += 1
                self.ingested.notify_all()
            return
        for q in report.quarantined:
            log.warning("pos mqtt: quarantined: %s", q)
        with self.ingested:
            self.counts.messages += 1
            self.counts.accepted += report.accepted
            self.counts.quarantined += len(report.quarantined)
            self.last = report
            self.ingested.notify_all()

    def wait_for(self, messages: int, timeout_s: float) -> bool:
        """Wait until ``messages`` messages were handled (for tests and ``--once``)."""
        with self.ingested:
            return self.ingested.wait_for(lambda: self.counts.messages + self.counts.failed >= messages, timeout_s)
