from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest

from storewatch.core import CameraId, Detections, FrameMeta, Track, TrackId, TrackState, track_key
from storewatch.core.detections import box_iou
from storewatch.core.ids import camera_key, is_slug


def test_defaults_and_lengths():
    d = Detections(np.array([[0, 0, 1, 1]]))
    assert len(d) == 1 and d.confidence.tolist() == [1.0] and d.class_id.tolist() == [0]
    assert d.track_id.tolist() == [-1]
    assert len(Detections.empty()) == 0 and Detections.empty().xyxy.shape == (0, 4)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"xyxy": np.zeros((2, 3))}, "shape \\(N, 4\\)"),
        ({"xyxy": [[0, 0, 1, 1]], "confidence": [0.5, 0.5]}, "confidence must have shape"),
        ({"xyxy": [[0, 0, 1, 1]], "class_id": [[1]]}, "class_id must have shape"),
        ({"xyxy": [[2, 0, 1, 1]]}, "x1 <= x2"),
        ({"xyxy": [[0, 0, np.nan, 1]]}, "NaN"),
        ({"xyxy": [[0, 0, 1, 1]], "confidence": [1.5]}, "within \\[0, 1\\]"),
        ({"xyxy": [[0, 0, 1, 1]], "data": {"emb": np.zeros((2, 8))}}, "data column 'emb'"),
    ],
)
def test_validation_errors(kwargs, message):
    with pytest.raises(ValueError, match=message):
        Detections(**kwargs)


def test_inputs_are_copied_and_results_read_only():
    boxes = np.array([[0.0, 0, 10, 10]])
    d = Detections(boxes)
    boxes[0, 0] = 5
    assert d.xyxy[0, 0] == 0
    with pytest.raises(ValueError):
        d.xyxy[0, 0] = 1


def test_selection_merge_and_derivation():
    d = Detections(
        [[0, 0, 10, 20], [5, 5, 15, 15], [1, 1, 2, 2]],
        [0.9, 0.5, 0.2],
        [0, 24, 0],
        data={"zone": np.array([1, 2, 3])},
    )
    people = d.of_classes([0])
    assert people.data["zone"].tolist() == [1, 3]
    assert d[1].class_id.tolist() == [24]
    assert d[[2, 0]].confidence.tolist() == pytest.approx([0.2, 0.9])
    m = Detections.merge([d, Detections([[0, 0, 1, 1]])])
    assert len(m) == 4 and m.data == {}  # only columns every part has
    t = d.with_track_ids([1, 2, 3])
    assert d.track_id.tolist() == [-1, -1, -1] and t.track_id.tolist() == [1, 2, 3]
    assert d.foot.tolist()[0] == [5.0, 20.0] and d.center.tolist()[0] == [5.0, 10.0]
    assert d.clip(8, 8).xyxy[0].tolist() == [0, 0, 8, 8]
    assert d.scale(2, 0.5).xyxy[0].tolist() == [0, 0, 20, 10]
    assert d == Detections(d.xyxy, d.confidence, d.class_id, d.track_id, d.data)
    assert d != d.with_track_ids([1, 2, 3])


def test_box_iou_edge_cases():
    assert box_iou(np.zeros((0, 4)), np.zeros((3, 4))).shape == (0, 3)
    assert box_iou(np.array([[0, 0, 0, 0]]), np.array([[0, 0, 0, 0]])).tolist() == [[0.0]]


def test_frame_meta_validation():
    ok = {
        "camera_id": CameraId("s/c"),
        "seq": 0,
        "mono_s": 0.0,
        "utc": datetime.now(UTC),
        "width": 2,
        "height": 2,
    }
    FrameMeta(**ok)
    for bad, msg in [
        ({"seq": -1}, "seq"),
        ({"utc": datetime(2026, 1, 1)}, "timezone"),
        ({"width": 0}, "size"),
        ({"mono_s": float("nan")}, "finite"),
    ]:
        with pytest.raises(ValueError, match=msg):
            FrameMeta(**{**ok, **bad})


def test_ids_are_namespaced():
    cam = camera_key("store-7", "till-2")
    assert track_key(cam, 3) == "store-7/till-2/3"
    assert is_slug("till-2") and not is_slug("Till 2") and not is_slug("")
    with pytest.raises(ValueError):
        track_key(cam, -1)


def test_track_snapshot_validation():
    with pytest.raises(ValueError, match="last_seen_s"):
        Track(TrackId("a/b/1"), 0, TrackState.CONFIRMED, (0, 0, 1, 1), 0.5, 5.0, 4.0, 1)
