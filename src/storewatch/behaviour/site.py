"""Behaviour engines built from a site file: a camera's zones, lines, calibration, its store's schedule and time
zone, and the rule settings (defaults < site < camera)."""

from __future__ import annotations

from storewatch.behaviour.engine import BehaviourEngine
from storewatch.behaviour.geometry import Calibration, LineGeometry, ZoneGeometry
from storewatch.config.schema import Camera, SiteConfig, Store
from storewatch.core.ids import camera_key
from storewatch.errors import ConfigError


def engine_for(site: SiteConfig, store: Store, camera: Camera, width: int, height: int) -> BehaviourEngine:
    zones = [
        ZoneGeometry.from_normalised(z.id, z.kind.value, z.polygon, width, height, z.anchor.value)
        for z in camera.zones
        if z.kind.value != "privacy"
    ]
    lines = [
        LineGeometry.from_normalised(ln.id, ln.kind.value, ln.points, ln.direction_in.value, width, height)
        for ln in camera.lines
    ]
    calibration = None
    if camera.calibration is not None:
        image_px = [(x * width, y * height) for x, y in camera.calibration.image_points]
        calibration = Calibration(image_px, camera.calibration.ground_points_m)
    return BehaviourEngine(
        camera_key(store.id, camera.id), zones, lines, width=width, height=height,
        rules=site.rule_settings(camera), schedule=store.schedule, timezone=store.timezone or site.site.timezone,
        calibration=calibration, zone_armed={z.id: z.armed for z in camera.zones if z.armed is not None},
    )  # fmt: skip


def find_camera(site: SiteConfig, key: str | None) -> tuple[Store, Camera]:
    """The camera ``store/camera`` (or ``camera`` when unique) of the site; the only camera when ``key`` is None."""
    cams = [(s, c) for s in site.stores for c in s.cameras]
    if key is None:
        if len(cams) == 1:
            return cams[0]
        names = ", ".join(f"{s.id}/{c.id}" for s, c in cams)
        raise ConfigError(f"the site has {len(cams)} cameras; say which with --camera ({names})")
    store_id, _, cam_id = key.rpartition("/")
    found = [(s, c) for s, c in cams if c.id == cam_id and (not store_id or s.id == store_id)]
    if len(found) != 1:
        names = ", ".join(f"{s.id}/{c.id}" for s, c in cams)
        raise ConfigError(f"--camera {key}: {'no such camera' if not found else 'ambiguous'} (the site has {names})")
    return found[0]
