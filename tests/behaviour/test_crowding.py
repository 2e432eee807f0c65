"""Crowding: people over an occupancy limit in the view or a zone, sustained."""

from __future__ import annotations

import pytest

from storewatch.core.events import Event
from tests.behaviour.scenario import Actor, engine, run, started, walking, zone
from tests.behaviour.scenario_moves import crowd

FLOOR = (40.0, 120.0, 600.0, 460.0)  # where the feet of a standing crowd go, in pixels
FITTING = zone("fitting", "custom", 0.6, 0.1, 0.95, 0.5)  # x 384-608, y 48-240 px
IN_FITTING = (400.0, 80.0, 590.0, 220.0)
SHELF = zone("shelf", "shelf", 0.0, 0.0, 0.3, 0.3)


def crowding(actors: list[Actor], seconds: float, geometry: tuple = (SHELF,), **rules: object) -> list[Event]:
    eng = engine(list(geometry), only=["crowding"], rules={"crowding": rules})
    return started(run(eng, actors, seconds), "crowding")


def test_more_people_than_the_limit_in_view_is_crowding_once():
    got = crowding(crowd(1, 16, FLOOR, 0, 60), seconds=60)
    assert len(got) == 1
    e = got[0]
    assert e.zone is None and e.values["people"] == 16 and e.values["max_people"] == 15
    assert e.explanation == "16 people in view for 5 s (limit 15)" and e.start_s == 5.0


def test_at_the_limit_is_not_crowding():
    assert crowding(crowd(1, 15, FLOOR, 0, 60), seconds=60) == []


def test_a_group_passing_through_is_not_crowding():
    standing = crowd(1, 12, FLOOR, 0, 30)
    group = [Actor(100 + i, walking((0, 300.0 + 10 * i), (640, 300.0 + 10 * i), 10, 14, 80.0)) for i in range(6)]
    assert crowding(standing + group, seconds=30) == []  # 18 people in view, but only for ~4 s


def test_one_frame_of_duplicate_tracks_is_not_crowding():
    standing = crowd(1, 15, FLOOR, 0, 30)
    ghosts = [Actor(100 + i, lambda t, i=i: (50.0 + 30 * i, 300, 80.0 + 30 * i, 380) if 10 <= t < 10.2 else None)
              for i in range(5)]  # fmt: skip
    assert crowding(standing + ghosts, seconds=30) == []


def test_a_zone_has_its_own_limit_next_to_the_view():
    inside = crowd(1, 5, IN_FITTING, 0, 30)
    outside = crowd(50, 4, (40.0, 300.0, 300.0, 460.0), 0, 30)
    got = crowding(inside + outside, seconds=30, geometry=(SHELF, FITTING), zone_max_people={"fitting": 4})
    assert [(e.zone, e.values["people"]) for e in got] == [("fitting", 5)]  # 9 in view is under 15
    assert got[0].explanation.startswith("5 people in fitting for ")


@pytest.mark.parametrize(("listed", "expected"), [(["fitting"], [("fitting", 5)]), (["shelf"], [])])
def test_listed_zones_replace_the_view(listed: list[str], expected: list[tuple[str, int]]):
    people = crowd(1, 5, IN_FITTING, 0, 30) + crowd(50, 12, (40.0, 300.0, 300.0, 460.0), 0, 30)  # 17 in view
    got = crowding(people, seconds=30, geometry=(SHELF, FITTING), zones=listed, max_people=4)
    assert [(e.zone, e.values["people"]) for e in got] == expected
