"""Scenarios: per-frame boxes with timestamps driven through the tracker, asserting identities and lifetimes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from storewatch.core import CameraId, Detections, FrameMeta
from storewatch.core.track import TrackState
from storewatch.track import ByteTracker, TrackerConfig

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
CAM = CameraId("store-1/aisle-3")
PERSON, BACKPACK = 0, 24


def meta(seq: int, t: float) -> FrameMeta:
    return FrameMeta(CAM, seq, t, T0 + timedelta(seconds=max(t, 0.0)), 768, 576)


def person(x: float, y: float = 200, w: float = 30, h: float = 80, score: float = 0.9, cls: int = PERSON) -> tuple:
    return ([x, y, x + w, y + h], score, cls)


def frame(*objects: tuple, emb: list[np.ndarray] | None = None) -> Detections:
    if not objects:
        return Detections.empty()
    boxes, scores, classes = zip(*objects, strict=True)
    data = {"embedding": np.stack(emb)} if emb is not None else None
    return Detections(np.array(boxes), np.array(scores), np.array(classes), data=data)


def run(tracker: ByteTracker, frames: list[Detections], dt: float = 0.1, times: list[float] | None = None):
    outs = []
    for i, dets in enumerate(frames):
        outs.append(tracker.update(dets, meta(i, times[i] if times else i * dt)))
    return outs


def id_at(out: Detections, cx: float) -> int:
    """The id of the one reported box whose centre x is within 1 px of ``cx``."""
    centres = (out.xyxy[:, 0] + out.xyxy[:, 2]) / 2
    (ids,) = [out.track_id[np.abs(centres - cx) <= 1.0].tolist()]
    assert len(ids) == 1, (cx, centres)
    return int(ids[0])


def reported(outs: list[Detections]) -> set[int]:
    return set().union(*[set(o.track_id.tolist()) for o in outs])


# --- identities ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("with_appearance", [False, True])
def test_two_people_walking_past_each_other_keep_their_ids(with_appearance):
    """A walks right, B walks left, 30 px lower; their boxes overlap for several frames as they pass."""
    colours = [np.eye(4)[0], np.eye(4)[1]] if with_appearance else None
    xa = [100 + 10 * i for i in range(30)]
    xb = [400 - 10 * i for i in range(30)]
    frames = [frame(person(a, 200), person(b, 230), emb=colours) for a, b in zip(xa, xb, strict=True)]
    outs = run(ByteTracker(camera_id=CAM), frames)
    a_id, b_id = id_at(outs[0], xa[0] + 15), id_at(outs[0], xb[0] + 15)
    assert a_id != b_id
    for i, out in enumerate(outs):
        assert len(out) == 2, f"frame {i}"
        if abs(xa[i] - xb[i]) < 10:
            continue  # the frame where both centres are on the same spot: positions cannot tell them apart
        assert (id_at(out, xa[i] + 15), id_at(out, xb[i] + 15)) == (a_id, b_id), f"frame {i}"


def test_short_occlusion_keeps_the_id():
    """Hidden for 1 s with lost_ttl_s 3: re-found by the prediction, reported again with the same id."""
    tracker = ByteTracker(TrackerConfig(lost_ttl_s=3.0), CAM)
    frames = [frame(person(100 + 5 * i)) for i in range(10)]
    frames += [frame() for _ in range(10)]  # 1.0 s behind a shelf, still walking
    frames += [frame(person(100 + 5 * i)) for i in range(20, 25)]
    outs = run(tracker, frames)
    assert all(len(o) == 0 for o in outs[10:20])
    assert [o.track_id.tolist() for o in outs[20:]] == [[1]] * 5
    assert reported(outs) == {1}


def test_occlusion_longer_than_lost_ttl_gives_a_new_id_and_reports_the_end():
    tracker = ByteTracker(TrackerConfig(lost_ttl_s=3.0), CAM)
    ended_at = []
    for i in range(5):
        tracker.update(frame(person(100)), meta(i, i * 0.1))
    for i in range(5, 40):  # hidden from 0.5 s to 4.0 s: lost at 0.5 s, last seen 0.4 s
        tracker.update(frame(), meta(i, i * 0.1))
        if tracker.ended_ids():
            ended_at.append((i * 0.1, tracker.ended_ids()))
    assert len(ended_at) == 1 and ended_at[0][1] == (1,)
    assert 3.0 < ended_at[0][0] - 0.4 < 3.1 + 1e-9  # the first frame more than 3 s after it was last seen
    outs = [tracker.update(frame(person(100)), meta(i, i * 0.1)) for i in range(40, 43)]
    assert [o.track_id.tolist() for o in outs] == [[], [2], [2]]  # new, so tentative until its second hit


def test_low_score_stretch_keeps_the_id_through_the_second_association():
    frames = [frame(person(100 + 5 * i)) for i in range(5)]
    frames += [frame(person(100 + 5 * i, score=0.3)) for i in range(5, 10)]  # partly hidden by a rack
    frames += [frame(person(100 + 5 * i)) for i in range(10, 13)]
    outs = run(ByteTracker(camera_id=CAM), frames)
    assert [o.track_id.tolist() for o in outs] == [[1]] * 13
    assert outs[7].confidence.tolist() == pytest.approx([0.3])  # the weak detection's own score
    # Without the second association (weak detections ignored) the track is not seen during the stretch.
    outs = run(ByteTracker(TrackerConfig(low_score=0.4), CAM), frames)
    assert all(len(o) == 0 for o in outs[5:10]) and outs[-1].track_id.tolist() == [1]


def test_weak_detections_never_start_a_track():
    outs = run(ByteTracker(camera_id=CAM), [frame(person(300, score=0.45)) for _ in range(10)])
    assert all(len(o) == 0 for o in outs)


def test_one_frame_false_positive_is_never_reported_and_ends_at_once():
    tracker = ByteTracker(camera_id=CAM)
    run(tracker, [frame(person(100)) for _ in range(3)])
    out = tracker.update(frame(person(100), person(600, 50, score=0.95)), meta(3, 0.3))  # a flash
    assert out.track_id.tolist() == [1]
    assert {t.state for t in tracker.tracks()} == {TrackState.CONFIRMED, TrackState.TENTATIVE}
    out = tracker.update(frame(person(100)), meta(4, 0.4))
    assert out.track_id.tolist() == [1] and tracker.ended_ids() == (2,) and len(tracker.tracks()) == 1
    outs = [tracker.update(frame(person(100)), meta(i, i * 0.1)) for i in range(5, 9)]
    assert reported(outs) == {1}


@pytest.mark.parametrize(
    "times",
    [
        [0.0, 0.1, 0.2, 0.3, 0.4, 1.2, 1.3, 1.4, 2.4, 2.5],  # 10 fps; the camera stalls for 0.8 s, then 1 s
        [0.0, 0.04, 0.08, 0.12, 0.16, 0.2, 0.6, 0.64, 1.1, 1.14],  # 25 fps with drops
    ],
)
def test_frame_drops_keep_ids_because_prediction_uses_seconds(times):
    """Walking 100 px/s, 40 px wide: after a 0.8 s stall the person is 80 px on, far from where a one-frame
    prediction would put them (no overlap at all). Only a prediction in seconds finds them."""
    frames = [frame(person(100 + 100 * t, w=40, h=100)) for t in times]
    outs = run(ByteTracker(camera_id=CAM), frames, times=times)
    assert [o.track_id.tolist() for o in outs] == [[1]] * len(times)


def test_classes_are_tracked_separately():
    bag = ([110, 240, 130, 275], 0.9, BACKPACK)  # carried: inside the person's box
    frames = [frame(person(100 + 3 * i), ([110 + 3 * i, 240, 130 + 3 * i, 275], 0.9, BACKPACK)) for i in range(5)]
    outs = run(ByteTracker(camera_id=CAM), frames)
    for out in outs:
        assert sorted(zip(out.class_id.tolist(), out.track_id.tolist(), strict=True)) == [(PERSON, 1), (BACKPACK, 2)]
    # A track never switches class: the same box labelled as a bag is not the person's track.
    tracker = ByteTracker(camera_id=CAM)
    run(tracker, [frame(person(100)) for _ in range(3)])
    out = tracker.update(frame(([100, 200, 130, 280], 0.9, BACKPACK)), meta(3, 0.3))
    assert len(out) == 0 and {(t.class_id, t.state) for t in tracker.tracks()} == {
        (PERSON, TrackState.LOST),
        (BACKPACK, TrackState.TENTATIVE),
    }
    assert bag  # the carried bag above overlaps the person by design


def test_a_lost_duplicate_lying_on_an_older_track_ends_at_once():
    """The detector fires twice on one person for two frames: the duplicate track ends as soon as it is lost,
    instead of lingering for lost_ttl_s where it could take over the person's detections."""
    tracker = ByteTracker(camera_id=CAM)
    run(tracker, [frame(person(100)) for _ in range(3)])
    outs = [tracker.update(frame(person(100), person(101, 201, score=0.8)), meta(i, i * 0.1)) for i in (3, 4)]
    assert outs[-1].track_id.tolist() == [1, 2]
    tracker.update(frame(person(100)), meta(5, 0.5))
    assert tracker.ended_ids() == (2,) and [t.track_id for t in tracker.tracks()] == ["store-1/aisle-3/1"]


