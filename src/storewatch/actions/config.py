"""Action configuration: what a rule's event makes happen in the store, one discriminated union by ``kind``.

Four kinds: ``http`` (a request to a device: IP speaker, siren, door lock, display), ``mqtt`` (a command on the
broker of an alerts MQTT channel), ``audio`` (a sound file played on this machine) and ``pvm`` (the public-view
monitor of one or more cameras shows a message). Every action has a unique ``name`` (the action log's key), a
``when`` filter (event types, least severity, stores, cameras, zones: as routes match them; only *started* events
fire actions), a ``cooldown_s`` and an optional ``schedule`` (a store schedule name, as zones and rules use).

What can be checked when the file is loaded is: unknown keys, URLs that are not http(s), templates naming unknown
event fields, an audio file that is not there. What needs the rest of the site file (cameras, zones, schedules,
the MQTT channel) is checked by ``check_actions``, which ``SiteConfig`` calls; every message names the action.

>>> a = load_action({"kind": "http", "name": "speaker", "url": "http://10.0.0.7/play?clip=1", "method": "GET",
...                  "when": {"types": ["restricted_area"], "min_severity": "high"}, "cooldown_s": 60})
>>> a.kind, a.method.value, a.when.min_severity.value, a.cooldown_s
('http', 'GET', 'high', 60.0)
>>> load_action({"kind": "http", "name": "speaker", "url": "ftp://10.0.0.7/"})
Traceback (most recent call last):
...
ValueError: action speaker: url: must be an http:// or https:// URL with a host (got 'ftp://10.0.0.7/')
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal, Self

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    JsonValue,
    ModelWrapValidatorHandler,
    SecretStr,
    TypeAdapter,
    ValidationError,
    model_validator,
)

from storewatch.actions.template import check_json_template, check_template
from storewatch.alerts.config import HttpUrlStr
from storewatch.core.events import Event, Severity
from storewatch.routing.routes import SEVERITY_ORDER

_HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,64}$")
_TOPIC_UNSAFE = re.compile(r"[#+\x00]")


def _audio_file(value: Path) -> Path:
    if not value.is_file():
        where = "" if value.is_absolute() else f" (relative to the working directory {Path.cwd()})"
        raise ValueError(f"audio file {str(value)!r} does not exist{where}")
    return value


def _header_names(value: Mapping[str, Any]) -> Mapping[str, Any]:
    bad = sorted(k for k in value if not _HEADER_NAME.match(k))
    if bad:
        raise ValueError(f"not valid HTTP header name(s): {', '.join(repr(b) for b in bad)}")
    return value


def _topic(value: str) -> str:
    check_template(value)
    if _TOPIC_UNSAFE.search(value) or value.startswith("/") or not value.strip():
        raise ValueError(f"{value!r}: a topic to publish to cannot contain # or + or start with /")
    return value


def _player(value: list[str] | None) -> list[str] | None:
    if value is not None and (not value or not value[0].strip()):
        raise ValueError("give the player command, e.g. [paplay] or [ffplay, -nodisp, -autoexit]")
    return value


Template = Annotated[str, AfterValidator(check_template)]
Name = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$")]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Trigger(_Strict):
    """Which *started* events fire the action; each list empty = any (as a route matches events)."""

    types: list[str] = Field(default_factory=list, description="Event types, e.g. restricted_area (empty: all).")
    min_severity: Severity = Field(Severity.LOW, description="Events below this severity do not fire it.")
    stores: list[str] = Field(default_factory=list, description="Store ids (empty: all).")
    cameras: list[str] = Field(default_factory=list, description="Cameras as store/camera (empty: all).")
    zones: list[str] = Field(default_factory=list, description="Zone ids (empty: any, or none).")

    def matches(self, event: Event) -> bool:
        """Whether ``event`` is of the kind that fires the action (schedule and cool-down aside)."""
        return (
            (not self.types or event.type in self.types)
            and SEVERITY_ORDER[event.severity] >= SEVERITY_ORDER[self.min_severity]
            and (not self.stores or event.store in self.stores)
            and (not self.cameras or str(event.camera) in self.cameras)
            and (not self.zones or event.zone in self.zones)
        )


class _Action(_Strict):
    name: Name = Field(description="Unique action name, the key of the action log.")
    enabled: bool = Field(True, description="Whether the action fires at all.")
    when: Trigger = Field(default_factory=Trigger, description="Which started events fire it.")
    cooldown_s: float = Field(
        30.0, ge=0.0, le=86400.0, description="After firing, matching events within this long are skipped."
    )
    schedule: str | None = Field(
        None, description="Store schedule name (open, closed or the store's own) outside which it is skipped."
    )

    @model_validator(mode="wrap")
    @classmethod
    def _name_the_action(cls, data: Any, handler: ModelWrapValidatorHandler[Self]) -> Self:
        """Problems inside an action come out as one message that starts with the action's name (a subclass's own
        after-validators run outside this one: their messages name the action themselves)."""
        try:
            return handler(data)
        except ValidationError as exc:
            name = data.get("name", "?") if isinstance(data, Mapping) else "?"
            raise ValueError(f"action {name}: " + "; ".join(_problem(e) for e in exc.errors())) from None


class HttpMethod(StrEnum):
    GET = "GET"
    POST = "POST"
    PUT = "PUT"
    PATCH = "PATCH"
    DELETE = "DELETE"


class HttpAction(_Action):
    """An HTTP request to a device: an IP speaker, a siren, a door lock, a display."""

    kind: Literal["http"] = "http"
    method: HttpMethod = Field(HttpMethod.POST, description="HTTP method.")
    url: HttpUrlStr = Field(description="Device URL (http or https); redirects are not followed.")
    headers: Annotated[dict[str, str], AfterValidator(_header_names)] = Field(
        default_factory=dict, description="Extra request headers."
    )
    secret_headers: Annotated[dict[str, SecretStr], AfterValidator(_header_names)] = Field(
        default_factory=dict, description="Headers kept out of logs and errors, e.g. Authorization."
    )
    body: Annotated[JsonValue, AfterValidator(check_json_template)] = Field(
        None, description="JSON body; strings may use event fields, e.g. '${type_text} at ${camera}'."
    )
    expect_status: list[Annotated[int, Field(ge=100, le=599)]] = Field(
        default_factory=list, description="Statuses that count as done (empty: any 2xx)."
    )
    timeout_s: float = Field(5.0, gt=0.0, le=120.0, description="Network timeout of the request.")

    @model_validator(mode="after")
    def _body_needs_method(self) -> Self:
        if self.body is not None and self.method in (HttpMethod.GET, HttpMethod.DELETE):
            raise ValueError(
                f"action {self.name}: a {self.method.value} request carries no body: use POST, PUT or PATCH, "
                "or drop body"
            )
        return self


class MqttAction(_Action):
    """A command published on the broker of one of the alerts' MQTT channels (same host, login and TLS)."""

    kind: Literal["mqtt"] = "mqtt"
    channel: str = Field(min_length=1, description="Name of the alerts MQTT channel whose broker to use.")
    topic: Annotated[str, AfterValidator(_topic)] = Field(
        min_length=1, max_length=256, description="Topic to publish to; may use event fields, e.g. siren/${store}."
    )
    payload: Template = Field("ON", max_length=4096, description="Payload; may use event fields.")
    qos: Literal[0, 1, 2] = Field(1, description="MQTT quality of service (1 or 2: waits for the broker's ack).")
    retain: bool = Field(False, description="Whether the broker keeps the message for later subscribers.")
    timeout_s: float = Field(5.0, gt=0.0, le=120.0, description="Longest wait for the broker.")


