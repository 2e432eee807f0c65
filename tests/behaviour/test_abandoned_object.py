from __future__ import annotations

import pytest

from storewatch.behaviour.rules.abandoned_object import AbandonedObjectConfig
from storewatch.behaviour.scene import OBJECT
from storewatch.detect.coco import COCO_CLASSES
from tests.behaviour.scenario import Actor, engine, run, standing, started
from tests.behaviour.scenario_extra import carried
from tests.behaviour.scenario_moves import route

SUITCASE = COCO_CLASSES.index("suitcase")


def owner_leaving(t_leave: float = 8.0):
    """Walks in, stands by the spot from 4 to ``t_leave`` s, walks off to the far side (gone at t_leave + 6)."""
    return route([(0, 100, 400), (4, 300, 400), (t_leave, 300, 400), (t_leave + 6, 630, 100)])


def test_a_bag_left_behind_is_abandoned_once():
    owner = owner_leaving()
    actors = [Actor(1, owner), Actor(2, carried(owner, until_s=6), class_id=SUITCASE)]
    events = run(engine(only=["abandoned_object"]), actors, seconds=40)
    got = started(events, "abandoned_object")
    assert len(got) == 1
    e = got[0]
    assert e.track_ids == ("s1/cam/2",) and e.values["object"] == "suitcase"
    # the owner walks 74 px/s: 1.75 body heights (210 px) from the bag about 3 s after setting off; then 4 s
    assert 8 + 2 + 4 <= e.start_s <= 8 + 4 + 4 and "suitcase left" in e.explanation


def test_an_unknown_object_class_is_watched_too():
    owner = owner_leaving()
    actors = [Actor(1, owner), Actor(2, carried(owner, until_s=6), class_id=OBJECT)]
    assert len(started(run(engine(only=["abandoned_object"]), actors, seconds=30), "abandoned_object")) == 1


def test_the_owner_coming_back_ends_it():
    owner = route([(0, 100, 400), (4, 300, 400), (8, 300, 400), (11, 600, 400), (20, 600, 400), (23, 300, 400),
                   (40, 300, 400)])  # fmt: skip
    actors = [Actor(1, owner), Actor(2, carried(owner, until_s=6), class_id=SUITCASE)]
    events = run(engine(only=["abandoned_object"]), actors, seconds=40)
    assert len(started(events, "abandoned_object")) == 1
    ended = [e for e in events if e.type == "abandoned_object" and e.state.value == "ended"]
    assert ended and ended[0].end_s <= 23


@pytest.mark.parametrize(
    "actors",
    [
        pytest.param(
            [Actor(1, standing(300, 400, 0, 40)), Actor(2, carried(standing(300, 400, 0, 40), 5), class_id=SUITCASE)],
            id="owner-stays-beside-it",
        ),
        pytest.param(
            [
                Actor(1, route([(0, 50, 400), (30, 600, 100), (40, 600, 100)])),
                Actor(2, carried(route([(0, 50, 400), (30, 600, 100), (40, 600, 100)]), 40), class_id=SUITCASE),
            ],
            id="carried-along",
        ),
        pytest.param([Actor(2, standing(300, 400, 0, 40, h=40), class_id=SUITCASE)], id="nobody-ever-near-it"),
    ],
)
def test_near_misses_are_not_abandoned(actors):
    assert started(run(engine(only=["abandoned_object"]), actors, seconds=40), "abandoned_object") == []


def test_config_is_checked():
    with pytest.raises(ValueError, match="near_heights"):
        AbandonedObjectConfig(near_heights=-1)
