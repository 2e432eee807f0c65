"""The site configuration: one YAML file per site with its stores, cameras, zones and lines, and the perception
settings. Strict (unknown keys are errors), every field described and bounded, units in names. Later sections
(rules, alerts, integrations) get their own models beside these.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

from storewatch.access.config import AccessConfig
from storewatch.actions.config import ActionConfig, SiteFacts, check_actions
from storewatch.alerts.config import AlertsConfig, MqttChannel
from storewatch.behaviour.engine import rule_configs
from storewatch.behaviour.rules.base import RuleConfig
from storewatch.behaviour.schedule import StoreSchedule
from storewatch.config.geometry import check_polygon, check_segment
from storewatch.core.ids import is_slug
from storewatch.detect.config import DetectorConfig
from storewatch.detect.tampering import TamperConfig
from storewatch.incidents.config import IncidentsConfig
from storewatch.inventory.config import InventoryConfig
from storewatch.media.config import LocalMedia, MediaConfig
from storewatch.pos.config import PosConfig
from storewatch.privacy.config import PrivacyConfig
from storewatch.retention.config import RetentionConfig
from storewatch.routing.routes import Route
from storewatch.track.config import TrackerConfig
from storewatch.video.segments import RecordingConfig

_SOURCE_SCHEMES = ("rtsp://", "rtsps://", "http://", "https://", "rtmp://", "udp://", "srt://", "file://", "v4l2://")


def _slug(value: str) -> str:
    if not is_slug(value):
        raise ValueError("must be a slug: lower-case letters, digits, '-' or '_', starting with a letter or digit")
    return value


def _timezone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {value!r} (use an IANA name such as Europe/London)") from None
    return value


Slug = Annotated[str, Field(min_length=1, max_length=63), AfterValidator(_slug)]
TimeZone = Annotated[str, AfterValidator(_timezone)]
Point = tuple[float, float]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ZoneKind(StrEnum):
    SHELF = "shelf"
    HIGH_VALUE = "high_value"
    CHECKOUT = "checkout"
    QUEUE = "queue"
    ENTRANCE = "entrance"
    EXIT = "exit"
    STAFF_ONLY = "staff_only"
    CASH_OFFICE = "cash_office"
    FIRE_EXIT = "fire_exit"
    PRIVACY = "privacy"
    CUSTOM = "custom"


class Anchor(StrEnum):
    FOOT = "foot"
    CENTER = "center"


class LineKind(StrEnum):
    ENTRANCE = "entrance"
    EXIT = "exit"
    CUSTOM = "custom"


class Side(StrEnum):
    LEFT = "left"
    RIGHT = "right"


class Zone(_Strict):
    id: Slug = Field(description="Zone id, unique within its camera.")
    name: str = Field("", max_length=120, description="Name shown to people.")
    kind: ZoneKind = Field(description="What the area is; rules choose zones by kind.")
    polygon: list[Point] = Field(
        min_length=3, max_length=64, description="Corners as [x, y], normalised 0-1 of the frame's width and height."
    )
    anchor: Anchor = Field(Anchor.FOOT, description="Which point of a person's box decides membership.")
    armed: str | None = Field(
        None, description="Schedule name (the store's, or open/closed) outside which nothing is raised in this zone."
    )

    _polygon = field_validator("polygon")(check_polygon)


class Line(_Strict):
    id: Slug = Field(description="Line id, unique within its camera.")
    name: str = Field("", max_length=120, description="Name shown to people.")
    kind: LineKind = Field(LineKind.CUSTOM, description="What crossing it means.")
    points: list[Point] = Field(min_length=2, max_length=2, description="Two [x, y] points, normalised 0-1.")
    direction_in: Side = Field(Side.LEFT, description="Side of the a->b vector that counts as inside.")

    _points = field_validator("points")(check_segment)


class RtspTransport(StrEnum):
    TCP = "tcp"
    UDP = "udp"


class Camera(_Strict):
    id: Slug = Field(description="Camera id, unique within its store.")
    name: str = Field("", max_length=120, description="Name shown to people.")
    source: str = Field(min_length=1, description="Stream URL (rtsp, http, ...) or a video file path.")
    sub_source: str | None = Field(None, description="Low-resolution stream to detect on, if the camera has one.")
    detect_fps: float = Field(5.0, ge=0.5, le=30.0, description="Detector runs per second on this camera.")
    rtsp_transport: RtspTransport = Field(
        RtspTransport.TCP, description="RTSP over TCP (robust, the default) or UDP (lower latency on a clean LAN)."
    )
    enabled: bool = Field(True, description="Whether the camera is analysed.")
    zones: list[Zone] = Field(default_factory=list, description="Areas of the view.")
    lines: list[Line] = Field(default_factory=list, description="Counting and entrance lines.")
    record: RecordingConfig = Field(
        default_factory=RecordingConfig, description="Continuous recording of the main stream, with retention."
    )
    tampering: TamperConfig = Field(
        default_factory=TamperConfig, description="Camera tampering checks (blocked, moved, out of focus, dark)."
    )
    rules: dict[str, dict[str, Any]] = Field(
        default_factory=dict, description="Rule settings for this camera, over the site's (by rule type)."
    )
    calibration: Calibration | None = Field(
        None, description="Four image points and their ground positions in metres: speeds and distances in metres."
    )

    @field_validator("source", "sub_source")
    @classmethod
    def _source_scheme(cls, v: str | None) -> str | None:
        if v is None or "://" not in v or v.lower().startswith(_SOURCE_SCHEMES):
            return v
        raise ValueError(f"unsupported scheme in {v!r} (use {', '.join(s[:-3] for s in _SOURCE_SCHEMES)} or a path)")

    @model_validator(mode="after")
    def _unique_ids(self) -> Camera:
        _require_unique("zone", [z.id for z in self.zones])
        _require_unique("line", [ln.id for ln in self.lines])
        _check_rules(self.rules, {z.id for z in self.zones}, f"camera {self.id}")
        return self


class Store(_Strict):
    id: Slug = Field(description="Store id, unique within the site.")
    name: str = Field("", max_length=120, description="Name shown to people.")
    timezone: TimeZone | None = Field(None, description="IANA time zone; defaults to the site's.")
    schedule: StoreSchedule = Field(
        default_factory=StoreSchedule, description="Opening hours, holidays and named schedules that arm rules."
    )
    cameras: list[Camera] = Field(default_factory=list, description="The store's cameras.")

    @model_validator(mode="after")
    def _unique_cameras(self) -> Store:
        _require_unique("camera", [c.id for c in self.cameras])
        return self


class Site(_Strict):
    id: Slug = Field(description="Site id.")
    name: str = Field("", max_length=120, description="Name shown to people.")
    timezone: TimeZone = Field("UTC", description="IANA time zone of the site.")


class CaptureMode(StrEnum):
    THREAD = "thread"
    PROCESS = "process"


class RuntimeConfig(_Strict):
    """How ``storewatch run`` runs the site's cameras on this machine."""

    data_dir: str = Field(
        "storewatch-data", min_length=1, description="Where events, snapshots, clips and recordings are written."
    )
    status_host: str = Field("127.0.0.1", description="Address the status server (/metrics, /status) binds to.")
    status_port: int = Field(9108, ge=0, le=65535, description="Port of the status server (0 = any free port).")
    capture: CaptureMode = Field(
        CaptureMode.THREAD, description="Decode each camera in a thread, or in a supervised worker process."
    )
    ring_s: float = Field(30.0, ge=2.0, le=600.0, description="Seconds of encoded video kept in memory per camera.")
    clip_before_s: float = Field(10.0, ge=0.0, le=300.0, description="Seconds of video an event clip has before.")
    clip_after_s: float = Field(5.0, ge=0.0, le=120.0, description="Seconds of video an event clip has after.")
    snapshot_quality: int = Field(85, ge=10, le=100, description="JPEG quality of event snapshots.")
    retention_check_s: float = Field(60.0, ge=5.0, le=86400.0, description="How often recordings are pruned.")
    record_tracks: bool = Field(
        True, description="Keep every camera's tracks as CSV per day (for storewatch backtest and replays)."
    )
    media: MediaConfig = Field(
        default_factory=LocalMedia,
        description="Where snapshots and clips are kept: `kind: local` (under data_dir) or `kind: s3` (an "
        "S3-compatible bucket; the files are written locally first, then uploaded, and alert links are served "
        "from the bucket).",
    )
    database_url: str | None = Field(
        None,
        description="Where events are stored: a SQLAlchemy URL (postgresql+psycopg://...); default SQLite in data_dir.",
    )

    @model_validator(mode="after")
    def _clip_fits_ring(self) -> RuntimeConfig:
        if self.clip_before_s + self.clip_after_s > self.ring_s:
            raise ValueError(
                f"clip_before_s + clip_after_s ({self.clip_before_s + self.clip_after_s:g} s) must fit in "
                f"ring_s ({self.ring_s:g} s)"
            )
        return self