class AudioAction(_Action):
    """A sound file played on this machine through a player command."""

    kind: Literal["audio"] = "audio"
    file: Annotated[Path, AfterValidator(_audio_file)] = Field(
        description="Sound file (wav, ogg, mp3...); absolute, or relative to the working directory."
    )
    player: Annotated[list[str] | None, AfterValidator(_player)] = Field(
        None,
        max_length=16,
        description="Player command, the file appended (default: the first of paplay, aplay, ffplay on PATH).",
    )
    timeout_s: float = Field(30.0, gt=0.0, le=600.0, description="A player still running after this is stopped.")


class PvmAction(_Action):
    """The public-view monitor (``/pvm/<camera>``) of cameras shows a message for a while."""

    kind: Literal["pvm"] = "pvm"
    cameras: list[str] = Field(
        default_factory=list, description="Monitors to switch, as store/camera (empty: the event's camera)."
    )
    message: Template = Field(
        "This area is monitored", min_length=1, max_length=120, description="Large text; may use event fields."
    )
    detail: Template = Field("", max_length=240, description="Smaller second line (optional).")
    show_s: float = Field(15.0, ge=1.0, le=3600.0, description="How long the message stays.")


ActionConfig = Annotated[HttpAction | MqttAction | AudioAction | PvmAction, Field(discriminator="kind")]
_ADAPTER: TypeAdapter[ActionConfig] = TypeAdapter(ActionConfig)


