"""Deterrent actions end to end against real things on 127.0.0.1: an HTTP device, Mosquitto, a (fake) audio player
and the public-view monitors; every outcome read back from the action log in SQLite."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from storewatch.core.events import Severity
from storewatch.core.ids import CameraId
from storewatch.store.actions import ActionRecord, ActionStatus
from tests.actions.conftest import Device, FakePlayer, Harness, event, site_config
from tests.alerts.servers import Broker, free_port
from tests.alerts.test_mqtt import Subscriber
from tests.helpers import wait_for

DONE, FAILED, SKIPPED = ActionStatus.DONE, ActionStatus.FAILED, ActionStatus.SKIPPED
MakeHarness = Callable[..., Harness]
MakeDevice = Callable[..., Device]


def test_http_action_sends_the_configured_request(harness: MakeHarness, device: MakeDevice) -> None:
    lock = device(status=204)
    h = harness(site_config([{
        "kind": "http", "name": "lock", "method": "PUT", "url": f"{lock.url}/api/doors/back?state=locked",
        "headers": {"X-Site": "t"}, "secret_headers": {"Authorization": "Bearer 0123456789"},
        "body": {"reason": "${type_text} at ${camera}", "zone": "${zone}", "severity": "$severity", "n": 1},
        "expect_status": [200, 204], "when": {"types": ["restricted_area"], "min_severity": "high"},
    }]))  # fmt: skip
    e = event()
    h.bus.publish(e)
    [record] = h.wait_records("lock", 1)
    assert (record.status, record.outcome, record.kind) == (DONE, "HTTP 204", "http")
    assert record.event_id == e.id and record.camera == "s1/office" and record.duration_s is not None
    [req] = lock.requests
    assert (req.method, req.path) == ("PUT", "/api/doors/back?state=locked")
    assert json.loads(req.body) == {"reason": "Restricted area at s1/office", "zone": "safe", "severity": "high",
                                    "n": 1}  # fmt: skip
    assert req.headers["Authorization"] == "Bearer 0123456789" and req.headers["X-Site"] == "t"
    assert req.headers["Content-Type"].startswith("application/json")


def test_events_that_do_not_match_fire_nothing(harness: MakeHarness, device: MakeDevice) -> None:
    speaker = device()
    h = harness(site_config([{"kind": "http", "name": "speaker", "url": speaker.url, "cooldown_s": 0,
                              "when": {"types": ["restricted_area"], "min_severity": "high",
                                       "cameras": ["s1/office"]}}]))  # fmt: skip
    started = event()
    for e in (
        event(severity=Severity.MEDIUM),  # below min_severity
        event("loitering"),  # another type
        event(camera="s1/door"),  # another camera
        started.end(datetime(2026, 3, 2, 21, 6, tzinfo=UTC)),  # not a started message
        started,  # this one fires
    ):
        h.bus.publish(e)
    [record] = h.wait_records("speaker", 1)
    assert record.event_id == started.id and record.status == DONE
    time.sleep(0.3)  # nothing else arrives late (the bus is drained in order, so this is a margin, not a wait)
    assert len(h.records("speaker")) == 1 and len(speaker.requests) == 1


def test_an_unexpected_status_is_a_failure(harness: MakeHarness, device: MakeDevice) -> None:
    siren = device(status=500)
    h = harness(site_config([{"kind": "http", "name": "siren", "url": siren.url}]))
    h.bus.publish(event())
    [record] = h.wait_records("siren", 1)
    assert (record.status, record.outcome) == (FAILED, "HTTP 500, expected 2xx")


def test_mqtt_action_publishes_on_the_alert_channels_broker(harness: MakeHarness, broker: Broker) -> None:
    alerts = {"channels": [{"kind": "mqtt", "name": "ha", "host": "127.0.0.1", "port": broker.port,
                            "client_id": "shop-1", "timeout_s": 3}]}  # fmt: skip
    live = Subscriber(broker.port, "shop/#")
    try:
        h = harness(site_config([{"kind": "mqtt", "name": "relay", "channel": "ha", "topic": "shop/${store}/siren",
                                  "payload": '{"on": true, "zone": "${zone}"}', "qos": 1, "retain": True}],
                                alerts=alerts))  # fmt: skip
        h.bus.publish(event())
        [record] = h.wait_records("relay", 1)
        assert (record.status, record.outcome) == (DONE, "published to shop/s1/siren (QoS 1, retained)")
        wait_for(lambda: len(live.on("shop/s1/siren")) == 1)
        assert json.loads(live.on("shop/s1/siren")[0].payload) == {"on": True, "zone": "safe"}
    finally:
        live.close()
    later = Subscriber(broker.port, "shop/#")  # retained: a subscriber that comes later gets it too
    try:
        wait_for(lambda: len(later.on("shop/s1/siren")) == 1)
        assert later.on("shop/s1/siren")[0].retain
    finally:
        later.close()


def test_mqtt_action_with_the_broker_down_fails_and_says_why(harness: MakeHarness, tmp_path: Path) -> None:
    alerts = {"channels": [{"kind": "mqtt", "name": "ha", "host": "127.0.0.1", "port": free_port(), "timeout_s": 1}]}
    h = harness(site_config([{"kind": "mqtt", "name": "relay", "channel": "ha", "topic": "shop/siren"}],
                            alerts=alerts))  # fmt: skip
    h.bus.publish(event())
    [record] = h.wait_records("relay", 1)
    assert record.status == FAILED and "cannot connect" in record.outcome and "Connection refused" in record.outcome


def test_audio_action_plays_the_file_with_the_player(
    harness: MakeHarness, fake_player: FakePlayer, sound: Path
) -> None:
    h = harness(site_config([
        {"kind": "audio", "name": "chime", "file": str(sound), "player": [str(fake_player.command), "--quiet"]},
    ]))  # fmt: skip
    h.bus.publish(event())
    [record] = h.wait_records("chime", 1)
    assert record.status == DONE and record.outcome.startswith("played monitored.wav with ")
    assert [c["args"] for c in fake_player.calls()] == [["--quiet", str(sound)]]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--sleep", "30"], "still playing after 0.5 s: stopped"),
        (["--fail"], "exited with status 3: cannot open audio device default"),
    ],
)
def test_a_player_that_hangs_or_fails_is_a_failure(
    harness: MakeHarness, fake_player: FakePlayer, sound: Path, args: list[str], expected: str
) -> None:
    h = harness(site_config([{"kind": "audio", "name": "chime", "file": str(sound), "timeout_s": 0.5,
                              "player": [str(fake_player.command), *args]}]))  # fmt: skip
    h.bus.publish(event())
    [record] = h.wait_records("chime", 1)
    assert record.status == FAILED and expected in record.outcome
    [call] = fake_player.calls()
    with pytest.raises(ProcessLookupError):  # a stopped player does not linger
        os.kill(call["pid"], 0)


def test_pvm_action_shows_the_message_on_the_events_monitor(harness: MakeHarness) -> None:
    h = harness(site_config([{"kind": "pvm", "name": "screen", "message": "${type_text}: this area is monitored",
                              "detail": "Staff have been told.", "show_s": 60}]))  # fmt: skip
    e = event()
    h.bus.publish(e)
    [record] = h.wait_records("screen", 1)
    assert record.status == DONE and "on s1/office for 60 s" in record.outcome
    shown = h.monitors.state(CameraId("s1/office"))
    assert (shown.mode.value, shown.message, shown.detail) == (
        "message", "Restricted area: this area is monitored", "Staff have been told.")  # fmt: skip
    assert shown.event_id == e.id and shown.remaining_s is not None and 55 < shown.remaining_s <= 60
    assert h.monitors.state(CameraId("s1/door")).mode.value == "live"  # only the event's camera


def test_a_second_event_within_the_cooldown_is_skipped(harness: MakeHarness, device: MakeDevice) -> None:
    speaker = device()
    clock = [1000.0]
    h = harness(site_config([{"kind": "http", "name": "speaker", "url": speaker.url, "cooldown_s": 60}]),
                clock=lambda: clock[0])  # fmt: skip
    h.bus.publish(event())
    h.wait_records("speaker", 1)
    clock[0] += 20
    h.bus.publish(event())
    h.wait_records("speaker", 2)
    clock[0] += 41  # 61 s after the firing: the cool-down is over
    h.bus.publish(event())
    records = h.wait_records("speaker", 3)
    assert [r.status for r in records] == [DONE, SKIPPED, DONE]
    assert records[1].outcome == "cool-down: fired 20.0 s ago (cooldown_s 60)"
    assert len(speaker.requests) == 2


def test_outside_its_schedule_an_action_is_skipped(harness: MakeHarness, device: MakeDevice) -> None:
    speaker = device()
    now = [datetime(2026, 3, 2, 20, 30, tzinfo=UTC)]  # 21:30 in Berlin: before the night
    h = harness(site_config([
        {"kind": "http", "name": "night-speaker", "url": speaker.url, "schedule": "night", "cooldown_s": 0},
        {"kind": "pvm", "name": "never-screen", "schedule": "never"},
    ]), utcnow=lambda: now[0])  # fmt: skip
    h.bus.publish(event())
    h.wait_records("night-speaker", 1)
    now[0] = datetime(2026, 3, 2, 21, 30, tzinfo=UTC)  # 22:30 in Berlin: night
    h.bus.publish(event())
    records = h.wait_records("night-speaker", 2)
    assert [(r.status, r.outcome) for r in records] == [(SKIPPED, "outside schedule night"), (DONE, "HTTP 200")]
    assert [(r.status, r.outcome) for r in h.records("never-screen")] == [(SKIPPED, "outside schedule never")] * 2
    assert h.monitors.state(CameraId("s1/office")).mode.value == "live"


def test_a_device_that_is_down_or_hangs_fails_alone(harness: MakeHarness, device: MakeDevice) -> None:
    """Two workers, four actions: one device refuses connections, one hangs past its timeout; the speaker and the
    monitor are done at once all the same, and each failure is logged with its error."""
    hanging, speaker = device(delay_s=3.0), device()
    h = harness(site_config([
        {"kind": "http", "name": "hanging-siren", "url": hanging.url, "timeout_s": 1.0},
        {"kind": "http", "name": "lock", "url": f"http://127.0.0.1:{free_port()}/lock"},
        {"kind": "http", "name": "speaker", "url": speaker.url},
        {"kind": "pvm", "name": "screen"},
    ]), workers=2)  # fmt: skip
    published = time.monotonic()
    h.bus.publish(event())
    h.wait_records("speaker", 1)
    h.wait_records("screen", 1)
    quick = time.monotonic() - published
    hanging_records = h.records("hanging-siren")
    [siren] = h.wait_records("hanging-siren", 1)
    [lock] = h.records("lock")
    assert quick < 0.9 and hanging_records == []  # done while the siren still hung
    assert [r.status for r in (*h.records("speaker"), *h.records("screen"))] == [DONE, DONE]
    assert lock.status == FAILED and "cannot reach" in lock.outcome and "Connection refused" in lock.outcome
    assert siren.status == FAILED and "timed out" in siren.outcome
    assert siren.duration_s is not None and 0.9 < siren.duration_s < 2.5


def test_busy_and_full_queue_are_skipped_and_counted(harness: MakeHarness, device: MakeDevice) -> None:
    slow, fast = device(delay_s=1.5), device()
    h = harness(site_config([
        {"kind": "http", "name": "slow", "url": slow.url, "cooldown_s": 0, "when": {"types": ["first"]}},
        {"kind": "http", "name": "fast-1", "url": fast.url, "when": {"types": ["second"]}},
        {"kind": "http", "name": "fast-2", "url": fast.url, "when": {"types": ["second"]}},
    ]), workers=1, queue_size=1)  # fmt: skip
    h.bus.publish(event("first"))
    wait_for(lambda: len(slow.requests) == 1)  # the one worker is busy with the slow device now
    h.bus.publish(event("first"))  # its previous run has not finished
    h.bus.publish(event("second"))  # fast-1 waits in the queue; fast-2 finds the queue full
    assert [r.outcome for r in h.wait_records("slow", 1)] == ["busy: the previous run has not finished"]
    assert [(r.status, r.outcome) for r in h.wait_records("fast-2", 1)] == [
        (SKIPPED, "dropped: the action queue is full (1 waiting)")]  # fmt: skip
    assert [r.status for r in h.wait_records("fast-1", 1)] == [DONE]
    assert [r.status for r in h.wait_records("slow", 2)] == [DONE, SKIPPED]  # by time: the run began first
    stats = h.service.stats()
    assert (stats["dropped"], stats["done"], stats["skipped"], stats["failed"]) == (1, 2, 2, 0)


def test_a_failing_log_is_counted_and_actions_go_on(device: MakeDevice) -> None:
    from storewatch.actions.executor import build_executors
    from storewatch.actions.service import ActionService
    from storewatch.runtime.bus import EventBus

    class BrokenLog:
        def add(self, record: ActionRecord) -> ActionRecord:
            raise RuntimeError("database is locked")

    speaker = device()
    site = site_config([{"kind": "http", "name": "speaker", "url": speaker.url, "cooldown_s": 0}])
    bus = EventBus()
    service = ActionService(site, bus, BrokenLog(), build_executors(site.actions, site.alerts, None))
    service.start()
    try:
        bus.publish(event())
        wait_for(lambda: len(speaker.requests) == 1 and service.stats()["log_failures"] == 1)
        bus.publish(event())  # the first run has finished and been (not) logged: this one runs too
        wait_for(lambda: service.stats()["log_failures"] == 2)
    finally:
        service.stop()
    assert len(speaker.requests) == 2 and service.stats()["done"] == 2


def test_no_actions_no_thread_no_subscription(harness: MakeHarness) -> None:
    h: Any = harness(site_config([{"kind": "pvm", "name": "off", "enabled": False}]))
    assert h.service._threads == [] and "actions" not in h.bus.stats()
