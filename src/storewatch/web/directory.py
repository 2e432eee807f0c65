"""The stores a site has, their names, time zones and cameras: from the site file when given, else what the
stored events name (shown in the server's time zone, or the one given).

>>> d = StoreDirectory(None, "Europe/Madrid")
>>> d.timezone("s1").key, d.name("s1"), d.camera_name("s1/door-2")
('Europe/Madrid', 's1', 'door-2')
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from storewatch.config.schema import SiteConfig


def local_zone_name() -> str:
    """The server's IANA time zone name ($TZ, /etc/timezone), UTC when it cannot be told."""
    candidates = [os.environ.get("TZ", "").lstrip(":")]
    with contextlib.suppress(OSError):
        candidates.append(Path("/etc/timezone").read_text().strip())
    for name in candidates:
        try:
            if name:
                ZoneInfo(name)
                return name
        except (ZoneInfoNotFoundError, ValueError):
            continue
    return "UTC"


@dataclass(frozen=True, slots=True)
class StoreInfo:
    id: str
    name: str
    timezone: ZoneInfo
    cameras: dict[str, str] = field(default_factory=dict)
    """Namespaced camera id -> name shown to people."""


class StoreDirectory:
    def __init__(self, site: SiteConfig | None, timezone: str | None = None) -> None:
        self.default_zone = ZoneInfo(timezone or (site.site.timezone if site else None) or local_zone_name())
        self.site_name = (site.site.name or site.site.id) if site else "storewatch"
        self._stores: dict[str, StoreInfo] = {}
        for store in site.stores if site else []:
            cameras = {f"{store.id}/{c.id}": c.name or c.id for c in store.cameras}
            tz = ZoneInfo(store.timezone or site.site.timezone) if site else self.default_zone
            self._stores[store.id] = StoreInfo(store.id, store.name or store.id, tz, cameras)

    @property
    def configured(self) -> list[str]:
        """Stores named in the site file, in its order."""
        return list(self._stores)

    def info(self, store: str) -> StoreInfo:
        return self._stores.get(store) or StoreInfo(store, store, self.default_zone)

    def name(self, store: str) -> str:
        return self.info(store).name

    def timezone(self, store: str) -> ZoneInfo:
        return self.info(store).timezone

    def camera_name(self, camera: str) -> str:
        store, _, cam = camera.partition("/")
        return self.info(store).cameras.get(camera, cam or camera)
