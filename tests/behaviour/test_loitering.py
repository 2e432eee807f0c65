from __future__ import annotations

from tests.behaviour.scenario import Actor, engine, run, standing, started, walking, zone

SHELF = zone("electronics", "high_value", 0.25, 0.25, 0.75, 0.75)


def test_staying_at_a_shelf_past_the_limit_is_loitering_once():
    eng = engine([SHELF], only=["loitering"], rules={"loitering": {"dwell_s": 30}})
    events = run(eng, [Actor(1, standing(320, 240, 0, 100))], seconds=100)
    got = started(events, "loitering")
    assert len(got) == 1  # one episode, not one event per frame
    e = got[0]
    assert e.zone == "electronics" and e.track_ids == ("s1/cam/1",)
    assert 30 <= e.start_s <= 31 and e.values["dwell_s"] >= 30 and "limit 30 s" in e.explanation
    ended = [x for x in events if x.state.value == "ended"]
    assert ended and ended[-1].end_s >= 99


def test_walking_through_is_not_loitering():
    eng = engine([SHELF], only=["loitering"], rules={"loitering": {"dwell_s": 30}})
    events = run(eng, [Actor(1, walking((100, 240), (600, 240), 0, 40))], seconds=45)
    assert started(events, "loitering") == []


def test_stepping_out_briefly_continues_the_stay():
    eng = engine([SHELF], only=["loitering"], rules={"loitering": {"dwell_s": 30, "merge_gap_s": 10}})

    def path(t):
        x = 500 if 12 <= t < 16 else 320  # 4 s just outside the zone's right edge (x > 480)
        return standing(x, 240, 0, 60)(t)

    events = run(eng, [Actor(1, path)], seconds=35)
    got = started(events, "loitering")
    assert len(got) == 1 and got[0].start_s <= 31


def test_a_camera_without_zones_watches_the_whole_frame():
    eng = engine([], only=["loitering"], rules={"loitering": {"dwell_s": 20}})
    got = started(run(eng, [Actor(1, standing(100, 400, 0, 30))], seconds=30), "loitering")
    assert len(got) == 1 and got[0].zone == "frame"


def test_a_zone_armed_by_a_schedule_is_quiet_outside_it():
    from storewatch.behaviour.schedule import StoreSchedule

    night_only = StoreSchedule(schedules={"night": {day: ["20:00-06:00"] for day in ("mon", "tue")}})
    actors = [Actor(1, standing(320, 240, 0, 60))]
    noon = engine([SHELF], only=["loitering"], rules={"loitering": {"dwell_s": 30}}, schedule=night_only,
                  zone_armed={"electronics": "night"})  # fmt: skip
    assert started(run(noon, actors, seconds=60), "loitering") == []  # T0 is Monday noon
    from tests.behaviour.scenario import T0

    late = engine([SHELF], only=["loitering"], rules={"loitering": {"dwell_s": 30}}, schedule=night_only,
                  zone_armed={"electronics": "night"})  # fmt: skip
    assert len(started(run(late, actors, seconds=60, start_utc=T0.replace(hour=21)), "loitering")) == 1
