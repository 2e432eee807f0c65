"""Hiding faces: which areas of a frame to blur (data), and blurring them (a pure function on a copy).

Two kinds of area: every face found (its box padded by ``face_padding`` on each side), and the *body fallback*,
the head area of every person for whom no trustworthy face was found (none in their head area, or one too small
to trust its box: ``min_face_px``). A person is therefore always covered, by their face box or by their head
area; a face found outside any person (the frame pass) is blurred as well.

How strong: each area keeps ``cells_across`` (4) area-averaged cells across its longer side, then those cells
are smoothed back to full size (bilinear), so a padded face (25% each side) keeps under 3 cells across the face
itself, averages of skin and hair colour with no edge to work from. The cell is a quarter of the area's side, so a
near face gets big cells and a far one small cells, never more than those ~3 across the face. Why so coarse:
people still recognise faces of 16 pixels across, and published attacks (McPherson, Shokri and Shmatikov,
"Defeating Image Obfuscation with Deep Learning", 2016) identify faces through mosaics of several cells across the
face and through ordinary face blurring; averaging is many-to-one, so unlike a Gaussian blur it cannot be undone
by deconvolution. The tests check that over 90% of the detail at 4-16 cycles per face width (eyes, nose, mouth
and their spacing) is gone, and that the face detector no longer finds the face.

>>> img = (np.indices((64, 64)).sum(0) % 2 * 255).astype(np.uint8)[..., None].repeat(3, 2)  # 1-pixel checks
>>> out = pixelate(img, np.array([[16, 16, 48, 48]], np.float32), cells_across=4)
>>> int(out[16:48, 16:48].min()), int(out[16:48, 16:48].max()), bool((out[:16] == img[:16]).all())
(128, 128, True)
"""

from __future__ import annotations

import math

import cv2
import numpy as np
from numpy.typing import NDArray

from storewatch.core.detections import Detections
from storewatch.detect.coco import PERSON
from storewatch.privacy.config import PrivacyConfig

REASON_FACE = 0
REASON_BODY = 1
"""``data["reason"]`` of a blurred area: a found face, or the head area of a person without one."""


def face_areas(faces: Detections, padding: float) -> NDArray[np.float32]:
    """(N, 4) face boxes grown by ``padding`` of their width and height on every side."""
    pad = np.stack([faces.width, faces.height], 1) * padding
    return np.concatenate([faces.xyxy[:, :2] - pad, faces.xyxy[:, 2:] + pad], 1).astype(np.float32)


def head_areas(people: Detections, head_fraction: float) -> NDArray[np.float32]:
    """(N, 4) head areas of people's boxes: the top ``head_fraction`` of the box (at least 0.7 of its width tall,
    for a person cut off by the frame's edge), 10% of the box's width wider on each side and 10% of its height
    above (detector boxes often cut off the top of the head).

    >>> head_areas(Detections(np.array([[100, 100, 140, 200]])), 0.3).round(1).tolist()
    [[96.0, 90.0, 144.0, 130.0]]
    """
    b = people.xyxy
    w, h = people.width, people.height
    depth = np.minimum(np.maximum(head_fraction * h, 0.7 * w), h)
    return np.stack([b[:, 0] - 0.1 * w, b[:, 1] - 0.1 * h, b[:, 2] + 0.1 * w, b[:, 1] + depth], 1).astype(np.float32)


