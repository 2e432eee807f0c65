"""Typed dependencies every route takes: the app's context, the current user, what they may do and their stores.

Authentication, permission and tenancy are dependencies, not ``if`` statements: a route that is not tagged
``public`` takes ``require(capability)`` (which takes ``current_user``; ``app.create_app`` refuses to build an app
with a route that does not), and every store-bound route takes ``Scope``, which the services apply to every query.

``current_user`` accepts a session cookie, or on ``/api/`` and ``/media/`` an API token (``Authorization: Bearer``).
Without either it raises ``NotAuthenticatedError``: the app answers 401 for the API and media, and a redirect to
``/login`` for pages. A state-changing request (POST, PUT, PATCH, DELETE) with the cookie must carry the session's
CSRF token, as the form field ``csrf_token`` or the header ``X-CSRF-Token`` (403 otherwise); with a token it need
not (a browser never adds that header by itself).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.templating import Jinja2Templates

from storewatch.access.http import AccessHttpEndpoint
from storewatch.pos.http import PosHttpEndpoint
from storewatch.store.db import Database
from storewatch.web.access_service import UserAdminService
from storewatch.web.audit import AuditTrail, RequestAudit
from storewatch.web.auth import COOKIE, CSRF_FIELD, CSRF_HEADER, AuthService
from storewatch.web.camera_service import CameraService
from storewatch.web.clip_privacy import ClipPrivacy, UnblurGrants
from storewatch.web.directory import StoreDirectory
from storewatch.web.errors import ForbiddenError, InvalidError
from storewatch.web.geometry_service import GeometryService
from storewatch.web.hub_media import HubMedia
from storewatch.web.incident_service import IncidentsService
from storewatch.web.jobs import JobRunner
from storewatch.web.live import LiveHub
from storewatch.web.media import MediaLinks
from storewatch.web.permissions import DESCRIPTIONS, Capability
from storewatch.web.rules_service import RulesService
from storewatch.web.scope import StoreScope
from storewatch.web.services import AlertService, EstateService, EventService
from storewatch.web.settings import WebSettings
from storewatch.web.subject_service import SubjectService
from storewatch.web.tokens import TokenService
from storewatch.web.users import User

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
TOKEN_PATHS = ("/api/", "/media/")
"""Where an API token is accepted: never the pages (their forms need a session and its CSRF token)."""


class NotAuthenticatedError(Exception):
    """No valid session or token: log in first."""


class CsrfError(ForbiddenError):
    """A state-changing request with the session cookie but without its CSRF token."""


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
    jobs: JobRunner
    clips: ClipPrivacy
    unblur: UnblurGrants
    audit: AuditTrail
    tokens: TokenService
    accounts: UserAdminService
    subjects: SubjectService
    hub_media: HubMedia | None = None
    """At a hub: evidence fetched from the stores on demand."""
    pos: PosHttpEndpoint | None = None
    """``POST /api/v1/pos/transactions``, when the site file enables it (``pos.sources.http``)."""
    access: AccessHttpEndpoint | None = None
    """``POST /api/v1/access/events``, when the site file enables it (``access.sources.http``)."""


def get_context(request: Request) -> WebContext:
    ctx: WebContext = request.app.state.ctx
    return ctx


Ctx = Annotated[WebContext, Depends(get_context)]


async def submitted_csrf(request: Request) -> str | None:
    """The CSRF token a state-changing request carries (header, or form field), if any."""
    if request.method in SAFE_METHODS:
        return None
    header = request.headers.get(CSRF_HEADER)
    if header:
        return header
    content_type = request.headers.get("content-type", "")
    if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        value = (await request.form()).get(CSRF_FIELD)  # Starlette keeps the parsed form for the route
        return value if isinstance(value, str) else None
    return None


def bearer(request: Request) -> str | None:
    scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
    return credentials.strip() if scheme.lower() == "bearer" and credentials.strip() else None


def current_user(request: Request, ctx: Ctx, csrf: Annotated[str | None, Depends(submitted_csrf)]) -> User:
    """The user of the request's API token or session cookie; ``NotAuthenticatedError`` without a valid one,
    ``CsrfError`` for a state-changing request with the cookie but not its CSRF token."""
    token = bearer(request)
    if token is not None:
        user = ctx.tokens.user_for(token) if request.url.path.startswith(TOKEN_PATHS) else None
    else:
        cookie = request.cookies.get(COOKIE)
        user = ctx.auth.user_for(cookie)
        if user is not None and request.method not in SAFE_METHODS and not ctx.auth.csrf_ok(cookie or "", csrf):
            raise CsrfError("this form is out of date (its security token is missing or old): reload the page")
    if user is None:
        raise NotAuthenticatedError()
    request.state.user = user
    problem = form_body_problem(request)
    if problem is not None:
        raise InvalidError(problem)
    return user


FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def form_body_problem(request: Request) -> str | None:
    """Why a state-changing request to a page (anything but ``/api/``) cannot be read: the pages
    take HTML forms only, so a JSON (or any other) body is refused with 422 naming what was sent, instead of being
    read as an empty form.

    >>> from starlette.requests import Request
    >>> def req(path, kind):
    ...     return Request({"type": "http", "method": "POST", "path": path, "headers": [(b"content-type", kind)]})
    >>> form_body_problem(req("/rules", b"application/json"))
    'this page takes a form (application/x-www-form-urlencoded or multipart/form-data), not application/json'
    >>> form_body_problem(req("/rules", b"multipart/form-data; boundary=x")), form_body_problem(req("/api/x", b"x/y"))
    (None, None)
    """
    if request.method in SAFE_METHODS or request.url.path.startswith("/api/"):
        return None
    kind = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if not kind or kind in FORM_TYPES:
        return None
    return f"this page takes a form ({' or '.join(FORM_TYPES)}), not {kind[:64]}"


CurrentUser = Annotated[User, Depends(current_user)]


def store_scope(user: CurrentUser) -> StoreScope:
    """The stores the current user may see; services filter every query by it."""
    return StoreScope.of(user.stores)


Scope = Annotated[StoreScope, Depends(store_scope)]

_REQUIRED: dict[Callable[..., User], Capability] = {}


@cache
def require(capability: Capability) -> Callable[[User], User]:
    """A dependency that lets only users whose role (or token) has ``capability`` through (403 for the others);
    store scope is still the services' to apply (a store manager changes only their own stores).

    >>> from storewatch.web.users import Role
    >>> check = require(Capability.MANAGE_USERS)
    >>> check(User("u1", "ana", "", Role.ADMIN, ("*",), False, "")).username
    'ana'
    >>> check(User("u2", "bo", "", Role.GUARD, ("*",), False, ""))
    Traceback (most recent call last):
    ...
    storewatch.web.errors.ForbiddenError: your role (guard) may not manage users and roles
    """
    wanted = DESCRIPTIONS[capability].lower()

    def check(user: CurrentUser) -> User:
        if not user.can(capability):
            who = "this API token" if user.token_id else f"your role ({user.role.value.replace('_', ' ')})"
            raise ForbiddenError(f"{who} may not {wanted}")
        return user

    check.__name__ = f"require_{capability.name.lower()}"
    _REQUIRED[check] = capability
    return check


def request_audit(request: Request, ctx: Ctx, user: CurrentUser) -> RequestAudit:
    """The audit trail bound to the current user and the client's address."""
    return RequestAudit(ctx.audit, user, request.client.host if request.client else None)


Audit = Annotated[RequestAudit, Depends(request_audit)]


def required_capability(call: object) -> Capability | None:
    """The capability a dependency function made by ``require`` checks (for the route walk)."""
    return next((capability for fn, capability in _REQUIRED.items() if fn is call), None)


def allowed(capability: Capability) -> Any:
    """``Depends(require(capability))``, for a router's or an operation's ``dependencies``."""
    return Depends(require(capability))


Editor = Annotated[User, Depends(require(Capability.EDIT_CONFIG))]
"""Who may change zones and rules (for their own stores; site-wide rules: for every store)."""