def test_appearance_refinds_a_person_after_their_prediction_drifted():
    red, blue = np.eye(4)[0], np.eye(4)[1]
    frames = [frame(person(100 + 8 * i), emb=[red]) for i in range(10)]  # walking right
    frames += [frame() for _ in range(15)]  # stops behind a pillar; the prediction walks on
    frames += [frame(person(180), emb=[red]) for _ in range(3)]
    assert run(ByteTracker(camera_id=CAM), frames)[-1].track_id.tolist() == [1]
    other = frames[:25] + [frame(person(180), emb=[blue]) for _ in range(3)]  # someone else appears there
    assert run(ByteTracker(camera_id=CAM), other)[-1].track_id.tolist() == [2]


# --- output, snapshots, lifetimes ---------------------------------------------------------------------------


def test_output_lines_up_with_the_input_rows():
    tracker = ByteTracker(camera_id=CAM)
    tag = np.array(["a", "b", "c"])
    for i in range(3):
        dets = frame(person(400, score=0.2), person(100 + i, score=0.8), person(250 + i, score=0.95))
        out = tracker.update(dets.with_data(tag=tag), meta(i, i * 0.1))
    assert out.data["det_index"].tolist() == [1, 2]
    assert out.data["tag"].tolist() == ["b", "c"]
    assert out.confidence.tolist() == pytest.approx([0.8, 0.95])
    assert np.array_equal(out.xyxy, dets.xyxy[[1, 2]])
    assert out.track_id.tolist() == [1, 2] and out.class_id.tolist() == [PERSON, PERSON]


