"""Incident grouping and workflow."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from storewatch.core.events import Event
from storewatch.incidents.grouping import Grouper
from storewatch.incidents.workflow import Incident, IncidentState, TransitionError

T = datetime(2026, 3, 2, 12, tzinfo=UTC)


def ev(type_: str, camera: str, dt_s: float, zone: str | None = None, tracks: tuple[str, ...] = ()) -> Event:
    return Event.start(type_, camera, T + timedelta(seconds=dt_s), f"{type_} seen", zone=zone, track_ids=tracks)


def test_events_of_one_person_make_one_incident_across_cameras():
    g = Grouper()
    a = g.place(ev("repeat_visit", "s1/aisle", 0, "electronics", ("s1/aisle/3",)))
    b = g.place(ev("walk_out", "s1/door", 400, None, ("s1/aisle/3",)))
    assert a.id == b.id and len(b.event_ids) == 2 and [e.kind for e in b.timeline] == ["opened", "event", "event"]


def test_same_zone_groups_only_within_the_window_and_the_store():
    g = Grouper(window_s=120)
    first = g.place(ev("loitering", "s1/c1", 0, "electronics"))
    assert g.place(ev("group_loitering", "s1/c1", 100, "electronics")).id == first.id
    assert g.place(ev("loitering", "s1/c1", 400, "electronics")).id != first.id  # long after
    assert g.place(ev("loitering", "s2/c1", 10, "electronics")).id != first.id  # another store


def test_a_closed_incident_collects_nothing_more():
    g = Grouper()
    first = g.place(ev("loitering", "s1/c1", 0, "electronics", ("s1/c1/1",)))
    closed = first.move(IncidentState.RESOLVED, "investigator", T + timedelta(seconds=60))
    g.update(closed)
    assert g.place(ev("loitering", "s1/c1", 70, "electronics", ("s1/c1/1",))).id != first.id


def test_workflow_and_timeline():
    case = Incident.open("i9", "s1", T, "fight at entrance")
    case = case.assign("manager", T, "guard-2").move(IncidentState.INVESTIGATING, "guard-2", T)
    case = case.note("guard-2", T, "two customers arguing, separated")
    case = case.move(IncidentState.RESOLVED, "guard-2", T, reason="separated, no injuries")
    assert case.closed and case.assignee == "guard-2"
    assert [e.kind for e in case.timeline] == ["opened", "assigned", "investigating", "note", "resolved"]
    reopened = case.move(IncidentState.OPEN, "manager", T, reason="CCTV request from police")
    assert not reopened.closed


def test_a_false_alarm_needs_a_reason_and_keeps_it():
    case = Incident.open("i1", "s1", T, "walk out")
    with pytest.raises(TransitionError, match="needs a reason"):
        case.move(IncidentState.FALSE_ALARM, "guard", T)
    done = case.move(IncidentState.FALSE_ALARM, "guard", T, reason="receipt shown at the door")
    assert done.false_alarm_reason == "receipt shown at the door"
    with pytest.raises(TransitionError, match="can go to open, not resolved"):
        done.move(IncidentState.RESOLVED, "guard", T)
