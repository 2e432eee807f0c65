"""Queues: length and estimated wait from the measured service rate, one episode per queue zone."""

from __future__ import annotations

import re

from storewatch.core.events import Event
from tests.behaviour.scenario import Actor, engine, run, started, walking, zone
from tests.behaviour.scenario_moves import queuer

QUEUE = zone("q-1", "queue", 0.1, 0.3, 0.5, 0.6)  # x 64-320, y 144-288 px
TILL = zone("till-1", "checkout", 0.55, 0.3, 0.8, 0.6)  # x 352-512, y 144-288 px
AT_TILL = (430.0, 220.0)
SPOTS = [(x, y) for y in (200.0, 260.0) for x in (90.0, 130.0, 170.0, 210.0, 250.0, 290.0)]
FPS = 2.0
NEVER = 1e9


def line_of(waiting: int, first_served_s: float, every_s: float, seconds: float) -> list[Actor]:
    """``waiting`` people always in the queue: one is served every ``every_s`` from ``first_served_s``, and the
    next customer joins the back a second later."""
    actors, served = [], []
    k = 0
    while True:
        join_s = 2.0 if k < waiting else served[k - waiting] + 1.0
        if join_s > seconds:
            return actors
        served_s = first_served_s + k * every_s if every_s < NEVER else NEVER
        served.append(served_s)
        actors.append(queuer(k + 1, SPOTS[k % len(SPOTS)], join_s, served_s, AT_TILL))
        k += 1


def queues(actors: list[Actor], seconds: float, zones: tuple = (QUEUE, TILL), **rules: object) -> list[Event]:
    eng = engine(list(zones), only=["queue"], rules={"queue": rules})
    return started(run(eng, actors, seconds, fps=FPS), "queue")


def test_a_long_queue_is_one_alert_with_its_numbers():
    seven = [queuer(i + 1, SPOTS[i], 2.0, NEVER, AT_TILL) for i in range(7)]
    got = queues(seven, seconds=120)
    assert len(got) == 1  # one episode for the zone, not one per frame or per person
    e = got[0]
    assert e.zone == "q-1" and e.values["length"] == 7 and len(e.track_ids) == 7
    assert re.fullmatch(
        r"queue at q-1: 7 people, estimated wait \d+\.\d min \(limit 5 people or 5 min\); serving 0\.\d people/min",
        e.explanation,
    )
    assert e.start_s is not None and 15 <= e.start_s <= 18  # in the zone ~1.5 s, waiting after 5 s, 10 s sustained


def test_at_the_length_limit_with_a_moving_queue_is_not_an_alert():
    assert queues(line_of(5, 10.0, 15.0, 300), seconds=300) == []


def test_a_short_queue_moving_fast_is_not_an_alert():
    assert queues(line_of(4, 10.0, 20.0, 300), seconds=300) == []


def test_a_short_queue_served_slowly_raises_on_the_measured_wait():
    got = queues(line_of(4, 20.0, 150.0, 600), seconds=600)
    assert got, "4 people at one service per 2.5 min is a 10 min wait"
    e = got[0]
    assert e.values["length"] == 4  # under the length limit: the wait raised it
    assert float(e.values["wait_s"]) > 300 and float(e.values["service_per_min"]) < 0.8
    assert e.values["served_in_window"] >= 1 and e.start_s is not None and e.start_s > 100


def test_a_stalled_till_raises_though_the_queue_is_short():
    got = queues(line_of(4, 0.0, NEVER, 300), seconds=300)
    assert len(got) == 1 and got[0].values["length"] == 4 and got[0].values["served_in_window"] == 0
    # rate 3 / (busy min + 3): the wait of 4 people passes 5 min after 45 s busy (from t ~1.5 s), +10 s sustained
    assert got[0].start_s is not None and 55 <= got[0].start_s <= 59


def test_people_crossing_the_queue_zone_are_not_a_queue():
    passers = [Actor(i + 1, walking((70.0 + 30 * i, 470), (70.0 + 30 * i, 20), 0, 7.5, 60.0)) for i in range(8)]
    assert queues(passers, seconds=10) == []


def test_each_queue_zone_is_its_own_episode():
    other = zone("q-2", "queue", 0.1, 0.7, 0.5, 0.95)  # y 336-456 px
    front = [queuer(i + 1, SPOTS[i], 2.0, NEVER, AT_TILL) for i in range(6)]
    back = [queuer(i + 11, (90.0 + 40 * i, 400.0), 2.0, NEVER, AT_TILL) for i in range(6)]
    got = queues(front + back, seconds=60, zones=(QUEUE, other, TILL))
    assert sorted(e.zone or "" for e in got) == ["q-1", "q-2"]


def test_the_limits_are_configurable():
    three = [queuer(i + 1, SPOTS[i], 2.0, NEVER, AT_TILL) for i in range(3)]
    assert queues(three, seconds=40) == []
    assert len(queues(three, seconds=40, max_length=2)) == 1
