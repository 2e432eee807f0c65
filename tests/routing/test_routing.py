"""Routes (what goes where, when) and escalation (who is told when nobody acknowledges)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from storewatch.behaviour.schedule import StoreSchedule
from storewatch.core.events import Event, Severity
from storewatch.routing.escalation import Escalations, UnknownAlertError
from storewatch.routing.routes import Level, Route, routes_for

NOON = datetime(2026, 3, 2, 12, tzinfo=UTC)  # Monday
NIGHT = datetime(2026, 3, 2, 23, tzinfo=UTC)


def ev(type_: str = "walk_out", severity: Severity = Severity.HIGH, camera: str = "s1/door", zone: str | None = None):
    return Event.start(type_, camera, NOON, "x", severity=severity, zone=zone)


def route(**kw) -> Route:
    return Route(name="r", levels=[Level(channels=["push"])], **kw)


def test_matching_by_type_severity_place():
    r = route(types=["walk_out"], min_severity=Severity.MEDIUM, stores=["s1"], zones=["door-zone"])
    assert r.matches(ev(zone="door-zone"))
    assert not r.matches(ev(zone="other"))
    assert not r.matches(ev(severity=Severity.LOW, zone="door-zone"))
    assert not r.matches(ev(camera="s2/door", zone="door-zone"))
    assert not r.matches(ev("queue", zone="door-zone"))


def test_quiet_hours_hold_back_all_but_critical():
    quiet = {d: ["22:00-07:00"] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
    r = route(quiet_hours=quiet)
    plain = StoreSchedule()
    assert routes_for(ev(), [r], NOON, plain, "UTC") == [r]
    assert routes_for(ev(), [r], NIGHT, plain, "UTC") == []
    assert routes_for(ev(severity=Severity.CRITICAL), [r], NIGHT, plain, "UTC") == [r]


def test_a_route_on_a_schedule():
    night_team = route(schedule="closed")
    shop = StoreSchedule(opening_hours={"mon": ["08:00-20:00"]})
    assert routes_for(ev(), [night_team], NOON, shop, "UTC") == []
    assert routes_for(ev(), [night_team], NIGHT, shop, "UTC") == [night_team]


def test_levels_must_start_at_once_and_grow():
    with pytest.raises(ValidationError, match="first level is told at once"):
        Route(name="r", levels=[Level(channels=["a"], after_s=10)])
    with pytest.raises(ValidationError, match="must grow"):
        Route(
            name="r",
            levels=[Level(channels=["a"]), Level(channels=["b"], after_s=60), Level(channels=["c"], after_s=30)],
        )


def test_escalation_runs_until_acknowledged():
    r = Route(name="guards", levels=[Level(channels=["push"], people=["guard"]),
                                     Level(channels=["email"], people=["manager"], after_s=60),
                                     Level(channels=["sms"], people=["regional"], after_s=300)])  # fmt: skip
    esc = Escalations()
    assert esc.raise_alert("a", "e", r, NOON).people == ("guard",)
    assert esc.due(NOON + timedelta(seconds=59)) == []
    (step,) = esc.due(NOON + timedelta(seconds=61))
    assert step.level == 1 and step.people == ("manager",)
    assert esc.due(NOON + timedelta(seconds=62)) == []  # told once per level
    ack = esc.acknowledge("a", "manager", NOON + timedelta(seconds=90))
    assert ack.time_to_ack_s == 90 and ack.level == 1
    assert esc.due(NOON + timedelta(seconds=400)) == []  # acknowledged: no more escalation
    with pytest.raises(UnknownAlertError):
        esc.acknowledge("a", "manager", NOON)


def test_a_late_check_jumps_to_the_level_due():
    r = Route(
        name="r", levels=[Level(channels=["a"]), Level(channels=["b"], after_s=60), Level(channels=["c"], after_s=120)]
    )
    esc = Escalations()
    esc.raise_alert("x", "e", r, NOON)
    (step,) = esc.due(NOON + timedelta(seconds=500))
    assert step.level == 2 and step.channels == ("c",)
