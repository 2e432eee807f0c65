"""Settings of face blurring: which model, how hard it looks, how much is hidden.

Privacy masks are not here: they are a camera's zones of kind ``privacy`` (see ``privacy.masks``), so one polygon
both keeps the rules out of an area and blacks it out of every picture.

>>> PrivacyConfig().crop_size_px, PrivacyConfig(face_score=0.4).face_score
(128, 0.4)
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator

from storewatch.detect.config import BackendKind


class PrivacyConfig(BaseModel):
    """How faces are found and hidden in everything a person sees or exports."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = Field(
        True, description="Blur faces in snapshots and path pictures (on by default; turning it off is audited later)."
    )
    weak_person_score: float = Field(
        0.2,
        ge=0.0,
        le=1.0,
        description="Person detections this sure that no track explains are protected too (someone behind a "
        "pole the tracker never followed).",
    )
    face_model: str = Field("centerface", description="Face detector in the model cache (`storewatch models list`).")
    backend: BackendKind = Field(BackendKind.ONNXRUNTIME, description="Inference engine of the face detector.")
    threads: int = Field(2, ge=1, le=64, description="Inference threads of the face detector.")
    face_score: float = Field(
        0.3,
        gt=0.0,
        lt=1.0,
        description="Faces scoring above this are blurred. Low on purpose: blurring a patch that is not a face "
        "costs a little detail, missing a face costs someone's privacy.",
    )
    accept_score: float = Field(
        0.5,
        gt=0.0,
        lt=1.0,
        description="A face at least this sure (and at least min_face_px tall) in a person's head area stands in "
        "for the body fallback of that person; otherwise the person's whole head area is blurred too.",
    )
    min_face_px: int = Field(
        20,
        ge=4,
        le=400,
        description="Faces shorter than this (frame pixels) are too small to trust their box alone: the person's "
        "head area is blurred as well.",
    )
    crop_size_px: int = Field(
        128,
        ge=64,
        le=512,
        multiple_of=32,
        description="Side of the square the head area of each person is scaled to for the face detector: small "
        "people are enlarged (their faces would be a few pixels in the frame), large ones reduced.",
    )
    min_person_height_px: int = Field(
        40,
        ge=8,
        le=2000,
        description="People shorter than this (frame pixels) are not searched for a face: the body fallback "
        "blurs their head area anyway.",
    )
    max_people: int = Field(
        32,
        ge=0,
        le=512,
        description="At most this many people per frame are searched for a face (largest first); the others get "
        "the body fallback. Bounds the cost of a crowded frame.",
    )
    full_frame_max_side_px: int = Field(
        480,
        ge=0,
        le=1920,
        description="Also search the whole frame, scaled to at most this many pixels on its longer side, for "
        "faces of people nobody detected (0: only people's head areas are searched).",
    )
    face_padding: float = Field(
        0.25, ge=0.0, le=1.0, description="Fraction of a face box's width and height added on every side."
    )
    head_fraction: float = Field(
        0.3,
        gt=0.0,
        le=1.0,
        description="Body fallback: the top this fraction of a person's box (and at least 0.7 of its width, for "
        "people cut off by the frame's edge) is blurred, widened by 10% of the box's width on each side.",
    )
    cells_across: int = Field(
        4,
        ge=1,
        le=8,
        description="Each blurred area keeps only this many averaged cells across its longer side (then smoothed), "
        "so a padded face keeps about 3: too few to recognise anyone.",
    )

    @model_validator(mode="after")
    def _scores_in_order(self) -> PrivacyConfig:
        if self.accept_score < self.face_score:
            raise ValueError(f"accept_score ({self.accept_score}) must not be below face_score ({self.face_score})")
        return self
