"""Running and grab-and-run. People are 60 px tall here, so 1 body height/s is 60 px/s (a walk is ~48 px/s)."""

from __future__ import annotations

import pytest

from storewatch.behaviour.geometry import Calibration
from storewatch.core.events import Severity
from tests.behaviour.scenario import Actor, engine, line, run, started, walking, zone
from tests.behaviour.scenario_moves import glitch, route

H = 60.0
SHELF = zone("jewellery", "high_value", 0.05, 0.1, 0.3, 0.4)  # x 32-192, y 48-192 px
DOOR = line("door", "exit", (0.3, 0.85), (0.9, 0.85))  # y = 408 px, x 192-576; inside is above
FPS = 10.0


def run_only(actors: list[Actor], seconds: float, **kwargs: object) -> list:
    eng = engine([SHELF], [DOOR], only=["running"], **kwargs)  # type: ignore[arg-type]
    return run(eng, actors, seconds, fps=FPS)


def across(speed_heights_s: float, y: float = 300.0) -> Actor:
    """Left to right across the frame at ``speed_heights_s``."""
    return Actor(1, walking((20, y), (620, y), 0, 600 / (speed_heights_s * H), H))


def test_a_run_across_the_shop_is_running_once_at_low_severity():
    events = run_only([across(3.0)], seconds=5)
    got = started(events, "running")
    assert len(got) == 1
    e = got[0]
    assert e.severity == Severity.LOW and e.values["grab_and_run"] is False
    assert 2.7 <= float(e.values["speed"]) <= 3.3 and "limit 1.8" in e.explanation
    assert e.start_s is not None and e.start_s <= 1.6  # window 1 s + 0.5 s sustained


@pytest.mark.parametrize("speed", [0.8, 1.3, 1.6])
def test_walking_even_briskly_is_not_running(speed: float):
    assert started(run_only([across(speed)], seconds=600 / (speed * H) + 1), "running") == []


def test_one_jumpy_box_in_a_walk_is_not_a_run():
    # one frame thrown two body heights ahead: the end-to-end speed over 1 s would read 0.8 + 2 = 2.8 heights/s
    walk = walking((20, 300), (620, 300), 0, 600 / (0.8 * H), H)
    actors = [Actor(1, glitch(walk, 5.0, 2 * H, fps=FPS)), Actor(2, glitch(walk, 8.0, -2 * H, fps=FPS))]
    assert started(run_only(actors, seconds=14), "running") == []


def test_a_quick_step_aside_is_not_a_run():
    # standing, one body height sideways in 0.3 s (3.3 heights/s frame to frame), standing again
    step = route([(0, 300, 300), (4, 300, 300), (4.3, 360, 300), (9, 360, 300)], H)
    assert started(run_only([Actor(1, step)], seconds=9), "running") == []


def test_running_from_a_high_value_shelf_to_the_door_is_grab_and_run():
    grab = route([(0, 110, 150), (5, 110, 150), (7.5, 450, 470)], H)  # picks for 5 s, then ~3 heights/s out
    got = started(run_only([Actor(1, grab)], seconds=8), "running")
    assert len(got) == 1  # one event, already high: not a low one first
    e = got[0]
    assert e.severity == Severity.HIGH and e.values["grab_and_run"] is True
    assert e.values["visited"] == "jewellery" and e.values["exit"] == "door"
    assert "towards door after jewellery" in e.explanation


def test_running_from_the_shelf_away_from_the_door_is_only_running():
    away = route([(0, 110, 150), (5, 110, 150), (7.5, 630, 150)], H)  # along the top, the door is below
    got = started(run_only([Actor(1, away)], seconds=8), "running")
    assert len(got) == 1 and got[0].severity == Severity.LOW and got[0].values["grab_and_run"] is False


def test_running_to_the_door_without_visiting_a_shelf_is_only_running():
    dash = route([(0, 400, 100), (2.5, 400, 470)], H)  # 370 px in 2.5 s: ~2.5 heights/s straight at the door
    got = started(run_only([Actor(1, dash)], seconds=3), "running")
    assert len(got) == 1 and got[0].severity == Severity.LOW


@pytest.mark.parametrize(("speed_m_s", "runs"), [(1.4, False), (2.2, False), (4.0, True)])
def test_with_a_calibration_the_limit_is_in_metres_per_second(speed_m_s: float, runs: bool):
    cal = Calibration([(0, 0), (640, 0), (640, 480), (0, 480)], [(0, 0), (16, 0), (16, 12), (0, 12)])  # 40 px/m
    walker = Actor(1, walking((20, 300), (620, 300), 0, 15 / speed_m_s, H))
    events = run_only([walker], seconds=15 / speed_m_s + 1, calibration=cal)
    got = started(events, "running")
    assert bool(got) is runs
    if runs:
        assert "m/s (limit 3.0)" in got[0].explanation and 3.6 <= float(got[0].values["speed"]) <= 4.4


def test_the_limit_is_configurable():
    events = run_only([across(1.3)], seconds=9, rules={"running": {"min_speed_heights_s": 1.0}})
    assert len(started(events, "running")) == 1
