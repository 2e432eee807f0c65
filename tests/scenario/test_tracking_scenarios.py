"""Scenarios: per-frame boxes with timestamps driven through the tracker, asserting identities."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from storewatch.core import CameraId, Detections, FrameMeta
from storewatch.core.track import TrackState
from storewatch.track import ByteTracker, TrackerConfig

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
CAM = CameraId("store-1/aisle-3")


def meta(seq: int, t: float) -> FrameMeta:
    return FrameMeta(CAM, seq, t, T0 + timedelta(seconds=t), 768, 576)


def person(x: float, y: float = 200, w: float = 30, h: float = 80, score: float = 0.9) -> tuple:
    return ([x, y, x + w, y + h], score, 0)


def frame(*objects: tuple, emb: list[np.ndarray] | None = None) -> Detections:
    if not objects:
        return Detections.empty()
    boxes, scores, classes = zip(*objects, strict=True)
    data = {"embedding": np.stack(emb)} if emb is not None else None
    return Detections(np.array(boxes), np.array(scores), np.array(classes), data=data)


def run(tracker: ByteTracker, frames: list[Detections], dt: float = 0.1, times: list[float] | None = None):
    outs = []
    for i, dets in enumerate(frames):
        t = times[i] if times else i * dt
        outs.append(tracker.update(dets, meta(i, t)))
    return outs


def ids_at(out: Detections, x_min: float, x_max: float) -> list[int]:
    cx = (out.xyxy[:, 0] + out.xyxy[:, 2]) / 2
    return out.track_id[(cx >= x_min) & (cx <= x_max)].tolist()


def test_two_people_walking_past_each_other_keep_their_ids():
    colours = [np.eye(4)[0], np.eye(4)[1]]  # clearly different clothes
    frames = [frame(person(100 + 10 * i, 200), person(400 - 10 * i, 230), emb=colours) for i in range(30)]
    outs = run(ByteTracker(camera_id=CAM), frames)
    first_a, first_b = outs[1].track_id.tolist()
    for i, out in enumerate(outs[1:], 1):
        assert len(out) == 2
        a_x, b_x = 100 + 10 * i + 15, 400 - 10 * i + 15
        if abs(a_x - b_x) < 10:
            continue  # the frame where they stand on the same spot
        assert ids_at(out, a_x - 1, a_x + 1) == [first_a], f"frame {i}"
    assert first_a != first_b


def test_short_occlusion_keeps_the_id_and_long_one_ends_the_track():
    cfg = TrackerConfig(lost_ttl_s=3.0)
    frames = [frame(person(100 + 5 * i)) for i in range(10)]
    frames += [frame() for _ in range(10)]  # hidden for 1 s
    frames += [frame(person(100 + 5 * i)) for i in range(20, 25)]
    tracker = ByteTracker(cfg, CAM)
    outs = run(tracker, frames)
    assert set(outs[-1].track_id.tolist()) == {1}
    # now hide for 4 s (> lost_ttl_s): the person comes back as a new track
    tracker2 = ByteTracker(cfg, CAM)
    frames2 = [frame(person(100)) for _ in range(5)] + [frame() for _ in range(40)] + [frame(person(100))] * 3
    outs2 = run(tracker2, frames2)
    assert outs2[-1].track_id.tolist() == [2]


def test_weak_detections_extend_a_track_but_never_start_one():
    frames = [frame(person(100 + 5 * i)) for i in range(5)]
    frames += [frame(person(100 + 5 * i, score=0.3)) for i in range(5, 10)]  # partly occluded
    frames += [frame(person(100 + 5 * i)) for i in range(10, 12)]
    outs = run(ByteTracker(camera_id=CAM), frames)
    assert all(o.track_id.tolist() == [1] for o in outs[1:])
    lonely = run(ByteTracker(camera_id=CAM), [frame(person(300, score=0.3)) for _ in range(10)])
    assert all(len(o) == 0 for o in lonely)


def test_one_frame_false_positive_is_never_reported():
    frames = [frame(person(100)) for _ in range(3)]
    frames.append(frame(person(100), person(600, 50, score=0.95)))  # flash of a false detection
    frames += [frame(person(100)) for _ in range(5)]
    outs = run(ByteTracker(camera_id=CAM), frames)
    reported = set().union(*[set(o.track_id.tolist()) for o in outs])
    assert reported == {1}


def test_uneven_frame_times_keep_ids():
    times = [0.0, 0.1, 0.2, 0.6, 0.7, 1.5, 1.6, 1.7]  # the camera stalls twice
    frames = [frame(person(100 + 40 * t, w=40)) for t in times]
    outs = run(ByteTracker(camera_id=CAM), frames, times=times)
    assert all(o.track_id.tolist() == [1] for o in outs[1:])


def test_classes_are_tracked_separately():
    bag = ([110, 240, 130, 275], 0.9, 24)
    frames = [frame(person(100), bag) for _ in range(5)]
    out = run(ByteTracker(camera_id=CAM), frames)[-1]
    assert sorted(out.class_id.tolist()) == [0, 24] and len(set(out.track_id.tolist())) == 2


def test_reset_forgets_everything_and_inputs_are_not_mutated():
    tracker = ByteTracker(camera_id=CAM)
    dets = frame(person(100))
    before = dets.xyxy.copy()
    run(tracker, [dets] * 3)
    assert np.array_equal(dets.xyxy, before) and dets.track_id.tolist() == [-1]
    tracker.reset()
    assert tracker.tracks() == []
    out = run(tracker, [frame(person(300))] * 2)[-1]
    assert out.track_id.tolist() == [1]


def test_snapshots_and_ended_ids():
    tracker = ByteTracker(TrackerConfig(lost_ttl_s=0.5), CAM)
    run(tracker, [frame(person(100))] * 3)
    (snap,) = tracker.tracks()
    assert snap.track_id == "store-1/aisle-3/1" and snap.state == TrackState.CONFIRMED and snap.hits == 3
    tracker.update(frame(), meta(3, 0.3))
    assert tracker.tracks()[0].state == TrackState.LOST and tracker.ended_ids() == ()
    tracker.update(frame(), meta(4, 1.0))
    assert tracker.tracks() == [] and tracker.ended_ids() == (1,)


def test_appearance_refinds_a_person_after_their_prediction_drifted():
    red, blue = np.eye(4)[0], np.eye(4)[1]
    frames = [frame(person(100 + 8 * i), emb=[red]) for i in range(10)]  # walking right
    frames += [frame() for _ in range(15)]  # stops behind a pillar; the prediction walks on
    frames += [frame(person(180), emb=[red]) for _ in range(3)]
    outs = run(ByteTracker(camera_id=CAM), frames)
    assert outs[-1].track_id.tolist() == [1]
    other = [frame(person(100 + 8 * i), emb=[red]) for i in range(10)] + [frame() for _ in range(15)]
    other += [frame(person(180), emb=[blue]) for _ in range(3)]  # someone else appears there
    outs = run(ByteTracker(camera_id=CAM), other)
    assert outs[-1].track_id.tolist() == [2]


@pytest.mark.parametrize("n", [0, 1, 50])
def test_update_handles_any_number_of_detections(n):
    rng = np.random.default_rng(n)
    xy = rng.uniform(0, 700, (n, 2))
    dets = Detections(np.concatenate([xy, xy + [30, 80]], 1), rng.uniform(0.05, 1, n), np.zeros(n))
    out = ByteTracker(camera_id=CAM).update(dets, meta(0, 0.0))
    assert len(out) == int((dets.confidence >= 0.7).sum())
