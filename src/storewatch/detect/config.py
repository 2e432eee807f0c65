"""Configuration of the object detector."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, field_validator

from storewatch.detect.coco import COCO_CLASSES


class BackendKind(StrEnum):
    ONNXRUNTIME = "onnxruntime"
    OPENVINO = "openvino"


class DetectorConfig(BaseModel):
    """Which model runs, where, and what it keeps."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    model: str = Field("nanodet", description="Name of a model in the model cache (see `storewatch models list`).")
    backend: BackendKind = Field(BackendKind.ONNXRUNTIME, description="Inference engine.")
    threads: int = Field(2, ge=1, le=64, description="Inference threads.")
    input_width_px: int = Field(416, ge=96, le=1920, multiple_of=32, description="Network input width.")
    input_height_px: int = Field(416, ge=96, le=1920, multiple_of=32, description="Network input height.")
    score_threshold: float = Field(
        0.1,
        gt=0.0,
        lt=1.0,
        description="Detections scoring below this are dropped. Kept low on purpose: the tracker uses weak detections "
        "only to follow people it already tracks (through partial occlusion), never to start a track.",
    )
    nms_iou: float = Field(0.5, gt=0.0, le=1.0, description="IoU above which same-class boxes are suppressed.")
    classes: tuple[str, ...] = Field(
        ("person", "backpack", "handbag", "suitcase"),
        min_length=1,
        description="COCO class names to keep.",
    )

    @field_validator("classes")
    @classmethod
    def _known_classes(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        unknown = [c for c in v if c not in COCO_CLASSES]
        if unknown:
            raise ValueError(f"unknown COCO class name(s): {', '.join(unknown)}")
        return v

    @property
    def class_ids(self) -> tuple[int, ...]:
        return tuple(COCO_CLASSES.index(c) for c in self.classes)
