from __future__ import annotations

import math

import pytest

from storewatch.behaviour.rules.fight import FightConfig
from tests.behaviour.scenario import Actor, engine, run, standing, started, walking
from tests.behaviour.scenario_extra import jostling


def test_two_people_scuffling_in_place_is_one_fight():
    actors = [Actor(1, jostling(300, 400, 0, 20, 0.0)), Actor(2, jostling(360, 400, 0, 20, math.pi))]
    events = run(engine(only=["fight"]), actors, seconds=20)
    got = started(events, "fight")
    assert len(got) == 1
    e = got[0]
    assert e.track_ids == ("s1/cam/1", "s1/cam/2") and e.severity.value == "high"
    assert 3 <= e.start_s <= 5  # a full 3 s window, then 1 s sustained
    assert e.values["agitation_heights_per_s"] >= 0.3 and e.values["distance_heights"] <= 1.2


@pytest.mark.parametrize(
    "actors",
    [
        pytest.param(
            [Actor(1, walking((100, 400), (600, 400), 0, 20)), Actor(2, walking((150, 400), (650, 400), 0, 20))],
            id="walking-together",
        ),
        pytest.param([Actor(1, standing(300, 400, 0, 20)), Actor(2, standing(360, 400, 0, 20))], id="talking"),
        pytest.param(
            [Actor(1, walking((100, 400), (300, 400), 0, 5)), Actor(2, standing(360, 400, 0, 20))],
            id="walking-up-to-someone",
        ),
        pytest.param(
            [Actor(1, jostling(100, 400, 0, 20, 0.0)), Actor(2, jostling(500, 400, 0, 20, math.pi))],
            id="two-restless-people-apart",
        ),
        pytest.param(
            [Actor(1, jostling(300, 400, 0, 20, 0.0)), Actor(2, standing(360, 400, 0, 20))],
            id="one-restless-beside-a-still-one",
        ),
    ],
)
def test_near_misses_are_not_fights(actors):
    assert started(run(engine(only=["fight"]), actors, seconds=20), "fight") == []


def test_a_brief_shove_is_not_a_fight():
    actors = [Actor(1, jostling(300, 400, 0, 20, 0.0, amp=30, hz=1)), Actor(2, jostling(360, 400, 0, 20, math.pi))]
    eng = engine(only=["fight"], rules={"fight": {"min_duration_s": 30}})
    assert started(run(eng, actors, seconds=20), "fight") == []


def test_config_is_checked():
    with pytest.raises(ValueError, match="close_heights"):
        FightConfig(close_heights=0)