def people_with_face(faces: Detections, people: Detections, config: PrivacyConfig) -> NDArray[np.bool_]:
    """Which people have a trustworthy face: sure enough (``accept_score``), tall enough (``min_face_px``), with
    its centre in their head area and within their box's width, and nearer (relative to their height) to where
    their head should be (top centre of the box) than to any other person's who also qualifies: a neighbour's
    face seen in someone's head area does not excuse that person's fallback.

    >>> people = Detections(np.array([[0, 0, 100, 300], [60, 0, 160, 300]]), class_id=[0, 0])
    >>> face = Detections(np.array([[30, 10, 70, 60]]), np.array([0.9]))
    >>> people_with_face(face, people, PrivacyConfig()).tolist()
    [True, False]
    """
    good = faces[(faces.confidence >= config.accept_score) & (faces.height >= config.min_face_px)]
    covered = np.zeros(len(people), np.bool_)
    if len(good) == 0 or len(people) == 0:
        return covered
    heads = head_areas(people, config.head_fraction)
    c = good.center
    inside = (
        (c[None, :, 0] >= people.xyxy[:, None, 0])
        & (c[None, :, 0] <= people.xyxy[:, None, 2])
        & (c[None, :, 1] >= heads[:, None, 1])
        & (c[None, :, 1] <= heads[:, None, 3])
    )  # (people, faces): within the box's own width, in the head area's height
    expected = np.stack([(people.xyxy[:, 0] + people.xyxy[:, 2]) / 2, people.xyxy[:, 1] + 0.1 * people.height], 1)
    dist = np.linalg.norm(c[None, :, :] - expected[:, None, :], axis=2) / np.maximum(people.height, 1.0)[:, None]
    dist = np.where(inside, dist, np.inf)
    for j in range(len(good)):
        if np.isfinite(dist[:, j]).any():
            covered[int(np.argmin(dist[:, j]))] = True
    return covered


def privacy_areas(faces: Detections, people: Detections, config: PrivacyConfig | None = None) -> Detections:
    """The areas to blur: every face above ``face_score`` (padded) and the head area of every person without a
    trustworthy face; ``data["reason"]`` says which (``REASON_FACE``, ``REASON_BODY``), ``track_id`` whose.

    >>> person = Detections(np.array([[100, 100, 140, 200]]), class_id=[0], track_id=[7])
    >>> areas = privacy_areas(Detections.empty(), person)
    >>> areas.data["reason"].tolist(), areas.track_id.tolist()
    ([1], [7])
    """
    cfg = config or PrivacyConfig()
    faces = faces[faces.confidence >= cfg.face_score]
    persons = people[people.class_id == PERSON]
    bare = persons[~people_with_face(faces, persons, cfg)]
    face_boxes = Detections(face_areas(faces, cfg.face_padding), faces.confidence, faces.class_id, faces.track_id)
    body_boxes = Detections(head_areas(bare, cfg.head_fraction), bare.confidence, bare.class_id, bare.track_id)
    return Detections.merge(
        [
            face_boxes.with_data(reason=np.full(len(face_boxes), REASON_FACE)),
            body_boxes.with_data(reason=np.full(len(body_boxes), REASON_BODY)),
        ]
    )


def pixelate(image: NDArray[np.uint8], boxes: NDArray[np.floating], *, cells_across: int = 4) -> NDArray[np.uint8]:
    """A copy of ``image`` in which each box (x1, y1, x2, y2, pixels; clipped to the image, widened to whole
    pixels) keeps ``cells_across`` area-averaged cells across its longer side, smoothed back to full size."""
    out = image.copy()
    h_img, w_img = image.shape[:2]
    for x1f, y1f, x2f, y2f in np.asarray(boxes, np.float64).reshape(-1, 4):
        x1, y1 = max(math.floor(x1f), 0), max(math.floor(y1f), 0)
        x2, y2 = min(math.ceil(x2f), w_img), min(math.ceil(y2f), h_img)
        if x2 <= x1 or y2 <= y1:
            continue
        w, h = x2 - x1, y2 - y1
        nx = max(1, round(cells_across * w / max(w, h)))
        ny = max(1, round(cells_across * h / max(w, h)))
        cells = cv2.resize(out[y1:y2, x1:x2], (nx, ny), interpolation=cv2.INTER_AREA)
        out[y1:y2, x1:x2] = cv2.resize(cells, (w, h), interpolation=cv2.INTER_LINEAR)
    return out


def blur_faces(
    image: NDArray[np.uint8], faces: Detections, people: Detections, config: PrivacyConfig | None = None
) -> NDArray[np.uint8]:
    """A copy of ``image`` with every face and the head area of every person without a trustworthy face blurred
    beyond recognition (``privacy_areas``, then ``pixelate``); the input is not changed."""
    cfg = config or PrivacyConfig()
    return pixelate(image, privacy_areas(faces, people, cfg).xyxy, cells_across=cfg.cells_across)
