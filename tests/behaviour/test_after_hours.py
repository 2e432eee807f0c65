from __future__ import annotations

import pytest

from storewatch.behaviour.rules.after_hours import AfterHoursConfig
from storewatch.behaviour.schedule import StoreSchedule
from storewatch.core.events import Severity
from tests.behaviour.scenario import Actor, engine, run, standing, started, walking, zone
from tests.behaviour.scenario_zones import at, jittered, legs, of_type, shop_hours

AISLE = zone("aisle", "shelf", 0.0, 0.3, 1.0, 0.7)  # y 144-336 px
TOILETS = zone("toilets", "privacy", 0.0, 0.75, 0.3, 1.0)  # x 0-192, y 360-480 px
RULE = "after_hours"


def intruder(track_id: int = 1, t0: float = 0.0, y: float = 250.0) -> Actor:
    """Walks along the aisle (at 90 px/s: 0.75 body heights a second), stops at a shelf for 20 s, walks on."""
    return Actor(
        track_id,
        legs(
            walking((40, y), (310, y), t0, t0 + 3), standing(310, y, t0 + 3.01, t0 + 23),
            walking((310, y), (600, y), t0 + 23.01, t0 + 26.2),
        ),
    )  # fmt: skip


def test_a_person_walking_the_aisle_after_closing_is_an_intrusion():
    events = run(engine([AISLE], only=[RULE], schedule=shop_hours()), [intruder()], seconds=40, start_utc=at(21))
    got = started(events, RULE)
    assert len(got) == 1  # standing still by the shelf does not break it up
    e = got[0]
    assert e.severity is Severity.HIGH and e.zone == "aisle" and e.track_ids == ("s1/cam/1",)
    assert 1 <= e.start_s <= 2 and e.values["people"] == 1 and e.values["armed"] == "closed"
    assert e.explanation == "1 person in aisle after hours"
    assert of_type(events, RULE, "ended")[-1].end_s >= 26


def test_the_same_walk_while_the_shop_is_open_is_nothing():
    events = run(engine([AISLE], only=[RULE], schedule=shop_hours()), [intruder()], seconds=40, start_utc=at(12))
    assert started(events, RULE) == []


def test_a_holiday_is_after_hours_all_day():
    schedule = shop_hours(holidays=["2026-03-02"])
    events = run(engine([AISLE], only=[RULE], schedule=schedule), [intruder()], seconds=40, start_utc=at(12))
    assert len(started(events, RULE)) == 1


def test_a_store_without_opening_hours_is_never_closed():
    events = run(engine([AISLE], only=[RULE], schedule=StoreSchedule()), [intruder()], seconds=40, start_utc=at(3))
    assert started(events, RULE) == []


def test_two_intruders_are_one_intrusion_with_both_tracks():
    people = [intruder(1, 0, y=220), intruder(2, 5, y=300)]
    events = run(engine([AISLE], only=[RULE], schedule=shop_hours()), people, seconds=40, start_utc=at(2))
    assert len(started(events, RULE)) == 1
    last = of_type(events, RULE, "ended")[-1]
    assert last.track_ids == ("s1/cam/1", "s1/cam/2")


def test_a_new_intrusion_after_the_last_one_ended_is_raised_again():
    people = [intruder(1, 0), intruder(2, 80)]  # the first leaves at 26 s; the intrusion ends 30 s later
    events = run(engine([AISLE], only=[RULE], schedule=shop_hours()), people, seconds=120, start_utc=at(2))
    assert [round(e.start_s) for e in started(events, RULE)] == [1, 81]


def test_a_mannequin_standing_all_night_is_not_an_intrusion():
    mannequin = Actor(1, jittered(standing(320, 300, 0, 300), px=4))
    events = run(engine([AISLE], only=[RULE], schedule=shop_hours()), [mannequin], seconds=300, start_utc=at(23))
    assert started(events, RULE) == []


def test_a_flicker_of_a_person_is_not_an_intrusion():
    ghost = Actor(1, walking((100, 250), (200, 250), 10, 10.6))  # seen 0.6 s, on an infrared image at night
    events = run(engine([AISLE], only=[RULE], schedule=shop_hours()), [ghost], seconds=20, start_utc=at(23))
    assert started(events, RULE) == []


def test_people_only_in_a_privacy_zone_or_outside_every_zone_are_not_raised():
    people = [Actor(1, walking((20, 440), (180, 440), 0, 20)), Actor(2, walking((300, 460), (600, 460), 0, 20))]
    events = run(engine([AISLE, TOILETS], only=[RULE], schedule=shop_hours()), people, seconds=20, start_utc=at(23))
    assert started(events, RULE) == []


def test_a_camera_without_zones_watches_the_whole_frame():
    person = Actor(1, walking((20, 440), (600, 440), 0, 20))
    events = run(engine([], only=[RULE], schedule=shop_hours()), [person], seconds=20, start_utc=at(23))
    assert [e.zone for e in started(events, RULE)] == ["frame"]


def test_a_named_schedule_gives_staff_time_to_lock_up():
    schedule = shop_hours(schedules={"locked": {"mon": ["20:30-07:30"]}})
    eng = engine([AISLE], only=[RULE], rules={RULE: {"armed": "locked"}}, schedule=schedule)
    staff = Actor(1, legs(*(walking((40, 250), (600, 250), 40 * k, 40 * k + 39) for k in range(30))))
    events = run(eng, [staff], seconds=1200, start_utc=at(20, 10))  # closing up from 20:10 to 20:30, then locked
    got = started(events, RULE)
    assert len(got) == 1 and 1200 <= got[0].start_s <= 1202


@pytest.mark.parametrize(("field", "value"), [("min_seen_s", -1), ("min_travel_heights", 21), ("end_after_s", 601)])
def test_bad_settings_are_refused(field: str, value: float):
    with pytest.raises(ValueError, match=field):
        AfterHoursConfig.model_validate({field: value})
