"""MQTT against a real Mosquitto on 127.0.0.1: alert JSON per store/camera/type, Home Assistant discovery (retained),
ON/OFF state, a broker restart, and a refused login."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from storewatch.alerts import Deliverer, DeliveryError, DeliveryStatus, InMemoryDeliveryLog, MqttChannel, Route
from storewatch.alerts.mqtt import MqttSender
from storewatch.core.events import EventState
from tests.alerts.conftest import FAST, make_event, make_message
from tests.alerts.servers import Broker
from tests.helpers import wait_for

ALERT_TOPIC = "storewatch/store-1/door/camera.tampering.blocked"
DISCOVERY_TOPIC = "homeassistant/binary_sensor/storewatch_store-1_door_camera_tampering_blocked/config"


class Subscriber:
    """A plain paho client that records every message it sees on ``topics``."""

    def __init__(self, port: int, *topics: str) -> None:
        self.messages: list[mqtt.MQTTMessage] = []
        self._lock = threading.Lock()
        self._subscribed = threading.Event()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"test-{uuid.uuid4().hex[:8]}")
        self.client.on_message = lambda c, u, m: self._keep(m)
        self.client.on_subscribe = lambda *a: self._subscribed.set()
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()
        self.client.subscribe([(t, 1) for t in topics])
        assert self._subscribed.wait(5), "no SUBACK"

    def _keep(self, m: mqtt.MQTTMessage) -> None:
        with self._lock:
            self.messages.append(m)

    def on(self, topic: str) -> list[mqtt.MQTTMessage]:
        with self._lock:
            return [m for m in self.messages if m.topic == topic]

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Broker]:
    b = Broker(tmp_path).start()
    yield b
    b.stop()


def mqtt_channel(port: int, **over: object) -> MqttChannel:
    return MqttChannel.model_validate({"name": "ha", "host": "127.0.0.1", "port": port, "timeout_s": 3, **over})


def test_alert_discovery_and_state(broker: Broker) -> None:
    sub = Subscriber(broker.port, "storewatch/#", "homeassistant/#")
    log = InMemoryDeliveryLog()
    started, ended = make_message(), make_message(make_event(state=EventState.ENDED))
    try:
        with Deliverer([Route("ha", MqttSender(mqtt_channel(broker.port)), FAST)], log) as d:
            ids = d.submit(started)
            wait_for(lambda: len(sub.on(f"{ALERT_TOPIC}/state")) == 1)
            ids += d.submit(ended)
            wait_for(lambda: len(sub.on(f"{ALERT_TOPIC}/state")) == 2)
        assert [getattr(log.get(i), "status", None) for i in ids] == [DeliveryStatus.DELIVERED] * 2
        [config] = sub.on(DISCOVERY_TOPIC)  # announced once
        discovery = json.loads(config.payload)
        assert discovery["state_topic"] == f"{ALERT_TOPIC}/state" and discovery["json_attributes_topic"] == ALERT_TOPIC
        assert discovery["unique_id"] == "storewatch_store-1_door_camera_tampering_blocked"
        assert (discovery["payload_on"], discovery["payload_off"], discovery["device_class"]) == (
            "ON",
            "OFF",
            "problem",
        )
        assert discovery["device"]["identifiers"] == ["storewatch_store-1_door"]
        alerts = sub.on(ALERT_TOPIC)
        assert [json.loads(m.payload)["state"] for m in alerts] == ["started", "ended"]
        assert json.loads(alerts[0].payload) == started.payload() and alerts[0].qos == 1
        assert [m.payload for m in sub.on(f"{ALERT_TOPIC}/state")] == [b"ON", b"OFF"]
    finally:
        sub.close()
    late = Subscriber(broker.port, "#")  # Home Assistant starting later still finds the sensor and its state
    try:
        wait_for(lambda: len(late.on(DISCOVERY_TOPIC)) == 1 and len(late.on(f"{ALERT_TOPIC}/state")) == 1)
        assert late.on(DISCOVERY_TOPIC)[0].retain and late.on(f"{ALERT_TOPIC}/state")[0].payload == b"OFF"
        assert late.on(ALERT_TOPIC) == []  # the alert itself is not retained
    finally:
        late.close()


def test_broker_restart_loses_nothing(broker: Broker) -> None:
    log = InMemoryDeliveryLog()
    sender = MqttSender(mqtt_channel(broker.port))
    with Deliverer([Route("ha", sender, FAST)], log) as d:
        [first] = d.submit(make_message())
        wait_for(lambda: getattr(log.get(first), "status", None) is DeliveryStatus.DELIVERED)
        broker.stop()
        [second] = d.submit(make_message(make_event(state=EventState.ENDED)))
        wait_for(lambda: len(log.attempts(second)) >= 2)
        broker.start()  # persistence is off: the retained discovery config is gone, so it must be sent again
        sub = Subscriber(broker.port, "#")
        try:
            wait_for(lambda: getattr(log.get(second), "status", None) is DeliveryStatus.DELIVERED, timeout_s=15)
            wait_for(lambda: len(sub.on(DISCOVERY_TOPIC)) == 1 and len(sub.on(f"{ALERT_TOPIC}/state")) == 1)
            assert sub.on(f"{ALERT_TOPIC}/state")[0].payload == b"OFF"
        finally:
            sub.close()
    assert not log.attempts(second)[0].ok and "not connected" in (log.attempts(second)[0].error or "")


def test_refused_login_is_permanent_and_broker_down_is_not(tmp_path: Path) -> None:
    closed = Broker(tmp_path, anonymous=False).start()
    try:
        with pytest.raises(DeliveryError) as info:
            MqttSender(mqtt_channel(closed.port, username="sw", password="nope")).send(make_message(), "d1")
        assert info.value.permanent and "connection refused" in str(info.value) and "nope" not in str(info.value)
    finally:
        closed.stop()
    with pytest.raises(DeliveryError) as info:
        MqttSender(mqtt_channel(closed.port)).send(make_message(), "d1")
    assert not info.value.permanent and "cannot connect" in str(info.value)