class SiteConfig(_Strict):
    """A whole site file."""

    site: Site = Field(description="The site's identity.")
    stores: list[Store] = Field(min_length=1, description="Stores of the site.")
    detector: DetectorConfig = Field(default_factory=DetectorConfig, description="Object detector settings.")
    tracker: TrackerConfig = Field(default_factory=TrackerConfig, description="Tracker settings.")
    runtime: RuntimeConfig = Field(default_factory=RuntimeConfig, description="How the cameras are run here.")
    rules: dict[str, dict[str, Any]] = Field(
        default_factory=dict, description="Behaviour rule settings for every camera, by rule type (see the docs)."
    )
    alerts: AlertsConfig = Field(default_factory=AlertsConfig, description="Alert channels (webhook, e-mail...).")
    routes: list[Route] = Field(
        default_factory=list,
        description="Which events go to which channels, with escalation (default: every event to every channel).",
    )
    privacy: PrivacyConfig = Field(
        default_factory=PrivacyConfig,
        description="Face blurring in everything people see or export (masks are the cameras' zones of kind privacy).",
    )
    incidents: IncidentsConfig = Field(
        default_factory=IncidentsConfig, description="Which events open incidents and how they are grouped."
    )
    retention: RetentionConfig = Field(
        default_factory=RetentionConfig,
        description="How many days each kind of data is kept (clips, snapshots, tracks, events, audit...) and when "
        "the daily purge runs; legal holds and open incidents keep their evidence.",
    )
    actions: list[ActionConfig] = Field(
        default_factory=list,
        max_length=200,
        description="Automatic responses to started events: HTTP to a device, MQTT command, audio, public-view "
        "monitor message; each with a cool-down and an optional schedule.",
    )
    pos: PosConfig = Field(
        default_factory=PosConfig,
        description="POS integration: transaction sources, which camera and zones watch each register, the "
        "exception rules' thresholds.",
    )
    access: AccessConfig = Field(
        default_factory=AccessConfig,
        description="Door access control: which camera, line and restricted zone watch each door; rule thresholds.",
    )
    inventory: InventoryConfig = Field(
        default_factory=InventoryConfig,
        description="Stock adjustments and cycle counts: which SKUs sit on which camera's shelf zone, how "
        "adjustment reasons count in shrink (see docs/inventory.md).",
    )

    @model_validator(mode="after")
    def _unique_stores(self) -> SiteConfig:
        _require_unique("store", [s.id for s in self.stores])
        _require_unique("route", [r.name for r in self.routes])
        channels = {c.name for c in self.alerts.channels}
        for route in self.routes:
            missing = sorted({c for lvl in route.levels for c in lvl.channels} - channels)
            if missing:
                raise ValueError(f"route {route.name} sends to channel(s) {missing}, which alerts.channels lacks")
        zones = {z.id for s in self.stores for c in s.cameras for z in c.zones}
        _check_rules(self.rules, zones, "site")
        for store in self.stores:
            for cam in store.cameras:
                for z in cam.zones:
                    if z.armed is not None and z.armed not in store.schedule.names():
                        raise ValueError(
                            f"camera {cam.id}: zone {z.id} is armed by schedule {z.armed!r}, which store "
                            f"{store.id} does not define (it has: {', '.join(sorted(store.schedule.names()))})"
                        )
                for name, cfg in self.rule_settings(cam).items():
                    if cfg.armed is not None and cfg.armed not in store.schedule.names():
                        raise ValueError(
                            f"camera {cam.id}: rule {name} is armed by schedule {cfg.armed!r}, which store "
                            f"{store.id} does not define (it has: {', '.join(sorted(store.schedule.names()))})"
                        )
        return self

    @model_validator(mode="after")
    def _actions_fit_site(self) -> SiteConfig:
        """Each action's cameras, zones, schedule and MQTT channel exist in this site (messages name the action)."""
        cams = [(s, c) for s in self.stores for c in s.cameras]
        check_actions(
            self.actions,
            SiteFacts(
                cameras=frozenset(f"{s.id}/{c.id}" for s, c in cams),
                zones=frozenset(z.id for _, c in cams for z in c.zones),
                schedules={s.id: frozenset(s.schedule.names()) for s in self.stores},
                mqtt_channels=frozenset(c.name for c in self.alerts.channels if isinstance(c, MqttChannel)),
            ),
        )
        return self

    @model_validator(mode="after")
    def _tills_fit_site(self) -> SiteConfig:
        """Each register's camera is a camera of the site and each zone it names is a zone of that camera."""
        cameras = {f"{s.id}/{c.id}": c for s in self.stores for c in s.cameras}
        for i, till in enumerate(self.pos.tills):
            cam = cameras.get(till.camera)
            where = f"pos.tills[{i}]"
            if cam is None:
                raise ValueError(
                    f"{where}.camera: register {till.store}/{till.register} is watched by camera {till.camera}, "
                    f"which the site lacks (cameras: {', '.join(sorted(cameras)) or 'none'})"
                )
            zones = {z.id for z in cam.zones}
            for key in ("cashier_zone", "customer_zone", "scanner_zone"):
                zone = getattr(till, key)
                if zone is not None and zone not in zones:
                    raise ValueError(
                        f"{where}.{key}: register {till.store}/{till.register} names zone {zone!r}, which camera "
                        f"{till.camera} lacks (its zones: {', '.join(sorted(zones)) or 'none'})"
                    )
        return self

    @model_validator(mode="after")
    def _doors_fit_site(self) -> SiteConfig:
        """Each door's store is a store of the site, its camera a camera of that store with the line and zone."""
        stores = {s.id: s for s in self.stores}
        for i, door in enumerate(self.access.doors):
            where, name = f"access.doors[{i}]", f"door {door.store}/{door.door}"
            store = stores.get(door.store)
            if store is None:
                raise ValueError(f"{where}.store: {name}: the site has no store {door.store!r}")
            if door.camera is None:
                if door.line or door.zone:
                    raise ValueError(f"{where}.camera: {name} names a line or zone but no camera")
                continue
            cam = next((c for c in store.cameras if f"{store.id}/{c.id}" == door.camera), None)
            if cam is None:
                have = ", ".join(f"{store.id}/{c.id}" for c in store.cameras) or "none"
                raise ValueError(f"{where}.camera: {name} is watched by camera {door.camera}, which store "
                                 f"{store.id} lacks (cameras: {have})")  # fmt: skip
            if door.line is not None and door.line not in {ln.id for ln in cam.lines}:
                have = ", ".join(sorted(ln.id for ln in cam.lines)) or "none"
                raise ValueError(f"{where}.line: {name} names line {door.line!r}, which camera {door.camera} "
                                 f"lacks (its lines: {have})")  # fmt: skip
            if door.zone is not None and door.zone not in {z.id for z in cam.zones}:
                have = ", ".join(sorted(z.id for z in cam.zones)) or "none"
                raise ValueError(f"{where}.zone: {name} names zone {door.zone!r}, which camera {door.camera} "
                                 f"lacks (its zones: {have})")  # fmt: skip
        return self

    @model_validator(mode="after")
    def _shelves_fit_site(self) -> SiteConfig:
        """Each shelf's store is a store of the site, its camera a camera of that store with the zone."""
        stores = {s.id: s for s in self.stores}
        for i, shelf in enumerate(self.inventory.shelves):
            where, name = f"inventory.shelves[{i}]", f"shelf {shelf.store}/{shelf.zone}"
            store = stores.get(shelf.store)
            if store is None:
                raise ValueError(f"{where}.store: {name}: the site has no store {shelf.store!r} "
                                 f"(stores: {', '.join(sorted(stores))})")  # fmt: skip
            cam = next((c for c in store.cameras if f"{store.id}/{c.id}" == shelf.camera), None)
            if cam is None:
                have = ", ".join(f"{store.id}/{c.id}" for c in store.cameras) or "none"
                raise ValueError(f"{where}.camera: {name} is watched by camera {shelf.camera}, which store "
                                 f"{store.id} lacks (cameras: {have})")  # fmt: skip
            if shelf.zone not in {z.id for z in cam.zones}:
                have = ", ".join(sorted(z.id for z in cam.zones)) or "none"
                raise ValueError(f"{where}.zone: {name}: camera {shelf.camera} has no zone {shelf.zone!r} "
                                 f"(its zones: {have})")  # fmt: skip
        return self

    def rule_settings(self, camera: Camera) -> dict[str, RuleConfig]:
        """Every rule's settings for ``camera``: defaults, then the site's, then the camera's."""
        merged = {
            name: {**self.rules.get(name, {}), **camera.rules.get(name, {})} for name in {*self.rules, *camera.rules}
        }
        return rule_configs(merged)

    def summary(self) -> str:
        cams = [c for s in self.stores for c in s.cameras]
        zones = sum(len(c.zones) for c in cams)
        lines = sum(len(c.lines) for c in cams)
        return f"{_n(len(self.stores), 'store')}, {_n(len(cams), 'camera')}, {_n(zones, 'zone')}, {_n(lines, 'line')}"


