"""The ``access`` section of the site file: which camera, line and restricted zone watch each door, and the
rules' thresholds. Strict, every field described and bounded; the site checks that each door's store, camera,
line and zone exist (``SiteConfig``).

>>> cfg = AccessConfig.model_validate({"doors": [{"store": "s1", "door": "D-101", "camera": "s1/back",
...                                               "line": "door", "zone": "stockroom"}]})
>>> cfg.door("s1", "D-101").line, cfg.rules.tailgating.window_s
('door', 5.0)
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

from storewatch.pos.config import CameraRef, DropFolderSource, Slug, timezone_name
from storewatch.pos.model import PosId


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DoorMapping(_Strict):
    store: Slug = Field(description="The site's store id.")
    door: PosId = Field(description="The door as the access system names it.")
    camera: CameraRef | None = Field(None, description="The camera watching the door: store/camera of the site file.")
    line: Slug | None = Field(None, description="The camera's line across the doorway (its inside side: entering).")
    zone: Slug | None = Field(None, description="The restricted zone behind the door (a zone of the camera).")


class TailgatingConfig(_Strict):
    enabled: bool = Field(True, description="Whether the rule raises exceptions.")
    before_s: float = Field(2.0, ge=0.0, le=60.0, description="A crossing this long before a grant still counts.")
    window_s: float = Field(5.0, gt=0.0, le=120.0, description="People crossing this long after a grant count.")


class RestrictedEntryConfig(_Strict):
    enabled: bool = Field(True, description="Whether the rule raises exceptions.")
    window_s: float = Field(10.0, gt=0.0, le=600.0, description="A grant this long before the entry covers it.")
    after_s: float = Field(2.0, ge=0.0, le=60.0, description="Or this long after (the reader logs late).")


class AfterHoursConfig(_Strict):
    enabled: bool = Field(True, description="Whether the rule raises exceptions.")
    include_denied: bool = Field(True, description="Denied badge reads out of hours count too.")


class ForcedDoorConfig(_Strict):
    enabled: bool = Field(True, description="Whether the rule raises exceptions.")
    grace_s: float = Field(3.0, ge=0.0, le=60.0, description="A door opened this long after a grant is not forced.")


class AccessRulesConfig(_Strict):
    tailgating: TailgatingConfig = Field(default_factory=TailgatingConfig, description="More people than badges.")
    restricted_entry: RestrictedEntryConfig = Field(
        default_factory=RestrictedEntryConfig, description="Entering the door's restricted zone without a badge."
    )
    after_hours: AfterHoursConfig = Field(default_factory=AfterHoursConfig, description="Badges used while closed.")
    forced_door: ForcedDoorConfig = Field(default_factory=ForcedDoorConfig, description="Door open, no grant.")


class ClipConfig(_Strict):
    before_s: float = Field(10.0, ge=0.0, le=600.0, description="Video linked from before the exception.")
    after_s: float = Field(10.0, ge=0.0, le=600.0, description="And after it.")


class AccessHttpSource(_Strict):
    """``POST /api/v1/access/events`` on the dashboard app, signed as the POS endpoint is (HMAC-SHA256 over
    ``<timestamp>.<body>`` in ``X-Storewatch-Signature`` with this source's own secret) or sent with an API token
    holding ``access.ingest`` (for the token's stores)."""

    enabled: bool = Field(False, description="Whether the dashboard app accepts access events over HTTP.")
    secret_env: str = Field(
        "STOREWATCH_ACCESS_SECRET",
        pattern=r"^[A-Z_][A-Z0-9_]{0,63}$",
        description="Environment variable holding the shared secret (never the secret itself in the site file); "
        "unset: API tokens only.",
    )
    max_body_mb: float = Field(8.0, gt=0.0, le=1024.0, description="Largest body accepted (413 beyond).")


class AccessSources(_Strict):
    drop_folders: list[DropFolderSource] = Field(
        default_factory=list, max_length=100, description="Folders the access system writes event files into."
    )
    http: AccessHttpSource = Field(default_factory=AccessHttpSource, description="The dashboard's HTTP endpoint.")


class AccessConfig(_Strict):
    sources: AccessSources = Field(default_factory=AccessSources, description="Where badge events come from.")
    timezone: Annotated[str, AfterValidator(timezone_name)] = Field(
        "UTC", description="IANA time zone of event times written without an offset."
    )
    doors: list[DoorMapping] = Field(default_factory=list, max_length=10_000, description="Door -> camera.")
    rules: AccessRulesConfig = Field(default_factory=AccessRulesConfig, description="Rules and thresholds.")
    clip: ClipConfig = Field(default_factory=ClipConfig, description="Video linked to each exception.")

    @field_validator("doors")
    @classmethod
    def _unique(cls, doors: list[DoorMapping]) -> list[DoorMapping]:
        seen: set[tuple[str, str]] = set()
        for d in doors:
            if (d.store, d.door) in seen:
                raise ValueError(f"door {d.store}/{d.door} is mapped twice")
            seen.add((d.store, d.door))
        return doors

    def door(self, store: str, door: str) -> DoorMapping | None:
        for d in self.doors:
            if d.store == store and d.door == door:
                return d
        return None
