"""Walk-outs: picked at a shelf, left by a door, no checkout in between. People are 60 px tall, walking ~60 px/s."""

from __future__ import annotations

from storewatch.core.events import Event, Severity
from tests.behaviour.scenario import Actor, engine, line, run, started, zone
from tests.behaviour.scenario_moves import Waypoint, route

H = 60.0
SHELF = zone("shelf-1", "shelf", 0.05, 0.1, 0.3, 0.4)  # x 32-192, y 48-192 px
PERFUME = zone("perfume", "high_value", 0.35, 0.1, 0.55, 0.4)  # x 224-352, y 48-192 px
TILL = zone("till-1", "checkout", 0.65, 0.4, 0.95, 0.65)  # x 416-608, y 192-312 px
SIDE_DOOR = zone("side-door", "fire_exit", 0.0, 0.7, 0.15, 1.0)  # x 0-96, y 336-480 px
DOOR = line("door", "exit", (0.3, 0.85), (0.9, 0.85))  # y = 408 px, x 192-576; inside is above

IN = (400.0, 380.0)  # just inside the door
OUT = (400.0, 470.0)  # outside, past the door line
AT_SHELF, AT_PERFUME, AT_TILL = (110.0, 150.0), (290.0, 150.0), (500.0, 260.0)


def shopper(*stops: tuple[tuple[float, float], float]) -> Actor:
    """Walks (~60 px/s, 10 px/s slower for safety margins) from stop to stop, staying at each for its seconds."""
    t, points = 0.0, []
    here = stops[0][0]
    for place, stay_s in stops:
        t += ((place[0] - here[0]) ** 2 + (place[1] - here[1]) ** 2) ** 0.5 / 50.0
        points += [(t, *place), (t + stay_s, *place)]
        t += stay_s
        here = place
    waypoints: list[Waypoint] = [(round(a, 3), b, c) for a, b, c in points]
    return Actor(1, route(waypoints, H))


def walk_outs(actor: Actor, seconds: float, **rules: object) -> list[Event]:
    eng = engine([SHELF, PERFUME, TILL, SIDE_DOOR], [DOOR], only=["walk_out"], rules={"walk_out": rules})
    return started(run(eng, [actor], seconds), "walk_out")


def test_picking_at_a_shelf_and_leaving_by_the_door_is_a_walk_out():
    got = walk_outs(shopper((IN, 0), (AT_SHELF, 10), (OUT, 0)), seconds=40)
    assert len(got) == 1
    e = got[0]
    assert e.severity == Severity.MEDIUM and e.zone == "shelf-1" and e.values["via"] == "door"
    assert e.values["pick_s"] >= 9 and "without passing a checkout" in e.explanation
    assert e.start_s is not None and 24.2 <= e.start_s <= 24.8  # the frame it crosses the door (t = 24.4 s)


def test_a_customer_who_paid_is_not_a_walk_out():
    assert walk_outs(shopper((IN, 0), (AT_SHELF, 10), (AT_TILL, 30), (OUT, 0)), seconds=60) == []


def test_going_back_for_one_more_item_after_paying_is_a_walk_out():
    got = walk_outs(shopper((IN, 0), (AT_SHELF, 10), (AT_TILL, 30), (AT_PERFUME, 5), (OUT, 0)), seconds=80)
    assert len(got) == 1 and got[0].zone == "perfume"


def test_a_high_value_pick_raises_high_severity():
    got = walk_outs(shopper((IN, 0), (AT_PERFUME, 8), (OUT, 0)), seconds=30)
    assert len(got) == 1 and got[0].severity == Severity.HIGH and got[0].values["high_value"] is True


def test_brushing_past_a_shelf_is_not_a_pick():
    # along the shelf zone's bottom edge (y 180, 12 px inside): in it for ~1.5 s, under min_pick_s
    passer = Actor(1, route([(0, 100, 180), (1.5, 190, 180), (6, 400, 300), (9, *OUT)], H))
    assert walk_outs(passer, seconds=12) == []
    assert len(walk_outs(passer, seconds=12, min_pick_s=1.0)) == 1  # the same walk with a lower bar


def test_coming_in_through_the_door_and_shopping_is_not_a_walk_out():
    assert walk_outs(shopper(((400.0, 470.0), 0), (AT_SHELF, 20)), seconds=40) == []


def test_a_track_that_ends_in_an_exit_zone_after_a_pick_is_a_walk_out():
    got = walk_outs(shopper((IN, 0), (AT_SHELF, 6), ((50.0, 440.0), 0)), seconds=30)
    assert len(got) == 1 and got[0].values["via"] == "side-door"


def test_a_paying_customer_leaving_by_the_side_door_is_not_a_walk_out():
    assert walk_outs(shopper((IN, 0), (AT_SHELF, 6), (AT_TILL, 20), ((50.0, 440.0), 0)), seconds=60) == []


def test_leaving_without_ever_picking_is_not_a_walk_out():
    assert walk_outs(shopper((IN, 0), ((300.0, 300.0), 20), (OUT, 0)), seconds=30) == []