def test_report_box_filtered_is_the_smoothed_estimate():
    rng = np.random.default_rng(1)
    jitter = rng.normal(0, 3, (20, 4))
    frames = [Detections([[100 + 5 * i, 200, 130 + 5 * i, 280] + jitter[i]], [0.9]) for i in range(20)]
    truth = np.array([[100 + 5 * i, 200, 130 + 5 * i, 280] for i in range(20)], float)
    raw = run(ByteTracker(TrackerConfig(report_box="detection"), CAM), frames)
    smooth = run(ByteTracker(TrackerConfig(report_box="filtered"), CAM), frames)
    assert np.array_equal(raw[-1].xyxy, frames[-1].xyxy)
    err_raw = np.abs(np.concatenate([o.xyxy for o in raw[10:]]) - truth[10:]).mean()
    err_smooth = np.abs(np.concatenate([o.xyxy for o in smooth[10:]]) - truth[10:]).mean()
    assert err_smooth < err_raw
    assert smooth[-1].track_id.tolist() == [1] and smooth[-1].data["det_index"].tolist() == [0]


@pytest.mark.parametrize(("confirm_first_frame", "first_reported"), [(True, [1]), (False, [])])
def test_first_frame_confirmation_is_configurable(confirm_first_frame, first_reported):
    tracker = ByteTracker(TrackerConfig(confirm_first_frame=confirm_first_frame), CAM)
    outs = run(tracker, [frame(person(100))] * 3)
    assert [o.track_id.tolist() for o in outs] == [first_reported, [1], [1]]


@pytest.mark.parametrize(("min_hits", "first_seen"), [(1, 1), (2, 2), (4, 4)])
def test_tracks_are_reported_after_min_hits(min_hits, first_seen):
    tracker = ByteTracker(TrackerConfig(min_hits=min_hits), CAM)
    tracker.update(frame(), meta(0, 0.0))  # the sequence starts empty: no first-frame confirmation
    outs = run(tracker, [frame(person(100))] * 6, times=[0.1 * i for i in range(1, 7)])
    assert [len(o) for o in outs] == [0] * (first_seen - 1) + [1] * (7 - first_seen)


def test_snapshots_and_ended_ids():
    tracker = ByteTracker(TrackerConfig(lost_ttl_s=0.5), CAM)
    run(tracker, [frame(person(100))] * 3)
    (snap,) = tracker.tracks()
    assert snap.track_id == "store-1/aisle-3/1" and snap.state == TrackState.CONFIRMED and snap.hits == 3
    assert snap.first_seen_s == 0.0 and snap.last_seen_s == pytest.approx(0.2) and snap.class_id == PERSON
    tracker.update(frame(), meta(3, 0.3))
    assert tracker.tracks()[0].state == TrackState.LOST and tracker.ended_ids() == ()
    tracker.update(frame(), meta(4, 1.0))
    assert tracker.tracks() == [] and tracker.ended_ids() == (1,)
    tracker.update(frame(), meta(5, 1.1))
    assert tracker.ended_ids() == ()  # only the last update's endings