def load_action(data: Mapping[str, Any]) -> ActionConfig:
    """One validated action; ``ValueError`` naming the action and each problem otherwise."""
    try:
        return _ADAPTER.validate_python(data)
    except ValidationError as exc:
        text = "; ".join(str(e["msg"]).removeprefix("Value error, ") for e in exc.errors())
        raise ValueError(text if text.startswith("action ") else f"action {data.get('name', '?')}: {text}") from None


def _problem(error: Any) -> str:
    where = ".".join(str(p) for p in error["loc"])
    if error["type"] == "extra_forbidden":
        return f"{where}: unknown key (allowed keys are listed by `storewatch config schema`)"
    if error["type"] == "missing":
        return f"{where}: required key is missing"
    message = str(error["msg"]).removeprefix("Value error, ")
    return f"{where}: {message}" if where else message


@dataclass(frozen=True)
class SiteFacts:
    """What ``check_actions`` needs to know of the site: cameras (store/camera), zones, each store's schedule
    names and the alerts' MQTT channels."""

    cameras: frozenset[str]
    zones: frozenset[str]
    schedules: Mapping[str, frozenset[str]]
    mqtt_channels: frozenset[str]


def check_actions(actions: list[ActionConfig], site: SiteFacts) -> None:
    """Names unique, and every store, camera, zone, schedule and channel an action names present in the site."""
    names = [a.name for a in actions]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ValueError(f"action names must be unique; repeated: {', '.join(dupes)}")
    for action in actions:
        _check_places(action, site)
        _check_schedule(action, site)
        if isinstance(action, MqttAction) and action.channel not in site.mqtt_channels:
            have = ", ".join(sorted(site.mqtt_channels)) or "none"
            raise ValueError(
                f"action {action.name}: channel {action.channel!r} is not an MQTT channel of alerts.channels "
                f"(MQTT channels: {have})"
            )


def _check_places(action: ActionConfig, site: SiteFacts) -> None:
    stores = sorted(set(action.when.stores) - set(site.schedules))
    if stores:
        raise ValueError(f"action {action.name}: when.stores names store(s) {stores}, which the site lacks")
    cameras = [*action.when.cameras, *(action.cameras if isinstance(action, PvmAction) else [])]
    missing = sorted(set(cameras) - site.cameras)
    if missing:
        raise ValueError(
            f"action {action.name}: camera(s) {missing} not in the site (write store/camera; it has: "
            f"{', '.join(sorted(site.cameras)) or 'none'})"
        )
    zones = sorted(set(action.when.zones) - site.zones)
    if zones:
        raise ValueError(f"action {action.name}: when.zones names zone(s) {zones}, which no camera has")


def _check_schedule(action: ActionConfig, site: SiteFacts) -> None:
    """The schedule must exist in every store where the action can fire."""
    if action.schedule is None:
        return
    stores = set(action.when.stores) or {c.split("/", 1)[0] for c in action.when.cameras} or set(site.schedules)
    lacking = sorted(s for s in stores if action.schedule not in site.schedules.get(s, frozenset()))
    if lacking:
        have = ", ".join(sorted(site.schedules[lacking[0]]))
        raise ValueError(
            f"action {action.name}: schedule {action.schedule!r} is not defined by store(s) {', '.join(lacking)} "
            f"(store {lacking[0]} has: {have})"
        )
