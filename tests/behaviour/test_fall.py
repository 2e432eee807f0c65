from __future__ import annotations

import numpy as np
import pytest

from storewatch.behaviour.rules.fall import FallConfig, Pose, spread_of
from tests.behaviour.scenario import Actor, engine, run, standing, started, walking
from tests.behaviour.scenario_extra import falling, posture


def test_a_person_who_falls_and_stays_down_is_one_fall():
    events = run(engine(only=["fall"]), [Actor(1, falling(320, 400, 0, 5, 25))], seconds=25)
    got = started(events, "fall")
    assert len(got) == 1
    e = got[0]
    assert e.track_ids == ("s1/cam/1",) and e.severity.value == "high"
    assert 5 + 0.8 * 3 <= e.start_s <= 5 + 3 + 1.5  # after (most of) down_s = 3 s of lying
    assert e.values["spread_ratio"] >= 3 and "person down" in e.explanation
    ended = [x for x in events if x.type == "fall" and x.state.value == "ended"]
    assert ended and ended[-1].end_s >= 24


def test_getting_up_ends_the_episode():
    path = posture(320, 400, 0, 30, [(5, 130, 40), (15, 40, 120)])
    events = run(engine(only=["fall"]), [Actor(1, path)], seconds=30)
    assert len(started(events, "fall")) == 1
    ended = [x for x in events if x.type == "fall" and x.state.value == "ended"]
    assert ended and 14 <= ended[0].end_s <= 15.5


@pytest.mark.parametrize(
    "changes",
    [
        pytest.param([(5, 70, 80), (7, 40, 120)], id="bending-down-for-2-s"),
        pytest.param([(5, 70, 80), (7, 40, 120), (12, 70, 80), (14, 40, 120)], id="bending-twice"),
        pytest.param([(5, 50, 70)], id="crouching-at-a-low-shelf-for-20-s"),
        pytest.param([(5, 30, 60)], id="hidden-behind-a-counter"),
        pytest.param([(5, 44, 125)], id="arms-up-stretch-within-noise"),
    ],
)
def test_near_misses_are_not_falls(changes):
    events = run(engine(only=["fall"]), [Actor(1, posture(320, 400, 0, 25, changes))], seconds=25)
    assert started(events, "fall") == []


def test_walking_up_to_the_camera_and_stopping_is_not_a_fall():
    # the box grows by perspective (90 -> 150 px) while the person travels several body heights, then stops
    def path(t):
        if t <= 6:
            a = t / 6
            return walking((320, 150), (320, 450), 0, 6, 90 + 60 * a)(t)
        return standing(320, 450, 6, 20, 150)(t)

    assert started(run(engine(only=["fall"]), [Actor(1, path)], seconds=20), "fall") == []


def test_tiny_people_are_not_judged():
    # a 15 px person whose box doubles in width: within what boxes of people that small do by themselves
    path = posture(320, 400, 0, 20, [(5, 12, 15)], h=15)
    assert started(run(engine(only=["fall"]), [Actor(1, path)], seconds=20), "fall") == []


def test_a_fall_is_per_person():
    actors = [Actor(1, falling(200, 400, 0, 5, 20)), Actor(2, standing(500, 400, 0, 20))]
    got = started(run(engine(only=["fall"]), actors, seconds=20), "fall")
    assert [e.track_ids for e in got] == [("s1/cam/1",)]


@pytest.mark.parametrize(
    ("box", "upright", "expected"),
    [
        ((0, 0, 120, 40), Pose(40, 120, 0, 0), 3.0),  # side view: lying is 3x as wide
        ((0, 0, 40, 60), Pose(40, 40, 0, 0), 1.5),  # from above: lengthwise, taller
        ((0, 0, 8, 20), Pose(25, 15, 0, 0), 0.0),  # shrank overall: hidden or sitting
    ],
)
def test_spread(box, upright, expected):
    assert spread_of(np.array([box], float), upright, 0.8)[0] == pytest.approx(expected)


def test_config_is_checked():
    with pytest.raises(ValueError, match="min_spread_ratio"):
        FallConfig(min_spread_ratio=0.9)
    with pytest.raises(ValueError, match="extra"):
        FallConfig.model_validate({"down_seconds": 3})


def test_a_fall_right_after_the_person_was_hidden_for_a_moment_is_still_one_fall(recwarn):
    # unseen for the 2 s before they go down (behind a shelf end): the reference is their last boxes before that
    fall = falling(320, 400, 0, 8, 25)

    def path(t: float):
        return None if 4.5 <= t < 7.5 else fall(t)

    events = run(engine(only=["fall"]), [Actor(1, path)], seconds=25)
    assert len(started(events, "fall")) == 1
    assert not [w for w in recwarn if issubclass(w.category, RuntimeWarning)]
