"""Properties of ByteTracker that hold for any input. Sequences are generated from a seed: objects that move,
vanish and come back with varying scores, clutter, zero-area boxes, descriptors or none, and a clock that
stutters, stops, jumps and goes backwards."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from storewatch.core import CameraId, Detections, FrameMeta
from storewatch.core.track import TrackState
from storewatch.track import ByteTracker, TrackerConfig

CAM = CameraId("s/c")
TTL_S = 2.0


def sequence(seed: int, n_objects: int, n_frames: int, with_emb: bool) -> list[tuple[float, Detections]]:
    rng = np.random.default_rng(seed)
    start = rng.uniform([0, 0, 10, 20], [600, 400, 60, 160], (n_objects, 4))
    vel = rng.normal(0, 60, (n_objects, 2))
    cls = rng.choice([0, 24], n_objects)
    colour = rng.normal(size=(n_objects, 3))
    colour /= np.linalg.norm(colour, axis=1, keepdims=True)
    steps = rng.choice([0.1, 0.04, 0.0, -0.3, 0.7, 3.0], n_frames, p=[0.5, 0.2, 0.08, 0.07, 0.1, 0.05])
    out, t = [], 0.0
    for step in steps:
        t += float(step)
        here = rng.random(n_objects) < 0.8
        n_clutter = int(rng.integers(0, 3))
        x, y = start[here, 0] + vel[here, 0] * t, start[here, 1] + vel[here, 1] * t
        w, h = start[here, 2], start[here, 3]
        boxes = np.concatenate(
            [np.stack([x, y, x + w, y + h], 1), rng.uniform(0, 500, (n_clutter, 2)).repeat(2, 1)]
        )  # clutter boxes have zero area ...
        boxes[len(x) :, 2:] += rng.choice([0.0, 30.0], (n_clutter, 1))  # ... or not
        boxes += rng.normal(0, 2, boxes.shape)
        boxes[:, 2:] = np.maximum(boxes[:, 2:], boxes[:, :2])
        scores = np.clip(rng.normal(0.6, 0.3, len(boxes)), 0, 1)
        classes = np.concatenate([cls[here], rng.choice([0, 24], n_clutter)])
        data = None
        if with_emb:
            emb = np.concatenate([colour[here], np.zeros((n_clutter, 3))])
            data = {"embedding": emb}
        out.append((t, Detections(boxes, scores, classes, data=data)))
    return out


@settings(max_examples=200, deadline=None)
@given(
    st.integers(0, 2**32 - 1),
    st.integers(0, 6),
    st.integers(1, 40),
    st.booleans(),
    st.sampled_from(["detection", "filtered"]),
    st.integers(1, 3),
)
def test_invariants_hold_for_any_sequence(seed, n_objects, n_frames, with_emb, report_box, min_hits):
    tracker = ByteTracker(TrackerConfig(report_box=report_box, min_hits=min_hits, lost_ttl_s=TTL_S), CAM)
    latest, ended_before, highest = -np.inf, set(), 0
    for seq, (t, dets) in enumerate(sequence(seed, n_objects, n_frames, with_emb)):
        latest = max(latest, t)
        out = tracker.update(dets, FrameMeta(CAM, seq, t, datetime(2026, 1, 1, tzinfo=UTC), 640, 480))
        idx = out.data["det_index"]
        ids = out.track_id.tolist()
        # the output lines up with the input rows it reports
        assert len(set(ids)) == len(ids) and len(set(idx.tolist())) == len(idx)
        assert np.array_equal(out.class_id, dets.class_id[idx])
        assert np.array_equal(out.confidence, dets.confidence[idx])
        assert (dets.width[idx] > 0).all() and (dets.height[idx] > 0).all()
        if report_box == "detection":
            assert np.array_equal(out.xyxy, dets.xyxy[idx])
        # reported = confirmed and matched now, on a clock that never goes back
        live = {int(s.track_id.rsplit("/", 1)[1]): s for s in tracker.tracks()}  # snapshots validate themselves
        for n in ids:
            assert live[n].state == TrackState.CONFIRMED and live[n].last_seen_s == latest
        # an id ends once, is never reused, and nothing outlives lost_ttl_s
        ended = set(tracker.ended_ids())
        assert not ended & set(live) and not ended & ended_before
        assert not (set(live) | set(ids)) & ended_before
        assert all(latest - s.last_seen_s <= TTL_S for s in live.values())
        ended_before |= ended
        highest = max([highest, *live, *ended])
    assert highest == len(ended_before) + len(tracker.tracks())  # numbered 1, 2, ... with no gaps
    tracker.reset()
    assert tracker.tracks() == [] and tracker.ended_ids() == ()


def test_a_track_not_looked_for_coasts_and_is_not_lost():
    from datetime import UTC, datetime

    from storewatch.core import CameraId, Detections, FrameMeta
    from storewatch.track.bytetrack import ByteTracker

    def meta(i):
        return FrameMeta(CameraId("s/c"), i, i * 0.2, datetime(2026, 1, 1, tzinfo=UTC), 640, 480)

    tracker = ByteTracker(camera_id=CameraId("s/c"))
    for i in range(4):  # walking right at 50 px/s
        out = tracker.update(Detections([[100 + 10 * i, 100, 140 + 10 * i, 200]], [0.9]), meta(i))
    assert out.data["coasted"].tolist() == [False]
    # the detector looked elsewhere: the track is carried on its prediction, marked coasting
    out = tracker.update(Detections.empty(), meta(4), looked_at=np.array([[400, 0, 640, 480]], np.float32))
    assert out.track_id.tolist() == [1] and out.data["coasted"].tolist() == [True]
    assert out.data["det_index"].tolist() == [-1]
    assert out.xyxy[0, 0] == pytest.approx(140, abs=4)  # moved on with the person
    assert tracker.tracks()[0].state.value == "confirmed"
    # looked for (the window holds it) and not found: lost, no longer reported
    out = tracker.update(Detections.empty(), meta(5), looked_at=np.array([[0, 0, 400, 480]], np.float32))
    assert len(out) == 0 and tracker.tracks()[0].state.value == "lost"


def test_tracks_can_be_predicted_to_a_later_time():
    from datetime import UTC, datetime

    from storewatch.core import CameraId, Detections, FrameMeta
    from storewatch.track.bytetrack import ByteTracker

    tracker = ByteTracker(camera_id=CameraId("s/c"))
    for i in range(5):
        meta = FrameMeta(CameraId("s/c"), i, i * 0.2, datetime(2026, 1, 1, tzinfo=UTC), 640, 480)
        tracker.update(Detections([[100 + 10 * i, 100, 140 + 10 * i, 200]], [0.9]), meta)
    now = tracker.tracks()[0].box_xyxy[0]
    later = tracker.tracks(at_s=0.8 + 1.0)[0].box_xyxy[0]
    assert later - now == pytest.approx(50, abs=10)
