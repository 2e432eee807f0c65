"""The router and the alerts table: an acknowledgement made elsewhere (the dashboard, the API, another process)
stops the escalation; alerts waiting at a restart carry on escalating; a false alarm from the signed link closes a
one-event incident with its reason."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from storewatch.config.schema import SiteConfig
from storewatch.core.events import Event, Severity
from storewatch.core.ids import CameraId
from storewatch.incidents.service import IncidentService
from storewatch.incidents.workflow import IncidentState
from storewatch.runtime.alerting import Alerting
from storewatch.runtime.bus import EventBus
from storewatch.store import EventRepository, EventWriter, default_url, open_database, upgrade
from storewatch.store.alerts import AlertRepository
from storewatch.store.db import Database
from storewatch.store.incidents import IncidentRepository
from tests.alerts.servers import Receiver
from tests.helpers import wait_for


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver().start()
    yield r
    r.stop()


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = open_database(default_url(tmp_path))
    upgrade(database)
    yield database
    database.close()


def site(receiver: Receiver, escalate_after_s: float) -> SiteConfig:
    return SiteConfig.model_validate({
        "site": {"id": "t"},
        "stores": [{"id": "s1", "cameras": [{"id": "door", "source": "unused.mp4"}]}],
        "alerts": {"channels": [{"kind": "webhook", "name": n, "url": f"{receiver.url}/{n}", "secret": "w" * 24}
                                for n in ("first", "second")]},
        "routes": [{"name": "guards", "levels": [{"channels": ["first"]},
                                                 {"channels": ["second"], "after_s": escalate_after_s}]}],
    })  # fmt: skip


def received(receiver: Receiver, path: str) -> list[str]:
    return [json.loads(r.body)["event_id"] for r in list(receiver.requests) if r.path == f"/{path}"]


def walk_out() -> Event:
    return Event.start("walk_out", CameraId("s1/door"), datetime.now(UTC), "left with goods", severity=Severity.HIGH)


def test_an_acknowledgement_made_elsewhere_stops_the_escalation(receiver: Receiver, db: Database) -> None:
    bus = EventBus()
    alerting = Alerting(site(receiver, 2.5), bus, "http://127.0.0.1:1", b"k" * 32, database=db)
    alerting.start()
    try:
        event = walk_out()
        bus.publish(event)
        wait_for(lambda: received(receiver, "first") == [event.id], 10)
        [alert] = AlertRepository(db).list()
        AlertRepository(db).acknowledge(alert.id, "ana (dashboard)", datetime.now(UTC))  # another process
        time.sleep(4.0)
    finally:
        alerting.stop()
    assert received(receiver, "second") == []
    assert "acknowledged already" in alerting.acknowledge(alert.id)  # the signed link, later: nothing to do


def test_waiting_alerts_carry_on_escalating_after_a_restart(receiver: Receiver, db: Database) -> None:
    event = walk_out()
    EventRepository(db).upsert(event)  # stored by the writer in a real run
    first = Alerting(site(receiver, 3.0), EventBus(), "http://127.0.0.1:1", b"k" * 32, database=db)
    first.start()
    first.bus.publish(event)
    wait_for(lambda: received(receiver, "first") == [event.id], 10)
    first.stop()  # a restart, long before the 3 s escalation
    started = time.monotonic()
    second = Alerting(site(receiver, 3.0), EventBus(), "http://127.0.0.1:1", b"k" * 32, database=db)
    second.start()
    try:
        wait_for(lambda: received(receiver, "second") == [event.id], 10)
        assert time.monotonic() - started < 4.5
        second.bus.publish(event)  # the same event again (a replay) raises no second alert
        time.sleep(1.0)
    finally:
        second.stop()
    assert received(receiver, "first") == [event.id]
    [alert] = AlertRepository(db).list()
    assert alert.level == 1


def test_a_false_alarm_from_the_link_closes_a_one_event_incident(receiver: Receiver, db: Database) -> None:
    bus = EventBus()
    writer = EventWriter(bus, db)
    incidents = IncidentService(db)
    incidents.attach(writer)
    incidents.start()
    writer.start()
    alerting = Alerting(site(receiver, 60), bus, "http://127.0.0.1:1", b"k" * 32, database=db)
    alerting.start()
    try:
        event = walk_out()
        bus.publish(event)
        wait_for(lambda: bool(IncidentRepository(db).for_event(event.id)), 10)
        [alert] = AlertRepository(db).list()
        assert "false alarm" in alerting.acknowledge(alert.id, "guard-3", "a colleague carrying stock").lower()
        [incident_id] = IncidentRepository(db).for_event(event.id)
        wait_for(lambda: IncidentRepository(db).get(incident_id).state == IncidentState.FALSE_ALARM, 10)  # type: ignore[union-attr]
    finally:
        alerting.stop()
        writer.stop()
        incidents.stop()
    case = IncidentRepository(db).get(incident_id)
    assert case is not None and case.false_alarm_reason == "a colleague carrying stock"
    assert case.timeline[-1].actor == "guard-3"
