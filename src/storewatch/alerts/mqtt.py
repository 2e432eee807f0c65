"""MQTT alerts with Home Assistant discovery, through paho-mqtt 2.

Per alert, all QoS 1 and each waited for (PUBACK) within the channel's timeout:

1. once per camera and event type while connected: the Home Assistant discovery config of a ``binary_sensor``
   (device class ``problem``), retained, at
   ``<discovery_prefix>/binary_sensor/storewatch_<store>_<camera>_<type>/config``; the camera is the device, the
   alert JSON its attributes. It is sent again after every (re)connection and when
   Home Assistant announces ``online`` on ``<discovery_prefix>/status`` (it restarted and forgot);
2. the alert JSON (``AlertMessage.payload()``) at ``<topic_prefix>/<store>/<camera>/<type>`` (not retained);
3. the state, retained: ``ON`` when the event started or was updated, ``OFF`` when it ended, at the alert topic
   plus ``/state``.

The connection is made on the first alert and kept; paho reconnects in its network thread. A publish while
disconnected fails the attempt at once (the deliverer retries) instead of queueing inside paho, which would send
it again beside the retry. A refused login is permanent.

>>> from datetime import UTC, datetime
>>> from storewatch.core.events import Event
>>> t = datetime(2026, 1, 1, tzinfo=UTC)
>>> alert = AlertMessage.from_event(Event(id="e1", type="camera.tampering.moved", camera="s1/door-2",
...                                       explanation="view moved", start_utc=t))
>>> topics(MqttChannel(name="ha", host="127.0.0.1"), alert)
Topics(alert='storewatch/s1/door-2/camera.tampering.moved', state='storewatch/s1/door-2/camera.tampering.moved/state', \
discovery='homeassistant/binary_sensor/storewatch_s1_door-2_camera_tampering_moved/config', \
object_id='storewatch_s1_door-2_camera_tampering_moved')
"""

from __future__ import annotations

import json
import logging
import re
import threading
import uuid
from typing import Any, NamedTuple

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.reasoncodes import ReasonCode

from storewatch.alerts.config import MqttChannel
from storewatch.alerts.delivery import DeliveryError
from storewatch.alerts.message import AlertMessage, humanize_type
from storewatch.core.events import EventState

logger = logging.getLogger(__name__)

RECONNECT_MAX_S = 10
"""paho's reconnect backoff stops growing here (its default, 120 s, would outlast the retries of a delivery)."""
_TOPIC_UNSAFE = re.compile(r"[#+/\x00]")
_ID_UNSAFE = re.compile(r"[^a-zA-Z0-9_-]")


class Topics(NamedTuple):
    alert: str
    state: str
    discovery: str
    object_id: str


def topics(config: MqttChannel, message: AlertMessage) -> Topics:
    """Where ``message`` goes on this channel."""
    store, camera = (_TOPIC_UNSAFE.sub("_", s) for s in (message.store, message.camera_name))
    alert = f"{config.topic_prefix}/{store}/{camera}/{message.type}"
    object_id = _ID_UNSAFE.sub("_", f"storewatch_{store}_{camera}_{message.type}")
    discovery = f"{config.discovery_prefix}/binary_sensor/{object_id}/config"
    return Topics(alert, f"{alert}/state", discovery, object_id)


def discovery_config(message: AlertMessage, where: Topics) -> dict[str, Any]:
    """The Home Assistant MQTT discovery payload of the camera+type binary sensor."""
    device_id = _ID_UNSAFE.sub("_", f"storewatch_{message.store}_{message.camera_name}")
    return {
        "name": humanize_type(message.type),
        "unique_id": where.object_id,
        "state_topic": where.state,
        "payload_on": "ON",
        "payload_off": "OFF",
        "device_class": "problem",
        "json_attributes_topic": where.alert,
        "device": {"identifiers": [device_id], "name": f"Storewatch {message.camera}", "manufacturer": "storewatch"},
        "origin": {"name": "storewatch"},
    }


