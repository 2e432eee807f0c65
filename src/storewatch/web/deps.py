"""Typed dependencies every route takes: the app's context, the current user and the user's store scope.

Authentication and tenancy are dependencies, not ``if`` statements: a route that is not tagged ``public`` has
``current_user`` among its dependencies (``app.create_app`` refuses to build an app with one that has not), and
every store-bound route takes ``Scope``, which the services apply to every query. Without a valid session,
``current_user`` raises ``NotAuthenticatedError``; the app answers 401 for the API and media, and a redirect to
``/login`` for pages.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.templating import Jinja2Templates

from storewatch.pos.http import PosHttpEndpoint
from storewatch.store.db import Database
from storewatch.web.auth import COOKIE, AuthService
from storewatch.web.camera_service import CameraService
from storewatch.web.directory import StoreDirectory
from storewatch.web.errors import ForbiddenError
from storewatch.web.geometry_service import GeometryService
from storewatch.web.incident_service import IncidentsService
from storewatch.web.live import LiveHub
from storewatch.web.media import MediaLinks
from storewatch.web.rules_service import RulesService
from storewatch.web.scope import StoreScope
from storewatch.web.services import AlertService, EstateService, EventService
from storewatch.web.settings import WebSettings
from storewatch.web.users import Role, User


class NotAuthenticatedError(Exception):
    """No valid session: log in first."""


@dataclass
class WebContext:
    """Everything the routes use, built once per app start (``app.lifespan``)."""

    settings: WebSettings
    db: Database
    directory: StoreDirectory
    auth: AuthService
    events: EventService
    alerts: AlertService
    incidents: IncidentsService
    estate: EstateService
    links: MediaLinks
    hub: LiveHub
    templates: Jinja2Templates
    cameras: CameraService
    geometry: GeometryService
    rules: RulesService
    pos: PosHttpEndpoint | None = None
    """``POST /api/v1/pos/transactions``, when the site file enables it (``pos.sources.http``)."""


def get_context(request: Request) -> WebContext:
    ctx: WebContext = request.app.state.ctx
    return ctx


Ctx = Annotated[WebContext, Depends(get_context)]


def current_user(request: Request, ctx: Ctx) -> User:
    """The user of the request's session cookie; ``NotAuthenticatedError`` without a valid one."""
    user = ctx.auth.user_for(request.cookies.get(COOKIE))
    if user is None:
        raise NotAuthenticatedError()
    request.state.user = user
    return user


CurrentUser = Annotated[User, Depends(current_user)]


def store_scope(user: CurrentUser) -> StoreScope:
    """The stores the current user may see; services filter every query by it."""
    return StoreScope.of(user.stores)


Scope = Annotated[StoreScope, Depends(store_scope)]


def require_role(*roles: Role) -> Callable[[User], User]:
    """A dependency that lets only users with one of ``roles`` through (403 for the others); store scope is still
    the services' to apply (a manager changes only their own stores).

    >>> check = require_role(Role.ADMIN)
    >>> check(User("u1", "ana", "", Role.ADMIN, ("*",), False, "")).username
    'ana'
    """
    allowed = ", ".join(r.value for r in roles)

    def check(user: CurrentUser) -> User:
        if user.role not in roles:
            raise ForbiddenError(f"this needs the role {allowed}; you are {user.role.value}")
        return user

    return check


Editor = Annotated[User, Depends(require_role(Role.ADMIN, Role.MANAGER))]
"""Who may change zones and rules: an administrator, or a manager (for their own stores)."""
