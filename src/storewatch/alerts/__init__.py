"""Alerts in seconds: deliver each event to webhooks, MQTT (with Home Assistant discovery), e-mail and ntfy.

``AlertMessage.from_event(event, snapshot_url=..., clip_url=..., ack_url=...)`` makes the message;
``build_deliverer(load_alerts_config(data))`` makes the ``Deliverer`` that sends it to every configured channel,
with retries, a dead-letter list and a ``DeliveryLog`` of every attempt.

>>> cfg = load_alerts_config({"channels": [{"kind": "ntfy", "name": "phones", "topic": "shop-1"}]})
>>> type(build_sender(cfg.channels[0])).__name__
'NtfySender'
"""

from __future__ import annotations

from storewatch.alerts.config import (
    AlertsConfig,
    ChannelConfig,
    EmailChannel,
    MqttChannel,
    NtfyChannel,
    RetryPolicy,
    WebhookChannel,
    load_alerts_config,
)
from storewatch.alerts.delivery import Deliverer, DeliveryCounts, DeliveryError, Route, Sender
from storewatch.alerts.log import Attempt, Delivery, DeliveryLog, DeliveryStatus, InMemoryDeliveryLog
from storewatch.alerts.message import SCHEMA, AlertLinks, AlertMessage


def build_sender(config: ChannelConfig) -> Sender:
    """The sender of one configured channel (no connection is made until the first alert)."""
    from storewatch.alerts.mail import EmailSender
    from storewatch.alerts.mqtt import MqttSender
    from storewatch.alerts.ntfy import NtfySender
    from storewatch.alerts.webhook import WebhookSender

    match config:
        case WebhookChannel():
            return WebhookSender(config)
        case EmailChannel():
            return EmailSender(config)
        case NtfyChannel():
            return NtfySender(config)
        case MqttChannel():
            return MqttSender(config)


def build_deliverer(config: AlertsConfig, log: DeliveryLog | None = None, inbox_size: int = 1000) -> Deliverer:
    """A (not yet started) ``Deliverer`` for every channel of ``config``."""
    routes = [Route(c.name, build_sender(c), c.retry, c.min_severity) for c in config.channels]
    return Deliverer(routes, log, inbox_size=inbox_size)


__all__ = [
    "SCHEMA",
    "AlertLinks",
    "AlertMessage",
    "AlertsConfig",
    "Attempt",
    "ChannelConfig",
    "Deliverer",
    "Delivery",
    "DeliveryCounts",
    "DeliveryError",
    "DeliveryLog",
    "DeliveryStatus",
    "EmailChannel",
    "InMemoryDeliveryLog",
    "MqttChannel",
    "NtfyChannel",
    "RetryPolicy",
    "Route",
    "Sender",
    "WebhookChannel",
    "build_deliverer",
    "build_sender",
    "load_alerts_config",
]