class MqttSender:
    """Sends alerts to one MQTT broker; the connection is opened on the first alert and kept."""

    def __init__(self, config: MqttChannel) -> None:
        self.config = config
        self._client: mqtt.Client | None = None
        self._connected = threading.Event()
        self._refused: ReasonCode | None = None
        self._announced: set[str] = set()
        self._lock = threading.Lock()

    def send(self, message: AlertMessage, delivery_id: str) -> None:
        client = self._connect()
        where = topics(self.config, message)
        if self.config.discovery and where.discovery not in self._snapshot_announced():
            self._publish(client, where.discovery, json.dumps(discovery_config(message, where)), retain=True)
            with self._lock:
                self._announced.add(where.discovery)
        self._publish(client, where.alert, message.to_json(), retain=False)
        state = "OFF" if message.state is EventState.ENDED else "ON"
        self._publish(client, where.state, state, retain=True)

    def _snapshot_announced(self) -> set[str]:
        with self._lock:
            return set(self._announced)

    def _publish(self, client: mqtt.Client, topic: str, payload: str | bytes, *, retain: bool) -> None:
        if not client.is_connected():
            raise DeliveryError(f"MQTT {self.config.host}:{self.config.port}: not connected (reconnecting)")
        info = client.publish(topic, payload, qos=1, retain=retain)
        try:
            info.wait_for_publish(self.config.timeout_s)
        except (RuntimeError, ValueError) as exc:
            raise DeliveryError(f"MQTT publish to {topic}: {exc}") from None
        if not info.is_published():
            raise DeliveryError(f"MQTT publish to {topic}: no PUBACK within {self.config.timeout_s}s")

    def _connect(self) -> mqtt.Client:
        if self._client is not None:
            return self._client
        cfg = self.config
        client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=cfg.client_id or f"storewatch-{uuid.uuid4().hex}")
        if cfg.username is not None:
            client.username_pw_set(cfg.username, cfg.password.get_secret_value() if cfg.password else None)
        if cfg.tls:
            client.tls_set(ca_certs=str(cfg.ca_file) if cfg.ca_file else None)
        client.reconnect_delay_set(min_delay=1, max_delay=RECONNECT_MAX_S)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        self._connected.clear()
        self._refused = None
        try:
            client.connect(cfg.host, cfg.port, keepalive=cfg.keepalive_s)
        except OSError as exc:
            raise DeliveryError(f"MQTT {cfg.host}:{cfg.port}: cannot connect: {exc}") from None
        client.loop_start()
        if not self._connected.wait(cfg.timeout_s) or self._refused is not None:
            refused = self._refused
            client.disconnect()  # first, so the network thread stops at once instead of waiting to reconnect
            client.loop_stop()
            if refused is not None:
                raise DeliveryError(f"MQTT {cfg.host}:{cfg.port}: connection refused: {refused}", permanent=True)
            raise DeliveryError(f"MQTT {cfg.host}:{cfg.port}: no CONNACK within {cfg.timeout_s}s")
        self._client = client
        return client

    def _on_connect(self, client: mqtt.Client, userdata: Any, flags: Any, reason: ReasonCode, props: Any) -> None:
        if reason.is_failure:
            self._refused = reason
        else:
            with self._lock:
                self._announced.clear()  # the broker may have lost the retained configs: announce again
            if self.config.discovery:
                client.subscribe(f"{self.config.discovery_prefix}/status", qos=1)
        self._connected.set()

    def _on_disconnect(self, client: mqtt.Client, userdata: Any, flags: Any, reason: ReasonCode, props: Any) -> None:
        if reason.is_failure and self._client is not None:
            logger.warning("MQTT channel %s: disconnected (%s); reconnecting", self.config.name, reason)

    def _on_message(self, client: mqtt.Client, userdata: Any, msg: mqtt.MQTTMessage) -> None:
        if msg.payload == b"online":
            with self._lock:
                self._announced.clear()

    def close(self) -> None:
        if self._client is not None:
            self._client.disconnect()
            self._client.loop_stop()
            self._client = None
