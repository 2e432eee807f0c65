"""MQTT actions: a command published on the broker of one of the alerts' MQTT channels.

The connection is the alerts' own set-up (``alerts.mqtt.MqttSender``: login, TLS, reconnect backoff, waiting for
the CONNACK, a refused login reported as such), made on the first command and kept. It is a connection of its own
beside the alerts' (the two must not share a client id: a broker drops the older session of a repeated id, so a
configured ``client_id`` gets ``-actions`` appended), without Home Assistant discovery.
"""

from __future__ import annotations

import threading

from storewatch.actions.config import MqttAction
from storewatch.actions.executor import ActionError
from storewatch.actions.template import event_fields, render
from storewatch.alerts.config import MqttChannel
from storewatch.alerts.delivery import DeliveryError
from storewatch.alerts.mqtt import MqttSender
from storewatch.core.events import Event


class MqttCommander(MqttSender):
    """Publishes commands to one broker; shared by the actions that name the same channel (thread-safe)."""

    def __init__(self, channel: MqttChannel) -> None:
        client_id = None if channel.client_id is None else f"{channel.client_id[:56]}-actions"
        super().__init__(channel.model_copy(update={"client_id": client_id, "discovery": False}))
        self._connecting = threading.Lock()

    def command(self, topic: str, payload: str, *, qos: int, retain: bool, timeout_s: float) -> None:
        """Publish and, for QoS 1 and 2, wait for the broker's acknowledgement; ``DeliveryError`` otherwise."""
        with self._connecting:
            client = self._connect()
        if not client.is_connected():
            raise DeliveryError(f"MQTT {self.config.host}:{self.config.port}: not connected (reconnecting)")
        info = client.publish(topic, payload, qos=qos, retain=retain)
        try:
            info.wait_for_publish(timeout_s)
        except (RuntimeError, ValueError) as exc:
            raise DeliveryError(f"MQTT publish to {topic}: {exc}") from None
        if not info.is_published():
            raise DeliveryError(f"MQTT publish to {topic}: not acknowledged within {timeout_s:g} s")


class MqttExecutor:
    def __init__(self, config: MqttAction, commander: MqttCommander) -> None:
        self.config = config
        self.commander = commander

    def run(self, event: Event) -> str:
        cfg = self.config
        fields = event_fields(event, cfg.name)
        topic = render(cfg.topic, fields)
        if any(c in topic for c in "#+\x00"):
            raise ActionError(f"topic {topic!r} (after the event's fields were put in) contains # or +")
        try:
            self.commander.command(
                topic, render(cfg.payload, fields), qos=cfg.qos, retain=cfg.retain, timeout_s=cfg.timeout_s
            )
        except DeliveryError as exc:
            raise ActionError(str(exc)) from None
        return f"published to {topic} (QoS {cfg.qos}{', retained' if cfg.retain else ''})"

    def close(self) -> None:
        self.commander.close()
