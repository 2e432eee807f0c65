from __future__ import annotations

import pytest

from storewatch.behaviour.rules.restricted_area import RestrictedAreaConfig
from storewatch.core.events import Severity
from tests.behaviour.scenario import Actor, engine, person_at, run, standing, started, walking, zone
from tests.behaviour.scenario_zones import at, legs, of_type, shop_hours

STOCKROOM = zone("stockroom", "staff_only", 0.6, 0.2, 0.9, 0.5)  # x 384-576, y 96-240 px
SAFE = zone("safe", "cash_office", 0.05, 0.2, 0.3, 0.5)  # x 32-192, y 96-240 px
RULE = "restricted_area"


def into_stockroom(track_id: int = 1, t0: float = 0.0, stay_s: float = 20.0) -> Actor:
    """Walks up from the shop floor into the stock room, stays ``stay_s``, walks back out."""
    t_in = t0 + 5
    return Actor(
        track_id,
        legs(
            walking((480, 400), (480, 180), t0, t_in), standing(480, 180, t_in + 0.01, t_in + stay_s),
            walking((480, 180), (480, 400), t_in + stay_s + 0.01, t_in + stay_s + 5),
        ),
    )  # fmt: skip


def test_walking_into_the_stock_room_is_raised_once():
    events = run(engine([STOCKROOM], only=[RULE]), [into_stockroom()], seconds=35)
    got = started(events, RULE)
    assert len(got) == 1
    e = got[0]
    assert e.zone == "stockroom" and e.track_ids == ("s1/cam/1",) and e.severity is Severity.MEDIUM
    assert 3 <= e.start_s <= 6 and e.values["inside_s"] >= 1 and e.values["zone_kind"] == "staff_only"
    assert e.explanation.startswith("person in staff-only zone stockroom for ")
    assert len(of_type(events, RULE, "ended")) == 1


def test_entering_the_cash_office_is_high_severity():
    person = Actor(1, standing(110, 180, 0, 10))
    got = started(run(engine([SAFE, STOCKROOM], only=[RULE]), [person], seconds=10), RULE)
    assert [(e.zone, e.severity) for e in got] == [("safe", Severity.HIGH)]


def test_two_people_entering_are_two_events():
    people = [into_stockroom(1, 0), into_stockroom(2, 10)]
    got = started(run(engine([STOCKROOM], only=[RULE]), people, seconds=45), RULE)
    assert sorted(e.track_ids for e in got) == [("s1/cam/1",), ("s1/cam/2",)]


def test_leaning_over_the_counter_with_the_feet_outside_is_not_entering():
    # feet 60 px below the stock room's edge; the head (box top at y=180) is well inside it on the screen
    person = Actor(1, standing(480, 300, 0, 60))
    assert person.path(1) == person_at(480, 300) and person_at(480, 300)[1] < 240
    assert started(run(engine([STOCKROOM], only=[RULE]), [person], seconds=60), RULE) == []


def test_walking_along_the_border_is_not_entering():
    # feet on the edge (y = 240): hysteresis keeps them out
    person = Actor(1, walking((300, 240), (600, 240), 0, 20))
    assert started(run(engine([STOCKROOM], only=[RULE]), [person], seconds=20), RULE) == []


def test_a_box_reaching_into_the_zone_for_a_moment_is_not_entering():
    def glitch(t: float):
        return person_at(480, 180) if 10 <= t < 10.5 else person_at(480, 400)

    person = Actor(1, lambda t: glitch(t) if t <= 30 else None)
    assert started(run(engine([STOCKROOM], only=[RULE]), [person], seconds=30), RULE) == []


@pytest.mark.parametrize(
    ("armed", "hour", "raised"),
    [
        ("closed", 12, False),  # staff work in the stock room while the shop is open
        ("closed", 21, True),  # nobody should be there after closing
        ("night", 12, False),
        ("night", 23, True),
        (None, 12, True),  # unarmed: always
    ],
)
def test_a_staff_only_zone_is_watched_only_while_its_schedule_is_on(armed: str | None, hour: int, raised: bool):
    schedule = shop_hours(schedules={"night": {"mon": ["22:00-06:00"]}})
    eng = engine([STOCKROOM], only=[RULE], rules={RULE: {"armed": armed}}, schedule=schedule)
    events = run(eng, [into_stockroom()], seconds=35, start_utc=at(hour))
    assert len(started(events, RULE)) == int(raised)


def test_someone_still_inside_when_the_schedule_comes_on_is_raised():
    eng = engine([STOCKROOM], only=[RULE], rules={RULE: {"armed": "closed"}}, schedule=shop_hours())
    events = run(eng, [Actor(1, standing(480, 180, 0, 120))], seconds=120, start_utc=at(19, 59))
    got = started(events, RULE)
    assert len(got) == 1 and 60 <= got[0].start_s <= 61 and got[0].values["inside_s"] >= 60


@pytest.mark.parametrize(("field", "value"), [("min_inside_s", -1), ("cash_office_severity", "urgent"), ("zone", "x")])
def test_bad_settings_are_refused(field: str, value: object):
    with pytest.raises(ValueError, match=field):
        RestrictedAreaConfig.model_validate({field: value})
