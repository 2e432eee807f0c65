from __future__ import annotations

import pytest

from storewatch.behaviour.rules.blocked_exit import BlockedExitConfig
from storewatch.behaviour.scene import OBJECT
from tests.behaviour.scenario import Actor, engine, run, standing, started, walking, zone
from tests.behaviour.scenario_zones import SUITCASE, jittered, legs, of_type, still_object

EXIT = zone("back-door", "fire_exit", 0.05, 0.5, 0.3, 0.95)  # x 32-192, y 240-456 px
RULE = "blocked_exit"


def test_a_suitcase_left_in_the_fire_exit_blocks_it():
    case = Actor(7, jittered(still_object(110, 400, 5, 80), px=2), class_id=SUITCASE)
    events = run(engine([EXIT], only=[RULE]), [case], seconds=80)
    got = started(events, RULE)
    assert len(got) == 1
    e = got[0]
    assert e.zone == "back-door" and e.track_ids == ("s1/cam/7",)
    assert 35 <= e.start_s <= 36 and e.values["objects"] == 1 and e.values["people"] == 0
    assert e.explanation == "fire exit back-door blocked for 30 s by suitcase (limit 30 s)"
    assert of_type(events, RULE, "ended")[-1].values["blocked_s"] >= 74


def test_a_person_standing_in_the_fire_exit_blocks_it():
    person = Actor(1, jittered(standing(110, 420, 0, 50)))
    got = started(run(engine([EXIT], only=[RULE]), [person], seconds=50), RULE)
    assert len(got) == 1 and got[0].values["people"] == 1 and "by person" in got[0].explanation


def test_several_things_in_one_exit_are_one_blocked_exit():
    things = [
        Actor(1, still_object(80, 420, 0, 60), class_id=OBJECT),
        Actor(2, still_object(150, 420, 10, 60), class_id=SUITCASE),
    ]
    events = run(engine([EXIT], only=[RULE]), things, seconds=60)
    assert len(started(events, RULE)) == 1
    last = of_type(events, RULE, "ended")[-1]
    assert last.track_ids == ("s1/cam/1", "s1/cam/2") and last.values["objects"] == 2


def test_a_blockage_longer_than_the_scenes_memory_of_boxes_is_still_timed():
    eng = engine([EXIT], only=[RULE], rules={RULE: {"stationary_s": 90}})  # the scene keeps 30 s of boxes
    got = started(run(eng, [Actor(1, still_object(110, 400, 0, 100), class_id=OBJECT)], seconds=100), RULE)
    assert len(got) == 1 and 90 <= got[0].start_s <= 91


def test_people_walking_out_through_the_fire_exit_do_not_block_it():
    walkers = [Actor(i, walking((110, 200), (110, 470), 8 * i, 8 * i + 4)) for i in range(8)]
    assert started(run(engine([EXIT], only=[RULE]), walkers, seconds=70), RULE) == []


def test_a_box_moved_out_of_the_way_in_time_does_not_block_it():
    box = Actor(1, still_object(110, 400, 0, 25), class_id=OBJECT)
    assert started(run(engine([EXIT], only=[RULE]), [box], seconds=60), RULE) == []


def test_a_person_pacing_in_the_doorway_is_not_standing_still():
    # a step of a body height every 20 s: never 30 s in one spot
    pacing = Actor(1, legs(*(standing(50 + 120 * (k % 2), 420, 20 * k, 20 * k + 19.9) for k in range(5))))
    assert started(run(engine([EXIT], only=[RULE]), [pacing], seconds=100), RULE) == []


def test_something_left_next_to_the_exit_is_not_blocking_it():
    case = Actor(1, still_object(260, 400, 0, 60), class_id=SUITCASE)  # 68 px right of the zone
    assert started(run(engine([EXIT], only=[RULE]), [case], seconds=60), RULE) == []


def test_people_can_be_left_out():
    eng = engine([EXIT], only=[RULE], rules={RULE: {"watch_people": False}})
    person, case = Actor(1, standing(80, 420, 0, 50)), Actor(2, still_object(150, 420, 0, 50), class_id=SUITCASE)
    got = started(run(eng, [person, case], seconds=50), RULE)
    assert [e.track_ids for e in got] == [("s1/cam/2",)]


@pytest.mark.parametrize(("field", "value"), [("stationary_s", 0), ("max_move_heights", 0), ("watch_people", "x")])
def test_bad_settings_are_refused(field: str, value: object):
    with pytest.raises(ValueError, match=field):
        BlockedExitConfig.model_validate({field: value})