class Calibration(_Strict):
    image_points: list[Point] = Field(
        min_length=4, max_length=4, description="Four points on the floor, normalised 0-1 of the frame."
    )
    ground_points_m: list[tuple[float, float]] = Field(
        min_length=4, max_length=4, description="Where those four points are on the floor, in metres."
    )


def _check_rules(rules: dict[str, dict[str, Any]], zone_ids: set[str], where: str) -> None:
    """Each rule's settings valid for the rule, and every zone a rule names present."""
    try:
        configs = rule_configs(rules)
    except ValueError as exc:
        raise ValueError(f"{where}: {exc}") from None
    for name in rules:
        missing = sorted(set(configs[name].zones or ()) - zone_ids)
        if missing:
            raise ValueError(f"{where}: rule {name} watches zone(s) {missing}, which do not exist")


def _n(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _require_unique(kind: str, ids: list[str]) -> None:
    seen: set[str] = set()
    dupes = sorted({i for i in ids if i in seen or seen.add(i)})  # type: ignore[func-returns-value]
    if dupes:
        raise ValueError(f"duplicate {kind} id(s): {', '.join(dupes)}")


def site_json_schema() -> dict[str, Any]:
    """The site file's JSON schema, with every behaviour rule's settings spelled out under ``rules`` (the model
    keeps them as free mappings so that rules stay pluggable)."""
    from storewatch.behaviour.rules.registry import RULES

    schema = SiteConfig.model_json_schema()
    defs = schema.setdefault("$defs", {})
    props: dict[str, Any] = {}
    for name, cls in RULES.items():
        sub = cls.Config.model_json_schema()
        defs.update(sub.pop("$defs", {}))
        sub["description"] = (cls.__doc__ or sub.get("description", "")).strip().split("\n")[0]
        props[name] = sub
    rules = {"type": "object", "additionalProperties": False, "properties": props,
             "description": "Behaviour rule settings, by rule type."}  # fmt: skip
    schema["properties"]["rules"] = rules
    camera = defs.get("Camera", {}).get("properties", {})
    if "rules" in camera:
        camera["rules"] = {**rules, "description": "Rule settings for this camera, over the site's."}
    return schema
