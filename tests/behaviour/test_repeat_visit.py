from __future__ import annotations

import pytest

from storewatch.behaviour.rules.repeat_visit import RepeatVisitConfig
from tests.behaviour.scenario import Actor, engine, run, standing, started, walking, zone
from tests.behaviour.scenario_zones import jittered, legs, of_type

WATCHES = zone("watches", "high_value", 0.4, 0.25, 0.6, 0.75)  # x 256-384, y 120-360 px
RULE = "repeat_visit"
INSIDE, AWAY = (320.0, 300.0), (100.0, 300.0)


def visiting(times: list[tuple[float, float]], end_s: float) -> Actor:
    """One person, away from the display except during each (start, end) in ``times``."""
    parts = []
    last = 0.0
    for t0, t1 in times:
        parts += [standing(*AWAY, last, t0 - 0.01), standing(*INSIDE, t0, t1)]
        last = t1 + 0.01
    parts.append(standing(*AWAY, last, end_s))
    return Actor(1, jittered(legs(*parts)))


def test_coming_back_to_a_display_a_third_time_is_a_repeat_visit():
    person = visiting([(10, 20), (60, 70), (110, 120)], end_s=140)
    events = run(engine([WATCHES], only=[RULE]), [person], seconds=140)
    got = started(events, RULE)
    assert len(got) == 1  # one episode for the person at this display
    e = got[0]
    assert e.zone == "watches" and e.track_ids == ("s1/cam/1",)
    assert 110 <= e.start_s <= 111 and e.values["visits"] == 3 and 99 <= e.values["span_s"] <= 101
    assert e.explanation.startswith("person entered high-value zone watches 3 times in 10")
    assert e.explanation.endswith("s (limit 3 in 300 s)")
    assert of_type(events, RULE, "ended")


def test_a_fourth_visit_updates_the_same_episode():
    person = visiting([(10, 20), (40, 50), (70, 80), (100, 125)], end_s=130)
    events = run(engine([WATCHES], only=[RULE]), [person], seconds=130)
    assert len(started(events, RULE)) == 1
    assert max(e.values["visits"] for e in of_type(events, RULE, "updated")) == 4


def test_coming_back_once_is_not_a_repeat_visit():
    person = visiting([(10, 20), (60, 70)], end_s=140)
    assert started(run(engine([WATCHES], only=[RULE]), [person], seconds=140), RULE) == []


def test_stepping_back_from_the_display_for_a_moment_is_the_same_visit():
    person = visiting([(10, 20), (25, 30), (35, 40), (45, 60)], end_s=70)  # 5 s out each time, under the 10 s gap
    assert started(run(engine([WATCHES], only=[RULE]), [person], seconds=70), RULE) == []


def test_visits_further_apart_than_the_window_are_not_counted_together():
    eng = engine([WATCHES], only=[RULE], rules={RULE: {"window_s": 60}})
    person = visiting([(10, 15), (50, 55), (90, 95), (130, 135)], end_s=140)  # any three span 80 s
    assert started(run(eng, [person], seconds=140), RULE) == []


def test_walking_past_the_display_again_and_again_is_not_visiting_it():
    # up and down the aisle in front of it: the feet stay 40 px below the zone's bottom edge
    laps = [walking((100, 400), (550, 400), 30 * k, 30 * k + 14.9) for k in range(5)]
    back = [walking((550, 400), (100, 400), 30 * k + 15, 30 * k + 29.9) for k in range(5)]
    events = run(engine([WATCHES], only=[RULE]), [Actor(1, legs(*laps, *back))], seconds=150)
    assert started(events, RULE) == []


def test_different_people_each_coming_once_are_not_one_repeat_visit():
    people = [Actor(i, standing(*INSIDE, 30 * i, 30 * i + 10)) for i in range(1, 5)]
    assert started(run(engine([WATCHES], only=[RULE]), people, seconds=150), RULE) == []


@pytest.mark.parametrize(("field", "value"), [("min_visits", 1), ("window_s", 0), ("merge_gap_s", -1)])
def test_bad_settings_are_refused(field: str, value: float):
    with pytest.raises(ValueError, match=field):
        RepeatVisitConfig.model_validate({field: value})