def test_reset_forgets_everything():
    tracker = ByteTracker(camera_id=CAM)
    run(tracker, [frame(person(100), person(300))] * 3, times=[100.0, 100.1, 100.2])
    tracker.reset()
    assert tracker.tracks() == [] and tracker.ended_ids() == ()
    # numbering restarts at 1, the clock too (an earlier time is a new sequence, not time going backwards),
    # and the first frame confirms at once again
    out = tracker.update(frame(person(500)), meta(0, 0.0))
    assert out.track_id.tolist() == [1]
    (snap,) = tracker.tracks()
    assert snap.first_seen_s == 0.0 and snap.hits == 1


def test_inputs_are_never_modified():
    tracker = ByteTracker(camera_id=CAM)
    emb = np.array([[1.0, 0.0], [0.0, 1.0]])
    dets = frame(person(100), person(300, score=0.3), emb=list(emb))
    copies = (dets.xyxy.copy(), dets.confidence.copy(), dets.class_id.copy(), dets.track_id.copy(), emb.copy())
    outs = run(tracker, [dets] * 4)
    assert np.array_equal(dets.xyxy, copies[0]) and np.array_equal(dets.confidence, copies[1])
    assert np.array_equal(dets.class_id, copies[2]) and dets.track_id.tolist() == [-1, -1]
    assert np.array_equal(dets.data["embedding"], copies[4]) and set(dets.data) == {"embedding"}
    assert all(o is not dets for o in outs) and outs[-1].track_id.tolist() == [1]


# --- robustness ---------------------------------------------------------------------------------------------


def test_empty_and_all_weak_inputs():
    tracker = ByteTracker(camera_id=CAM)
    out = tracker.update(Detections.empty(), meta(0, 0.0))
    assert len(out) == 0 and "det_index" in out.data and tracker.tracks() == []
    out = tracker.update(frame(person(100, score=0.2), person(200, score=0.05)), meta(1, 0.1))
    assert len(out) == 0 and tracker.tracks() == []


def test_zero_area_boxes_are_ignored():
    tracker = ByteTracker(camera_id=CAM)
    dets = frame(([50, 50, 50, 90], 0.9, 0), ([60, 60, 90, 60], 0.9, 0), ([0, 0, 0, 0], 0.9, 0), person(200))
    outs = run(tracker, [dets] * 3)
    assert [o.data["det_index"].tolist() for o in outs] == [[3]] * 3
    assert len(tracker.tracks()) == 1


def test_time_going_backwards_counts_as_no_time():
    tracker = ByteTracker(camera_id=CAM)
    times = [0.0, 0.1, 0.2, 0.15, 0.05, 0.3, 0.3, 0.4]
    frames = [frame(person(100 + 2 * i)) for i in range(2)]
    frames += [frame(person(100 + 2 * i), person(400)) for i in range(2, len(times))]  # B appears at 0.2
    outs = run(tracker, frames, times=times)
    assert [o.track_id.tolist() for o in outs] == [[1], [1], [1], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2]]
    a, b = tracker.tracks()  # snapshots are valid: never last seen before first seen
    assert (a.first_seen_s, a.last_seen_s, a.hits) == (0.0, pytest.approx(0.4), len(times))
    assert (b.first_seen_s, b.last_seen_s) == (pytest.approx(0.2), pytest.approx(0.4))
    tracker.update(frame(person(400)), meta(8, 0.1))
    b = next(t for t in tracker.tracks() if t.track_id.endswith("/2"))
    assert b.last_seen_s == pytest.approx(0.4) and b.hits == 7  # the clock stays at the latest time


def test_a_very_large_gap_ends_every_track():
    tracker = ByteTracker(camera_id=CAM)
    run(tracker, [frame(person(100), person(300))] * 3)
    out = tracker.update(frame(person(100), person(300)), meta(3, 1e7))
    assert tracker.ended_ids() == (1, 2) and out.track_id.tolist() == []  # the same place, but too long ago
    assert {t.track_id for t in tracker.tracks()} == {"store-1/aisle-3/3", "store-1/aisle-3/4"}
    assert all(np.isfinite(t.box_xyxy).all() for t in tracker.tracks())


@pytest.mark.parametrize("n", [0, 1, 50])
def test_update_handles_any_number_of_detections(n):
    rng = np.random.default_rng(n)
    xy = rng.uniform(0, 700, (n, 2))
    dets = Detections(np.concatenate([xy, xy + [30, 80]], 1), rng.uniform(0.05, 1, n), rng.integers(0, 3, n))
    out = ByteTracker(camera_id=CAM).update(dets, meta(0, 0.0))
    assert len(out) == int((dets.confidence >= 0.7).sum())
    assert sorted(out.data["det_index"].tolist()) == np.flatnonzero(dets.confidence >= 0.7).tolist()
