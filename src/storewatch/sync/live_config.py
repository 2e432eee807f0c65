"""Configuration the hub pushes to a store, versioned, and what an edge can apply without a restart.

A ``ConfigVersion`` (``storewatch.config/1``) is a whole ``LiveConfig`` for one store with a version number that
only grows: each version says everything it changes, over the site file (a key left out keeps the file's value),
so applying version 7 never depends on having seen version 6. What can change live: the site-wide rule settings,
each camera's zones, lines and rule settings (its behaviour engine is rebuilt) and the alert routes. Cameras,
sources, channels and runtime settings stay in the site file (they need a restart).

``apply_live`` merges a version into a site and validates the result as a whole site file, so the same checks
apply (a rule watching a zone that the new version removed, a route to a channel that does not exist); the edge
refuses a version that fails them, keeps running the previous one and says why in its acknowledgement.

>>> from storewatch.config.schema import SiteConfig
>>> site = SiteConfig.model_validate({"site": {"id": "t"}, "stores": [{"id": "s1", "cameras": [
...     {"id": "door", "source": "door.mp4"}]}]})
>>> live = LiveConfig.model_validate({"rules": {"loitering": {"dwell_s": 30}}, "cameras": {"door": {"zones": [
...     {"id": "office", "kind": "staff_only", "polygon": [[0, 0], [0.5, 0], [0.5, 0.5]]}]}}})
>>> new = apply_live(site, "s1", live)
>>> new.rules["loitering"], [z.id for z in new.stores[0].cameras[0].zones]
({'dwell_s': 30}, ['office'])
>>> apply_live(site, "s1", LiveConfig(cameras={"back": CameraLive()}))  # doctest: +IGNORE_EXCEPTION_DETAIL
Traceback (most recent call last):
...
LiveConfigError: camera back: store s1 has no such camera (it has: door)
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from storewatch.behaviour.engine import rule_configs
from storewatch.config.schema import Line, SiteConfig, Zone
from storewatch.errors import StorewatchError
from storewatch.routing.routes import Route

CONFIG_SCHEMA = "storewatch.config/1"


class LiveConfigError(StorewatchError):
    """A configuration version that does not fit the site (the edge keeps the one it runs)."""


def _rules(value: dict[str, dict[str, Any]] | None) -> dict[str, dict[str, Any]] | None:
    if value is not None:
        rule_configs(value)  # unknown rule, unknown setting or value out of bounds: ValueError
    return value


class CameraLive(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    zones: list[Zone] | None = Field(None, description="The camera's zones (None: as in the site file).")
    lines: list[Line] | None = Field(None, description="The camera's lines (None: as in the site file).")
    rules: dict[str, dict[str, Any]] | None = Field(
        None, description="Rule settings for this camera, over the site's (None: as in the site file)."
    )

    _check_rules = field_validator("rules")(_rules)


class LiveConfig(BaseModel):
    """What a configuration version sets for one store."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    rules: dict[str, dict[str, Any]] | None = Field(
        None, description="Rule settings for every camera, by rule type (None: as in the site file)."
    )
    cameras: dict[str, CameraLive] = Field(
        default_factory=dict, description="Per camera id (within the store): zones, lines, rule settings."
    )
    routes: list[Route] | None = Field(None, description="Alert routes (None: as in the site file).")

    _check_rules = field_validator("rules")(_rules)


class ConfigVersion(BaseModel):
    """One version of a store's live configuration, as the hub pushes it."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    schema_: Literal["storewatch.config/1"] = Field("storewatch.config/1", alias="schema")
    store: str = Field(min_length=1, max_length=64)
    version: int = Field(ge=1, description="Grows by one with each push to the store.")
    created_utc: datetime
    created_by: str = Field("", max_length=128)
    config: LiveConfig

    def to_json(self) -> bytes:
        return self.model_dump_json(by_alias=True, exclude_none=True).encode()

    @classmethod
    def parse(cls, body: bytes | str) -> ConfigVersion:
        try:
            return cls.model_validate_json(body)
        except ValidationError as exc:
            where = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'body'}: {e['msg']}" for e in exc.errors()[:5])
            raise LiveConfigError(f"not a {CONFIG_SCHEMA} document: {where}") from None


def apply_live(site: SiteConfig, store_id: str, live: LiveConfig) -> SiteConfig:
    """``site`` with ``live`` applied to store ``store_id``, validated as a whole; ``LiveConfigError`` if not."""
    store = next((s for s in site.stores if s.id == store_id), None)
    if store is None:
        raise LiveConfigError(f"the site has no store {store_id!r}")
    known = {c.id for c in store.cameras}
    for cam_id in live.cameras:
        if cam_id not in known:
            raise LiveConfigError(
                f"camera {cam_id}: store {store_id} has no such camera (it has: {', '.join(sorted(known))})"
            )
    data = site.model_dump()
    if live.rules is not None:
        data["rules"] = live.rules
    if live.routes is not None:
        data["routes"] = live.routes
    for store_data in data["stores"]:
        if store_data["id"] != store_id:
            continue
        for cam in store_data["cameras"]:
            change = live.cameras.get(cam["id"])
            if change is not None:
                cam.update(change.model_dump(exclude_none=True))
    try:
        return SiteConfig.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'site'}: {e['msg']}" for e in exc.errors()[:5])
        raise LiveConfigError(f"the configuration does not fit the site: {problems}") from None


def select_store(site: SiteConfig, store_id: str | None) -> SiteConfig:
    """The site with only store ``store_id`` (the only store when None); ``LiveConfigError`` naming the choices."""
    ids = [s.id for s in site.stores]
    if store_id is None:
        if len(ids) == 1:
            return site
        raise LiveConfigError(
            f"the site has {len(ids)} stores; say which this edge runs with --store ({', '.join(ids)})"
        )
    if store_id not in ids:
        raise LiveConfigError(f"--store {store_id}: the site has no such store (it has: {', '.join(ids)})")
    return site.model_copy(update={"stores": [s for s in site.stores if s.id == store_id]})
