"""The hub applies edge messages idempotently (the same message twice stores once), keeps each stream's position
(gaps, late messages), its registry of stores and cameras, incidents whole (newer wins, waiting for their events)
and the configuration each store runs."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from storewatch.core.events import Event, Severity
from storewatch.incidents.workflow import Incident, IncidentState
from storewatch.store.db import Database
from storewatch.store.events import EventRepository
from storewatch.store.incidents import IncidentRepository
from storewatch.store.models import EventRow
from storewatch.sync.envelope import Envelope, Kind
from storewatch.sync.feed import event_payload
from storewatch.sync.ingest import Ingester, Outcome
from storewatch.sync.payloads import ConfigAck, IncidentPayload
from storewatch.sync.registry import Registry

T0 = datetime(2026, 3, 2, 12, tzinfo=UTC)


def envelope(kind: Kind, seq: int, payload: dict[str, Any], camera: str | None = "s1/door") -> Envelope:
    return Envelope(id=uuid.uuid4().hex, kind=kind, store="s1", camera=camera, seq=seq, created_utc=T0,
                    sent_utc=T0, payload=payload)  # fmt: skip


def event_message(seq: int, event: Event) -> Envelope:
    kind = Kind.HEALTH if event.type.startswith("camera.") else Kind.EVENT
    return envelope(kind, seq, event_payload(event), str(event.camera))


def test_the_same_message_twice_is_stored_once(database: Database) -> None:
    ingester = Ingester(database)
    started = Event.start("loitering", "s1/door", T0, "loitering 60 s", values={"dwell_s": 60.0})
    message = event_message(1, started)
    assert ingester.apply(message) == Outcome.APPLIED
    assert ingester.apply(message) == Outcome.LATE  # a redelivery: applied again, changes nothing, counted
    with database.session() as session:
        assert session.scalar(select(func.count()).select_from(EventRow)) == 1
    (stream,) = Registry(database).streams()
    assert (stream.camera, stream.last_seq, stream.received, stream.gaps, stream.late) == ("s1/door", 1, 1, 0, 1)


def test_a_late_message_never_undoes_a_newer_state(database: Database) -> None:
    ingester = Ingester(database)
    started = Event.start("loitering", "s1/door", T0, "loitering")
    ended = started.end(T0 + timedelta(minutes=2))
    ingester.apply(event_message(2, ended))
    ingester.apply(event_message(1, started))
    stored = EventRepository(database).get(started.id)
    assert stored is not None and stored.state.value == "ended" and stored.duration_s == 120.0
    (stream,) = Registry(database).streams()
    assert (stream.last_seq, stream.gaps, stream.late) == (2, 1, 1)  # seq 2 came first (a gap), then 1 late


def test_health_messages_keep_the_camera_registry(database: Database) -> None:
    ingester = Ingester(database)
    offline = Event.start("camera.offline", "s1/door", T0, "camera offline: no frames", severity=Severity.HIGH)
    ingester.apply(event_message(1, offline))
    (camera,) = Registry(database).cameras()
    assert (camera.camera, camera.health, camera.health_since_utc) == ("s1/door", "offline", T0)
    ingester.apply(event_message(2, offline.end(T0 + timedelta(minutes=3), "camera streaming again")))
    (camera,) = Registry(database).cameras()
    assert (camera.health, camera.health_reason) == ("ok", "camera streaming again")
    (store,) = Registry(database).stores()
    assert store.id == "s1" and store.config_running is None


def test_an_incident_waits_for_its_events_then_newer_copies_win(database: Database) -> None:
    ingester = Ingester(database)
    event = Event.start("loitering", "s1/door", T0, "loitering", severity=Severity.HIGH)
    opened = Incident.open("i1", "s1", T0, "loitering", camera="s1/door").with_event(event.id, T0, "loitering")
    acked = opened.move(IncidentState.ACKNOWLEDGED, "ana", T0 + timedelta(minutes=1))

    def incident_message(seq: int, incident: Incident) -> Envelope:
        return envelope(Kind.INCIDENT, seq, IncidentPayload.of(incident).model_dump(mode="json"), camera=None)

    assert ingester.apply(incident_message(1, opened)) == Outcome.WAIT  # its event is not at the hub yet
    assert IncidentRepository(database).get("i1") is None
    ingester.apply(event_message(1, event))
    assert ingester.apply(incident_message(1, opened)) == Outcome.APPLIED
    assert ingester.apply(incident_message(3, acked)) == Outcome.APPLIED
    assert ingester.apply(incident_message(2, opened)) == Outcome.LATE  # an older copy changes nothing
    stored = IncidentRepository(database).get("i1")
    assert stored is not None and stored.state == IncidentState.ACKNOWLEDGED and stored.event_ids == (event.id,)
    assert [e.kind for e in stored.timeline] == ["opened", "event", "acknowledged"]


def test_an_incident_whose_events_never_come_is_stored_without_them_when_it_may_not_wait(database: Database) -> None:
    ingester = Ingester(database)
    incident = Incident.open("i2", "s1", T0, "x").with_event("never-sent", T0, "x")
    message = envelope(Kind.INCIDENT, 1, IncidentPayload.of(incident).model_dump(mode="json"), camera=None)
    assert ingester.apply(message, may_wait=False) == Outcome.APPLIED
    stored = IncidentRepository(database).get("i2")
    assert stored is not None and stored.event_ids == ()


def test_a_configuration_acknowledgement_says_what_the_store_runs(database: Database) -> None:
    ingester = Ingester(database)
    ack = ConfigAck(version=3, received=4, ok=False, error="zone gone", cameras=("s1/door", "s1/till"))
    assert ingester.apply(envelope(Kind.CONFIG_ACK, 1, ack.model_dump(mode="json"), camera=None)) == Outcome.APPLIED
    (store,) = Registry(database).stores()
    assert (store.config_running, store.config_ok, store.config_error) == (3, False, "zone gone")
    assert [c.camera for c in Registry(database).cameras()] == ["s1/door", "s1/till"]


def test_an_invalid_payload_is_refused_and_counted(database: Database) -> None:
    ingester = Ingester(database)
    assert ingester.apply(envelope(Kind.EVENT, 1, {"type": "no id"})) == Outcome.REFUSED
    assert ingester.counts[("s1", "refused")] == 1
    assert Registry(database).streams() == []
