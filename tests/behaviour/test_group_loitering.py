from __future__ import annotations

import pytest

from storewatch.behaviour.rules.group_loitering import GroupLoiteringConfig
from tests.behaviour.scenario import Actor, engine, run, standing, started, walking, zone
from tests.behaviour.scenario_zones import jittered, legs, of_type

DISPLAY = zone("electronics", "high_value", 0.1, 0.25, 0.9, 0.9)  # x 64-576, y 120-432 px
RULE = "group_loitering"


def huddle(n: int, t0: float, t1: float, x: float = 320, y: float = 300) -> list[Actor]:
    """``n`` people shoulder to shoulder (half a body height apart) around (x, y)."""
    return [Actor(i + 1, jittered(standing(x + 60 * (i - n / 2), y, t0, t1), seed=i)) for i in range(n)]


def test_four_people_at_a_high_value_display_for_over_a_minute_is_one_group_loitering():
    events = run(engine([DISPLAY], only=[RULE]), huddle(4, 0, 100), seconds=100)
    got = started(events, RULE)
    assert len(got) == 1
    e = got[0]
    assert e.zone == "electronics" and len(e.track_ids) == 4
    assert 60 <= e.start_s <= 61
    assert e.values["people"] == 4 and e.values["together_s"] >= 60 and e.values["limit_people"] == 3
    assert e.explanation == "4 people in high-value zone electronics for 60 s (limit 3 people, 60 s)"
    assert of_type(events, RULE, "ended")[-1].end_s >= 99


def test_two_people_together_are_not_a_group():
    assert started(run(engine([DISPLAY], only=[RULE]), huddle(2, 0, 100), seconds=100), RULE) == []


def test_three_people_spread_across_a_long_display_are_not_together():
    # 80 px tall (further away): 220 px apart is 2.75 body heights, over the 2-height limit
    people = [Actor(i, standing(x, 300, 0, 100, h=80)) for i, x in enumerate((100, 320, 540), 1)]
    assert started(run(engine([DISPLAY], only=[RULE]), people, seconds=100), RULE) == []


def test_people_passing_through_together_are_not_loitering():
    walkers = [Actor(i, walking((20, 250 + 25 * i), (620, 250 + 25 * i), 0, 30)) for i in range(1, 5)]
    assert started(run(engine([DISPLAY], only=[RULE]), walkers, seconds=40), RULE) == []


def test_a_busy_display_with_people_taking_turns_is_not_a_group():
    # a new shopper every 13 s, each stays 40 s: always 3 close together, none of the groups lasting a minute
    shoppers = [Actor(i + 1, standing(260 + 40 * (i % 4), 300, 13 * i, 13 * i + 40)) for i in range(10)]
    events = run(engine([DISPLAY], only=[RULE]), shoppers, seconds=170)
    assert started(events, RULE) == []


def test_shoppers_who_browsed_apart_count_from_when_they_meet():
    def shopper(i: int, x_apart: float) -> Actor:
        return Actor(i, legs(standing(x_apart, 300, 0, 100, h=80), standing(300 + 30 * i, 300, 100.2, 200, h=80)))

    people = [shopper(1, 100), shopper(2, 320), shopper(3, 540)]
    events = run(engine([DISPLAY], only=[RULE]), people, seconds=200)
    got = started(events, RULE)
    assert len(got) == 1 and 160 <= got[0].start_s <= 162  # 60 s after meeting, not at once


def test_a_member_hidden_for_a_moment_does_not_restart_the_group():
    def flickering(t: float):
        return None if 40 <= t < 43 else standing(320, 300, 0, 100)(t)

    people = [*huddle(2, 0, 100, x=260), Actor(9, flickering)]
    got = started(run(engine([DISPLAY], only=[RULE]), people, seconds=100), RULE)
    assert len(got) == 1 and got[0].start_s <= 61


def test_a_smaller_group_limit_from_the_settings():
    eng = engine([DISPLAY], only=[RULE], rules={RULE: {"min_people": 2, "dwell_s": 20}})
    got = started(run(eng, huddle(2, 0, 40), seconds=40), RULE)
    assert len(got) == 1 and got[0].values["limit_s"] == 20 and 20 <= got[0].start_s <= 21


@pytest.mark.parametrize(
    ("field", "value"), [("min_people", 1), ("dwell_s", 0), ("max_gap_heights", 0), ("merge_gap_s", -1), ("x", 1)]
)
def test_bad_settings_are_refused(field: str, value: float):
    with pytest.raises(ValueError, match=field):
        GroupLoiteringConfig.model_validate({field: value})
