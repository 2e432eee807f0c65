"""Where the dashboard's editors read and write the site configuration, and who may change it.

``SiteSource`` is the site file given to ``storewatch serve --config`` (or the demo's own), read fresh when it
changed on disk, so a hand edit shows at once; without a file the site given at start (read-only) is shown. After a
save, ``on_saved(site)`` (when given: the dashboard runs in the process of the cameras, ``storewatch demo``) hands
the new site to the running ``SiteRunner``, which takes zones, lines and rule settings without a restart.

Who may save: a role with ``Capability.EDIT_CONFIG`` (administrator, regional or store manager) for the stores they
have (``may_edit``); site-wide settings, which reach every store, only such a role over every store
(``may_edit_site``).

>>> from storewatch.web.users import Role, User
>>> manager = User("u1", "mo", "", Role.STORE_MANAGER, ("s1",), False, "")
>>> may_edit(manager, StoreScope.of(manager.stores), "s1"), may_edit(manager, StoreScope.of(("s1",)), "s2")
(True, False)
>>> may_edit_site(manager)
False
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from storewatch.config.schema import Camera, SiteConfig, Store
from storewatch.errors import ConfigError
from storewatch.web.errors import ConflictError, NotFoundError
from storewatch.web.scope import StoreScope
from storewatch.web.site_file import SavedSite, SiteFile, SiteSnapshot, StaleSiteFileError
from storewatch.web.users import Capability, User

log = logging.getLogger(__name__)

OnSaved = Callable[[SiteConfig], None]


def may_edit(user: User, scope: StoreScope, store: str) -> bool:
    return user.can(Capability.EDIT_CONFIG) and scope.allows(store)


def may_edit_site(user: User) -> bool:
    return user.can(Capability.EDIT_CONFIG) and StoreScope.of(user.stores).everything


class NoSiteFileError(ConflictError):
    """The dashboard was started without a site file: there is nothing to save to."""


class SiteSource:
    def __init__(self, path: Path | None, fallback: SiteConfig | None, on_saved: OnSaved | None = None) -> None:
        self.file = SiteFile(path) if path is not None else None
        self.fallback = fallback
        self.on_saved = on_saved

    @property
    def applies_live(self) -> bool:
        return self.on_saved is not None

    def current(self) -> SiteConfig | None:
        """The site as it is now: the file's (the last valid one if a hand edit broke it), else the start's."""
        if self.file is None:
            return self.fallback
        try:
            return self.file.read().site
        except (ConfigError, OSError) as exc:
            log.warning("site file not readable, showing the last good one: %s", exc)
            return self.fallback

    def snapshot(self) -> SiteSnapshot:
        """The file's site and version, for an editor; ``NoSiteFileError`` / ``ConflictError`` when there is no
        file or it has problems (fix it by hand first: the editor would only add to them)."""
        if self.file is None:
            raise NoSiteFileError(
                "the dashboard was started without a site file: start it with storewatch serve --config SITE.yaml "
                "to edit zones and rules"
            )
        try:
            return self.file.read()
        except ConfigError as exc:
            raise ConflictError(f"the site file has problems; fix them first: {exc}") from exc

    def change(self, version: str | None, edit: Callable[[Any], None], *, dry_run: bool = False) -> SavedSite:
        """``SiteFile.change`` (its ``SiteFileInvalidError`` passes through for the caller to map to fields)."""
        self.snapshot()
        assert self.file is not None
        try:
            return self.file.change(version, edit, dry_run=dry_run)
        except StaleSiteFileError as exc:
            raise ConflictError(f"{exc.message}: reload the page to edit the current version") from exc

    def apply(self, site: SiteConfig) -> bool:
        """Hand a saved site to the running cameras; whether they took it (False: they take it at a restart)."""
        self.fallback = site
        if self.on_saved is None:
            return False
        try:
            self.on_saved(site)
        except Exception:  # the file is saved; a runner that cannot take it live takes it at its next start
            log.exception("the running cameras did not take the saved site file")
            return False
        return True

    def camera(
        self, scope: StoreScope, store: str, camera: str, site: SiteConfig | None = None
    ) -> tuple[Store, Camera]:
        """The store and camera of the site (``NotFoundError`` when out of scope or unknown)."""
        site = site if site is not None else self.current()
        found_store = next((s for s in site.stores if s.id == store), None) if site else None
        found = next((c for c in found_store.cameras if c.id == camera), None) if found_store else None
        if found_store is None or found is None or not scope.allows(store):
            raise NotFoundError(f"no camera {store}/{camera} among yours")
        return found_store, found
