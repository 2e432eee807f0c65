"""What the camera view and the editors take and give (one schema per direction, as ``web.schemas``).

Zones and lines travel as the site file's own ``Zone`` / ``Line`` mappings (normalised 0-1 coordinates), so the
editor validates exactly what the file will hold; an edited shape carries the id it had when loaded (``was``), so a
renamed zone keeps its place and comments in the file.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from storewatch.web.schemas import CameraHealth


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FrameMode(StrEnum):
    LIVE = "live"
    """The camera's newest frame from the runner in this process."""
    SNAPSHOT = "snapshot"
    """The newest event snapshot of the camera (the runner is another process)."""
    NONE = "none"


class TrackPublic(_Out):
    id: int = Field(description="Track number within the camera.")
    label: str = Field(description="What it is: person, backpack, ...")
    box: tuple[float, float, float, float] = Field(description="x1, y1, x2, y2 normalised 0-1 of the frame.")
    confidence: float


class LiveViewPublic(_Out):
    camera: str = Field(description="store/camera")
    mode: FrameMode
    frame_url: str | None = Field(description="The image to show (refreshed while mode is live).")
    frame_age_s: float | None = Field(None, description="Age of the live frame.")
    snapshot_utc: datetime | None = Field(None, description="When the snapshot was taken (mode snapshot).")
    tracks: list[TrackPublic] = Field(description="People and objects tracked on that frame (mode live).")
    zones: list[dict[str, Any]] = Field(description="The camera's zones, as in the site file.")
    lines: list[dict[str, Any]] = Field(description="The camera's lines, as in the site file.")


class CameraPublic(_Out):
    id: str = Field(description="store/camera")
    store: str
    store_name: str
    name: str
    health: CameraHealth
    zones: int
    lines: int
    enabled: bool
    live: bool = Field(description="Whether the dashboard runs in the same process as the cameras (live frames).")


class GeometryPublic(_Out):
    camera: str
    version: str = Field(description="The site file's version the shapes come from; send it back when saving.")
    zones: list[dict[str, Any]]
    lines: list[dict[str, Any]]
    zone_kinds: list[str]
    line_kinds: list[str]
    can_edit: bool = Field(description="Whether the current user may save (administrator, or the store's manager).")
    applies_live: bool = Field(description="Whether a save reaches the running cameras at once.")


class ShapeEdit(_In):
    was: str | None = Field(None, max_length=63, description="The id the shape had when loaded (None: new).")
    data: dict[str, Any] = Field(description="The zone or line, as in the site file.")


class GeometryIn(_In):
    version: str | None = Field(
        None, max_length=64, description="The version the editor loaded; a save over a newer file is refused."
    )
    zones: list[ShapeEdit] = Field(default_factory=list, max_length=200)
    lines: list[ShapeEdit] = Field(default_factory=list, max_length=200)


class ShapeProblem(_Out):
    shape: Literal["zone", "line"]
    index: int = Field(description="Position in the zones or lines sent.")
    field: str = Field(description="Which of its fields ('' for the shape as a whole).")
    message: str


class GeometryCheckPublic(_Out):
    ok: bool
    problems: list[ShapeProblem]
    general: list[str] = Field(description="Problems of the site file as a whole (e.g. a rule watches a zone removed).")


class SavedPublic(_Out):
    version: str = Field(description="The file's new version.")
    backup: str | None = Field(description="File name of the previous version, kept beside the site file.")
    applied_live: bool = Field(description="Whether the running cameras took the change already.")
    message: str
