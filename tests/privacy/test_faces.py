"""Finding faces: the crop and letterbox geometry (a stub network, no model needed), and the real CenterFace on a
real close-up from the sample camera (skipped, with the fix named, when the model has not been fetched)."""

from __future__ import annotations

import numpy as np
import pytest

from storewatch.core.detections import NO_TRACK, Detections
from storewatch.privacy.blur import blur_faces
from storewatch.privacy.config import PrivacyConfig
from storewatch.privacy.faces import FACE_CLASS_ID, CenterFaceDetector, head_windows
from tests.conftest import PETS_GT, PETS_VIDEO, need_shared
from tests.privacy.conftest import StubBackend
from tests.privacy.test_blur import high_frequency_energy


def test_faces_found_in_a_head_crop_land_on_that_persons_head_in_the_frame(centre_stub: StubBackend) -> None:
    det = CenterFaceDetector(centre_stub, PrivacyConfig(full_frame_max_side_px=0))
    person = Detections(np.array([[100, 100, 140, 200]]), class_id=[0], track_id=[7])
    faces = det.find(np.zeros((300, 400, 3), np.uint8), person)
    assert centre_stub.shapes == [(1, 3, 128, 128)]
    window = head_windows(person)[0]  # [102, 96.4, 138, 132.4]: side 36
    scale = 128 / 36
    centre = np.round(window[:2]) + (16 + 0.5) * 4 / scale  # the stub's face is centred on cell (16, 16)
    assert faces.center[0] == pytest.approx(centre, abs=0.01)
    assert faces.height[0] == pytest.approx(32 / scale, abs=0.01)
    assert faces.track_id.tolist() == [7] and faces.class_id.tolist() == [FACE_CLASS_ID]
    assert faces.data["landmarks"].shape == (1, 5, 2)


def test_the_frame_pass_maps_back_through_the_letterbox(centre_stub: StubBackend) -> None:
    det = CenterFaceDetector(centre_stub, PrivacyConfig(full_frame_max_side_px=480))
    faces = det.in_frame(np.zeros((576, 768, 3), np.uint8))
    assert centre_stub.shapes == [(1, 3, 384, 480)]  # 768x576 scaled by 0.625 to 480x360, padded to /32
    assert faces.center[0] == pytest.approx([(60 + 0.5) * 4 / 0.625, (48 + 0.5) * 4 / 0.625], abs=0.01)
    assert faces.track_id.tolist() == [NO_TRACK]


def test_people_are_searched_in_batches_largest_first_and_small_or_many_are_left_to_the_fallback() -> None:
    stub = StubBackend(lambda gh, gw: (gh // 2, gw // 2))
    det = CenterFaceDetector(stub, PrivacyConfig(full_frame_max_side_px=0, max_people=20))
    boxes = [[10 * i, 10, 10 * i + 20, 10 + 60 + i] for i in range(25)] + [[0, 0, 10, 30]]  # the last: too small
    crowd = Detections(np.array(boxes, np.float32), class_id=np.zeros(26), track_id=np.arange(26))
    faces = det.in_people(np.zeros((200, 400, 3), np.uint8), crowd)
    assert [s[0] for s in stub.shapes] == [16, 4]  # 20 people in batches of at most 16
    assert 25 not in faces.track_id and set(faces.track_id) == set(range(5, 25))  # the 20 tallest
    assert CenterFaceDetector(stub, PrivacyConfig(max_people=0)).in_people(np.zeros((9, 9, 3), np.uint8), crowd) == (
        Detections.empty()
    )


def test_a_track_and_the_detection_it_came_from_are_searched_once(centre_stub: StubBackend) -> None:
    det = CenterFaceDetector(centre_stub, PrivacyConfig(full_frame_max_side_px=0))
    twins = Detections(np.array([[100, 100, 140, 200], [101, 100, 141, 201]]), class_id=[0, 0], track_id=[3, -1])
    assert len(det.find(np.zeros((300, 300, 3), np.uint8), twins)) == 1
    assert centre_stub.shapes == [(1, 3, 128, 128)]


def test_config_checks_its_scores_are_in_order() -> None:
    with pytest.raises(ValueError, match="accept_score"):
        PrivacyConfig(face_score=0.6, accept_score=0.5)


# --- the real model ---------------------------------------------------------------------------------------------


def _close_up() -> tuple[np.ndarray, tuple[float, float]]:
    """A real face: PETS frame 200, the man walking towards the camera (ground-truth id 9), his head and
    shoulders (64 x 64 pixels) enlarged 6 times; and where his face is in the close-up."""
    import cv2

    from storewatch.bench.privacy import read_frames

    frame = read_frames(need_shared(PETS_VIDEO), (200,))[200]
    x0, y0 = 600, 250  # his box is [614, 266, 650, 366]; his face is near (633, 274)
    close = cv2.resize(frame[y0 : y0 + 64, x0 : x0 + 64], (384, 384), interpolation=cv2.INTER_CUBIC)
    return np.asarray(close, np.uint8), ((633 - x0) * 6.0, (274 - y0) * 6.0)


@pytest.mark.models
@pytest.mark.shared
def test_centerface_finds_a_real_face_and_not_after_it_is_blurred(face_detector: CenterFaceDetector) -> None:
    close, where = _close_up()
    faces = face_detector.in_frame(close, max_side_px=384)
    sure = faces[faces.confidence >= 0.5]
    assert len(sure) == 1
    assert np.linalg.norm(sure.center[0] - np.array(where)) < 30  # on his face (the close-up is 384 pixels)
    blurred = blur_faces(close, sure, Detections.empty())
    x1, y1, x2, y2 = sure.xyxy[0].astype(int)
    assert high_frequency_energy(blurred[y1:y2, x1:x2]) < 0.1 * high_frequency_energy(close[y1:y2, x1:x2])
    after = face_detector.in_frame(blurred, max_side_px=384)
    assert not (after.confidence >= face_detector.config.face_score).any()


@pytest.mark.models
@pytest.mark.shared
def test_faces_are_found_in_the_head_areas_of_small_people(face_detector: CenterFaceDetector) -> None:
    """PETS frame 200: people 64-100 pixels tall, faces 8-12 pixels. Ids 9 and 15 face the camera."""
    from storewatch.bench.privacy import hand_checked_people, read_frames

    frame = read_frames(need_shared(PETS_VIDEO), (200,))[200]
    people = hand_checked_people(need_shared(PETS_GT))[200]
    faces = face_detector.in_people(frame, people)
    sure = faces[faces.confidence >= 0.5]
    assert {9, 15} <= set(sure.track_id.tolist())
    for tid in (9, 15):
        head = people.data["head"][people.track_id == tid][0]
        assert np.linalg.norm(sure.center[sure.track_id == tid] - head, axis=1).min() < 4  # pixels
