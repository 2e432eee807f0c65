from __future__ import annotations

import numpy as np

from storewatch.detect.gated import GatedDetector
from tests.helpers import CountingDetector


def scene(x=None):
    img = np.full((480, 640, 3), 80, np.uint8)
    if x is not None:
        img[200:300, x : x + 40] = 255
    return img


def test_still_scene_costs_only_the_periodic_full_frame():
    det = CountingDetector()
    gate = GatedDetector(det, full_frame_interval_s=2.0)
    for i in range(50):  # 5 s at 10 fps of an empty, still scene
        assert len(gate.detect(scene(), i * 0.1)) == 0
    assert det.full == 3 and det.windows == [] and gate.stats.idle_frames == 47


def test_motion_is_looked_at_in_windows_at_the_right_place():
    det = CountingDetector()
    gate = GatedDetector(det, full_frame_interval_s=10.0)
    gate.detect(scene(), 0.0)  # full frame, learns the background
    out = gate.detect(scene(300), 0.1)  # someone walks in
    assert det.full == 1 and len(det.windows) == 1
    x1, y1, x2, y2 = det.windows[0]
    assert x1 <= 300 and x2 >= 340 and y1 <= 200 and y2 >= 300 and (x2 - x1) * (y2 - y1) < 0.2 * 640 * 480
    assert out.xyxy.tolist() == [[300.0, 200.0, 340.0, 300.0]]
    assert gate.stats.input_pixels < 2 * 640 * 480


def test_naive_mode_runs_the_full_frame_every_time():
    det = CountingDetector()
    gate = GatedDetector(det, naive=True)
    for i in range(5):
        gate.detect(scene(100 + 10 * i), i * 0.1)
    assert det.full == 5 and det.windows == []


def test_tracked_people_are_rechecked_even_when_still():
    det = CountingDetector()
    gate = GatedDetector(det, full_frame_interval_s=10.0, recheck_interval_s=1.0)
    gate.detect(scene(300), 0.0)
    tracked = np.array([[300, 200, 340, 300]], np.float32)
    outs = [gate.detect(scene(300), 0.1 * i, tracked) for i in range(1, 12)]
    assert len(det.windows) >= 1 and sum(len(o) for o in outs) >= 1


def test_window_detection_sees_what_the_full_frame_sees(pets_people):
    from storewatch.core.detections import box_iou

    det, image, people = pets_people
    for box in people.xyxy:
        w, h = box[2] - box[0], box[3] - box[1]
        window = (box[0] - w, box[1] - h / 2, box[2] + w, box[3] + h / 2)
        seen = det.detect_window(image, window)
        assert box_iou(box[None], seen.xyxy).max() > 0.7


def _tracked(boxes, seen, confirmed):
    from storewatch.detect.gated import Tracked

    return Tracked(np.asarray(boxes, np.float32), np.asarray(seen, np.float64), np.asarray(confirmed, np.bool_))


def test_a_tracked_persons_motion_is_excused_but_they_are_looked_at_in_a_window():
    det = CountingDetector()
    gate = GatedDetector(det, full_frame_interval_s=10.0, mosaic=False)
    gate.look(scene(), 0.0)  # full frame, learns the background
    walking = _tracked([[300, 200, 340, 300]], [0.0], [True])
    look = gate.look(scene(300), 0.2, walking)
    assert len(det.windows) == 1 and look.windows is not None
    x1, y1, x2, y2 = det.windows[0]
    # the window is around the track (not a motion blob grown from the dilated mask) and holds it whole
    assert x1 <= 300 and x2 >= 340 and y1 <= 200 and y2 >= 300 and (x2 - x1) < 100
    assert look.detections.xyxy.tolist() == [[300.0, 200.0, 340.0, 300.0]]


def test_with_a_refresh_interval_a_confirmed_track_coasts_between_looks():
    det = CountingDetector()
    gate = GatedDetector(det, full_frame_interval_s=10.0, refresh_interval_s=0.3, mosaic=False)
    gate.look(scene(), 0.0)
    walking = _tracked([[300, 200, 340, 300]], [0.0], [True])
    assert len(gate.look(scene(300), 0.2, walking).windows) == 0  # seen 0.2 s ago: not looked at
    assert len(gate.look(scene(302), 0.4, walking).windows) == 1  # 0.4 s: due again
    assert gate.stats.explained_blobs == 1


def test_motion_a_tentative_track_makes_is_not_excused():
    det = CountingDetector()
    gate = GatedDetector(det, full_frame_interval_s=10.0, mosaic=False)
    gate.look(scene(), 0.0)
    newcomer = _tracked([[300, 200, 340, 300]], [0.1], [False])
    gate.look(scene(300), 0.2, newcomer)
    assert len(det.windows) == 1


def test_motion_on_a_large_frame_is_found_at_the_right_place():
    from storewatch.detect.motion import MotionDetector

    m = MotionDetector()
    still = np.full((576, 768, 3), 90, np.uint8)
    m.regions(still, 0.0)
    moved = still.copy()
    moved[200:400, 300:360] = 250  # a person-sized change on a frame downscaled in two steps
    (box,) = m.regions(moved, 0.2).tolist()
    assert box[0] <= 300 and box[1] <= 200 and box[2] >= 360 and box[3] >= 400
    assert box[2] - box[0] < 140 and box[3] - box[1] < 280


def test_a_slowly_served_camera_does_not_run_the_full_frame_every_time():
    det = CountingDetector()
    gate = GatedDetector(det, full_frame_interval_s=3.0, full_frame_min_frames=5)
    for i in range(20):  # an overloaded machine serves the camera every 4 s
        gate.detect(scene(), 4.0 * i)
    assert det.full == 4  # frames 0, 5, 10, 15, not all 20


def test_full_frame_min_frames_must_be_positive():
    import pytest

    with pytest.raises(ValueError, match="full_frame_min_frames"):
        GatedDetector(CountingDetector(), full_frame_min_frames=0)
