"""Camera tampering: view blocked, camera moved, out of focus, view too dark.

Checked about once a second on a small grey copy of the frame, against a reference view learned while the camera
looks normal (and refreshed slowly, so daylight changes are absorbed). A condition must last ``persist_s`` before
it is raised, and is ended when it has been clear for as long, so a person walking close past the lens does not
raise "blocked". Measures, all cheap:

* too dark: mean brightness;
* blocked (covered, sprayed, turned to a wall): most of the picture has no texture (tile standard deviation);
* out of focus: sharpness (variance of the Laplacian) fallen well below the reference's;
* moved: the picture shifted against the reference (phase correlation), or no longer resembles it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import cv2
import numpy as np
from numpy.typing import NDArray
from pydantic import BaseModel, ConfigDict, Field


class TamperKind(StrEnum):
    TOO_DARK = "too_dark"
    BLOCKED = "blocked"
    OUT_OF_FOCUS = "out_of_focus"
    MOVED = "moved"


class TamperConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = Field(True, description="Whether the camera's view is checked for tampering.")
    check_interval_s: float = Field(1.0, gt=0.0, le=60.0, description="How often the view is checked.")
    persist_s: float = Field(5.0, ge=0.0, le=600.0, description="How long a condition must last to be raised.")
    dark_mean_max: float = Field(20.0, ge=0.0, le=255.0, description="Mean grey level below which the view is dark.")
    blocked_fraction: float = Field(0.75, gt=0.0, le=1.0, description="Fraction of textureless tiles = blocked.")
    focus_ratio_min: float = Field(0.3, gt=0.0, lt=1.0, description="Sharpness below this share of the reference.")
    moved_shift_fraction: float = Field(0.05, gt=0.0, lt=1.0, description="Shift, as a share of the width = moved.")
    moved_similarity_min: float = Field(
        0.3, ge=-1.0, lt=1.0, description="Correlation with the reference below = moved."
    )
    reference_time_s: float = Field(600.0, gt=0.0, description="Time constant of the reference view's refresh.")


@dataclass(frozen=True, slots=True)
class TamperEvent:
    kind: TamperKind
    started: bool
    """True when the condition is raised, False when it has cleared."""
    t_s: float
    value: float
    message: str


_WIDTH = 160
_TILE = 16


def _grey(image: NDArray[np.uint8]) -> NDArray[np.float32]:
    h, w = image.shape[:2]
    small = cv2.resize(image, (_WIDTH, max(8, round(h * _WIDTH / w))), interpolation=cv2.INTER_AREA)
    return np.asarray(cv2.cvtColor(small, cv2.COLOR_BGR2GRAY), np.float32)


def _sharpness(grey: NDArray[np.float32]) -> float:
    return float(np.var(cv2.Laplacian(grey, cv2.CV_32F)))


def _textureless_fraction(grey: NDArray[np.float32]) -> float:
    h, w = (grey.shape[0] // _TILE) * _TILE, (grey.shape[1] // _TILE) * _TILE
    tiles = grey[:h, :w].reshape(h // _TILE, _TILE, w // _TILE, _TILE).std(axis=(1, 3))
    return float((tiles < 4.0).mean())


def _similarity(a: NDArray[np.float32], b: NDArray[np.float32]) -> float:
    a0, b0 = a - a.mean(), b - b.mean()
    denom = float(np.sqrt((a0**2).sum() * (b0**2).sum()))
    return float((a0 * b0).sum() / denom) if denom > 0 else 0.0


class TamperDetector:
    """``update(image, t_s) -> [TamperEvent]``: raised and cleared conditions; ``active`` holds the raised ones."""

    def __init__(self, config: TamperConfig | None = None) -> None:
        self.config = config or TamperConfig()
        self.reset()

    def reset(self) -> None:
        self._reference: NDArray[np.float32] | None = None
        self._ref_sharpness = 0.0
        self._last_check: float | None = None
        self._since: dict[TamperKind, float] = {}
        self._clear_since: dict[TamperKind, float] = {}
        self.active: set[TamperKind] = set()

    def measure(self, grey: NDArray[np.float32]) -> dict[TamperKind, tuple[bool, float, str]]:
        """Each condition: (present, measured value, explanation) for one grey frame."""
        cfg = self.config
        mean = float(grey.mean())
        dark = mean < cfg.dark_mean_max
        flat = _textureless_fraction(grey)
        blocked = not dark and flat >= cfg.blocked_fraction
        sharp = _sharpness(grey)
        ratio = sharp / self._ref_sharpness if self._ref_sharpness > 0 else 1.0
        blurred = not (dark or blocked) and ratio < cfg.focus_ratio_min
        moved, shift, sim = False, 0.0, 1.0
        if self._reference is not None and not (dark or blocked or blurred):
            (dx, dy), _ = cv2.phaseCorrelate(self._reference, grey)
            shift = float(np.hypot(dx, dy)) / grey.shape[1]
            sim = _similarity(self._reference, grey)
            moved = shift > cfg.moved_shift_fraction or sim < cfg.moved_similarity_min
        return {
            TamperKind.TOO_DARK: (dark, mean, f"mean brightness {mean:.0f} below {cfg.dark_mean_max:.0f}"),
            TamperKind.BLOCKED: (blocked, flat, f"{flat:.0%} of the view has no texture"),
            TamperKind.OUT_OF_FOCUS: (blurred, ratio, f"sharpness {ratio:.0%} of the normal view"),
            TamperKind.MOVED: (
                moved,
                max(shift, 1 - sim),
                f"view shifted {shift:.0%} of its width, similarity {sim:.2f}",
            ),
        }

    def update(self, image: NDArray[np.uint8], t_s: float) -> list[TamperEvent]:
        if self._last_check is not None and t_s - self._last_check < self.config.check_interval_s:
            return []
        dt = 0.0 if self._last_check is None else t_s - self._last_check
        self._last_check = t_s
        grey = _grey(image)
        if self._reference is None or self._reference.shape != grey.shape:
            self._reference, self._ref_sharpness = grey, _sharpness(grey)
            return []
        results = self.measure(grey)
        events = [e for kind, r in results.items() if (e := self._step(kind, r, t_s)) is not None]
        if not any(present for present, _, _ in results.values()):
            alpha = 1.0 - float(np.exp(-dt / self.config.reference_time_s))
            cv2.accumulateWeighted(grey, self._reference, alpha)
            self._ref_sharpness += alpha * (_sharpness(grey) - self._ref_sharpness)
        return events

    def _step(self, kind: TamperKind, result: tuple[bool, float, str], t_s: float) -> TamperEvent | None:
        present, value, message = result
        persist = self.config.persist_s
        if present:
            self._clear_since.pop(kind, None)
            start = self._since.setdefault(kind, t_s)
            if kind not in self.active and t_s - start >= persist:
                self.active.add(kind)
                return TamperEvent(kind, True, t_s, value, message)
            return None
        self._since.pop(kind, None)
        if kind in self.active:
            clear = self._clear_since.setdefault(kind, t_s)
            if t_s - clear >= persist:
                self.active.discard(kind)
                self._clear_since.pop(kind, None)
                return TamperEvent(kind, False, t_s, value, f"{kind.value.replace('_', ' ')} cleared")
        return None
