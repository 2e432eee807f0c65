"""Incidents stored and changed through the repository and built by the service, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from storewatch.core.events import Event, EventState, Severity
from storewatch.incidents.config import IncidentsConfig
from storewatch.incidents.service import IncidentService
from storewatch.incidents.workflow import Incident, IncidentState, TransitionError
from storewatch.store.db import Database
from storewatch.store.events import EventRepository
from storewatch.store.incidents import IncidentNotFoundError, IncidentRepository
from storewatch.store.models import CustodyAction
from tests.store.conftest import T0, make_event


def stored(db: Database, *events: Event) -> list[Event]:
    EventRepository(db).upsert_many(events)
    return list(events)


def test_an_incident_round_trips_with_its_timeline_links_and_loss(database: Database) -> None:
    repo = IncidentRepository(database)
    [e1, e2] = stored(database, make_event(1), make_event(2))
    case = Incident.open("i1", "s1", T0, "loitering", camera="s1/c1", zone="electronics")
    case = case.with_event(e1.id, T0, "first").with_event(e2.id, T0, "second")
    case = case.assign("ana", T0, "bo").tag("ana", T0, add=("repeat", "electronics"))
    case = case.set_loss("ana", T0, 12999, "eur").note("ana", T0, "two items")
    repo.save(case)
    back = repo.get("i1")
    assert back == case
    assert back is not None and back.loss_minor == 12999 and back.currency == "EUR"
    assert [e.kind for e in back.timeline] == ["opened", "event", "event", "assigned", "tags", "loss", "note"]


def test_change_appends_only_new_timeline_entries_and_closes(database: Database) -> None:
    repo = IncidentRepository(database)
    repo.save(Incident.open("i1", "s1", T0, "walk out"))
    repo.change("i1", lambda i: i.move(IncidentState.INVESTIGATING, "ana", T0))
    done = repo.change("i1", lambda i: i.move(IncidentState.FALSE_ALARM, "ana", T0, reason="staff restocking"))
    back = repo.get("i1")
    assert back == done and back.false_alarm_reason == "staff restocking" and back.resolved == T0
    assert [e.kind for e in back.timeline] == ["opened", "investigating", "false_alarm"]
    with pytest.raises(TransitionError):
        repo.change("i1", lambda i: i.move(IncidentState.RESOLVED, "ana", T0))
    assert repo.list(state=IncidentState.FALSE_ALARM)[0].id == "i1"
    assert repo.list(state=IncidentState.OPEN) == []
    with pytest.raises(IncidentNotFoundError):
        repo.change("nope", lambda i: i)


def test_concurrent_changes_lose_nothing(database: Database) -> None:
    repo = IncidentRepository(database)
    repo.save(Incident.open("i1", "s1", T0, "crowding"))

    def annotate(who: str) -> None:
        for k in range(10):
            repo.change("i1", lambda i, text=f"{who} {k}": i.note(who, T0, text))

    threads = [threading.Thread(target=annotate, args=(w,)) for w in ("ana", "bo", "cy")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    back = repo.get("i1")
    assert back is not None
    assert sum(1 for e in back.timeline if e.kind == "note") == 30


def test_custody_is_appended_in_order(database: Database) -> None:
    repo = IncidentRepository(database)
    repo.save(Incident.open("i1", "s1", T0, "x"))
    repo.record_custody("i1", "storewatch", CustodyAction.CREATED)
    repo.record_custody("i1", "ana", CustodyAction.VIEWED, {"what": "clip"})
    repo.record_custody("i1", "ana", CustodyAction.EXPORTED, {"sha256": "ab"})
    trail = repo.custody("i1")
    assert [(c["action"], c["actor"]) for c in trail] == [("created", "storewatch"), ("viewed", "ana"),
                                                          ("exported", "ana")]  # fmt: skip
    assert trail[1]["what"] == "clip"
    with pytest.raises(IncidentNotFoundError):
        repo.record_custody("nope", "ana", CustodyAction.VIEWED)


def service(database: Database, **config: object) -> IncidentService:
    return IncidentService(database, IncidentsConfig.model_validate(config))


def feed(svc: IncidentService, db: Database, *events: Event) -> None:
    for e in stored(db, *events):
        svc.handle(e)


def test_service_groups_events_and_records_evidence_end_and_acknowledgement(database: Database) -> None:
    svc = service(database)
    a = make_event(1, zone="electronics", track_ids=("s1/c1/4",))
    b = make_event(30, type_="behaviour.concealment", track_ids=("s1/c1/4",), severity=Severity.HIGH)
    c = make_event(40, camera="s1/c2", zone="tills")
    feed(svc, database, a, b, c)
    repo = svc.repository
    cases = repo.list()
    assert len(cases) == 2 and svc.opened == 2
    first = next(i for i in cases if a.id in i.event_ids)
    assert first.event_ids == (a.id, b.id) and first.camera == "s1/c1" and first.zone == "electronics"
    assert [x["action"] for x in repo.custody(first.id)] == ["created"]
    feed(svc, database, a.with_evidence(snapshot="/m/e1.jpg").model_copy(update={"state": EventState.UPDATED}))
    feed(svc, database, a.end(T0 + timedelta(seconds=61)))
    ack = Event.start("alert_acknowledged", a.camera, T0 + timedelta(seconds=70), "alert acknowledged by ana",
                      severity=Severity.INFO, values={"event_id": a.id, "by": "ana"})  # fmt: skip
    feed(svc, database, ack)
    back = repo.get(first.id)
    assert back is not None and back.state == IncidentState.ACKNOWLEDGED
    kinds = [e.kind for e in back.timeline]
    assert kinds == ["opened", "event", "event", "evidence", "event_ended", "acknowledged"]
    assert "snapshot saved" in back.timeline[3].text and "after 60 s" in back.timeline[4].text
    assert back.timeline[-1].actor == "ana"
    # a replayed message adds nothing
    feed(svc, database, a.with_evidence(snapshot="/m/e1.jpg").model_copy(update={"state": EventState.UPDATED}))
    assert repo.get(first.id) == back


def test_service_skips_unwanted_events_and_respects_a_case_closed_elsewhere(database: Database) -> None:
    svc = service(database, min_severity="high")
    feed(svc, database, make_event(1, type_="camera.offline", severity=Severity.CRITICAL))
    feed(svc, database, make_event(2, severity=Severity.MEDIUM))
    assert svc.repository.list() == []
    feed(svc, database, make_event(3, zone="door", severity=Severity.HIGH))
    [case] = svc.repository.list()
    svc.repository.change(case.id, lambda i: i.move(IncidentState.RESOLVED, "ana", T0))  # e.g. from the CLI
    feed(svc, database, make_event(4, zone="door", severity=Severity.HIGH))
    assert len(svc.repository.list()) == 2  # the resolved case was not extended


def test_grouping_carries_on_after_a_restart(database: Database) -> None:
    feed(service(database), database, make_event(1, track_ids=("s1/c1/9",)))
    later = service(database)
    later.start()
    try:
        later.submit(stored(database, make_event(50, type_="behaviour.walk_out", track_ids=("s1/c1/9",))))
        assert later.wait_idle(10)
    finally:
        later.stop()
    [case] = later.repository.list()
    assert case.event_ids == ("e1", "e50")


def test_a_malformed_incidents_section_is_refused() -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="window_s"):
        IncidentsConfig.model_validate({"window_s": -1})
    with pytest.raises(ValidationError, match="severity"):
        IncidentsConfig.model_validate({"min_severity": "urgent"})
