"""The composition root of the web application: ``create_app(settings)``.

Building the app does no work: the database is opened, the first administrator made (when there is none), and the
live feed started by the lifespan, when the server starts (``storewatch openapi`` builds the app only to print its
document). Errors are mapped in one place: the API and media get JSON (or a bare status), pages get a rendered
page; a route that raises an unexpected exception is a bug and is logged.

>>> app = create_app(WebSettings(data_dir=Path("/nonexistent")))
>>> {"alerts", "estate", "events", "cameras", "config"} <= {t for r in api_routes(app) for t in r.tags}
True
"""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.exceptions import HTTPException as StarletteHTTPException

from storewatch import __version__
from storewatch.access.http import AccessHttpEndpoint
from storewatch.ingest.http import Authorize, Grant, RefusedError
from storewatch.ingest.sources import access_service, pos_service
from storewatch.media.config import open_media_store
from storewatch.pos.http import PosHttpEndpoint
from storewatch.runtime.alerting import link_secret
from storewatch.store.db import Database, default_url, open_database
from storewatch.store.migrate import upgrade
from storewatch.sync.media import MediaFetcher
from storewatch.web import views
from storewatch.web.access_audit import AccessAudit
from storewatch.web.access_service import UserAdminService
from storewatch.web.audit import AuditTrail, TrailAccessAudit
from storewatch.web.auth import AuthService, SessionSigner
from storewatch.web.body_limit import BodyLimit
from storewatch.web.camera_reads import CameraReads
from storewatch.web.camera_service import CameraService, LiveCameras
from storewatch.web.clip_privacy import ClipPrivacy, UnblurGrants
from storewatch.web.deps import NotAuthenticatedError, WebContext, current_user, required_capability
from storewatch.web.directory import StoreDirectory
from storewatch.web.errors import ServiceError
from storewatch.web.feed import FeedReader
from storewatch.web.geometry_service import GeometryService
from storewatch.web.hub_media import HubMedia, Thumbnails
from storewatch.web.hub_views import HubAlertService, HubEstateService, RegistryDirectory, StoredMediaLinks
from storewatch.web.incident_service import IncidentsService
from storewatch.web.jobs import JobRunner
from storewatch.web.live import ChangeSource, DatabasePoller, LiveHub
from storewatch.web.media import MediaLinks
from storewatch.web.permissions import Capability
from storewatch.web.present import Views
from storewatch.web.readmodels import ReadModels
from storewatch.web.routes import (
    api,
    api_incidents,
    audit_pages,
    cameras,
    config_pages,
    hub,
    incident_pages,
    integrations,
    inventory,
    jobs,
    media,
    pages,
    privacy_pages,
    public,
    settings_pages,
    store_switch,
    users_pages,
)
from storewatch.web.routes.common import COMING_SOON, NAV, NAV_NEEDS
from storewatch.web.rules_service import RulesService
from storewatch.web.scope import StoreScope
from storewatch.web.services import AlertService, EstateService, EventService
from storewatch.web.settings import WebSettings
from storewatch.web.site_source import OnSaved, SiteSource
from storewatch.web.subject_service import SubjectService
from storewatch.web.tokens import TokenService

log = logging.getLogger(__name__)

HERE = Path(__file__).parent
PUBLIC = "public"
SourcesFactory = Callable[[WebContext], list[ChangeSource]]


def create_app(
    settings: WebSettings,
    *,
    database: Database | None = None,
    sources: SourcesFactory | None = None,
    on_first_admin: Callable[[str, str], None] | None = None,
    live: LiveCameras | None = None,
    on_site_saved: OnSaved | None = None,
    audit: AccessAudit | None = None,
) -> FastAPI:
    """The app for one site. ``database``: use this open database (the caller closes it) instead of opening
    ``settings``'; ``sources``: what feeds the live feed (default: a ``DatabasePoller``); ``on_first_admin(name,
    password)``: told once when the first administrator is made (``storewatch serve`` prints it); ``live``: the
    cameras running in this process (their frames and tracks on the camera pages); ``on_site_saved(site)``: told
    each time an editor saved the site file (``storewatch demo``: its runner takes the change live); ``audit``:
    where logins, account and token changes are reported (default: the log)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        db = database or open_database(settings.database_url or default_url(settings.data_dir))
        try:
            ctx = await anyio.to_thread.run_sync(_context, settings, db, templates, live, on_site_saved, audit)
            password = await anyio.to_thread.run_sync(ctx.auth.ensure_first_admin)
            if password is not None and on_first_admin is not None:
                on_first_admin("admin", password)
            app.state.ctx = ctx
            async with anyio.create_task_group() as tasks:
                for source in (sources or _default_sources)(ctx):
                    tasks.start_soon(source.run, ctx.hub)
                try:
                    yield
                finally:
                    ctx.hub.close()
                    if ctx.hub_media is not None:
                        ctx.hub_media.close()
                    tasks.cancel_scope.cancel()
                    await anyio.to_thread.run_sync(ctx.jobs.close)
        finally:
            if database is None:
                db.close()

    app = FastAPI(
        title="storewatch",
        version=__version__,
        summary="Dashboard and API of one storewatch site: events, alerts, incidents, evidence.",
        lifespan=lifespan,
        docs_url=None,  # Swagger UI and ReDoc load from a CDN: not served (`storewatch openapi` prints the document)
        redoc_url=None,
        openapi_url=None,
        openapi_tags=[{"name": PUBLIC, "description": "Needs no login; every other operation does."}],
    )
    templates = _templates()
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    routers = (public, pages, incident_pages, jobs, api, api_incidents, media, store_switch, cameras, config_pages,
               audit_pages, privacy_pages, users_pages, settings_pages, integrations, inventory)  # fmt: skip
    for module in routers:
        app.include_router(module.router)
    if settings.hub:  # a hub's database: the registry's stores, the hub page
        app.include_router(hub.router)
        hub.configure(templates)
    _check_every_route_is_guarded(app)
    _error_handlers(app, templates)
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    return app


def _default_sources(ctx: WebContext) -> list[ChangeSource]:
    card = ctx.templates.get_template("_alert_card.html")
    reader = FeedReader(ctx.alerts.reads, ctx.alerts.views, ctx.alerts, cards=lambda alert: card.render(alert=alert))
    return [DatabasePoller(reader, interval_s=ctx.settings.poll_interval_s)]


def _context(
    settings: WebSettings,
    db: Database,
    templates: Jinja2Templates,
    live: LiveCameras | None = None,
    on_site_saved: OnSaved | None = None,
    audit: AccessAudit | None = None,
) -> WebContext:
    upgrade(db)
    trail = AuditTrail(db)
    audit = audit or TrailAccessAudit(trail)
    tokens = TokenService(db, audit)
    authorize = token_authorizer(tokens)
    directory = (
        RegistryDirectory(db, settings.timezone) if settings.hub else StoreDirectory(settings.site, settings.timezone)
    )
    templates.env.globals["site_name"] = directory.site_name
    templates.env.filters["when"] = lambda t, store, long=False: views.time_tag(t, directory.timezone(store), long=long)
    templates.env.filters["camera_name"] = directory.camera_name
    templates.env.filters["store_name"] = directory.name
    privacy_on = settings.site.privacy.enabled if settings.site is not None else True
    hub_media = _hub_media(settings) if settings.hub else None
    links = (
        StoredMediaLinks(settings.media_dir, Thumbnails(db), protect_clips=privacy_on)
        if settings.hub
        else MediaLinks(settings.media_dir, protect_clips=privacy_on)
    )
    reads, clips = ReadModels(db), ClipPrivacy(settings.site, links)
    present = Views(links)
    incidents = IncidentsService(db, reads, present, clips)
    alerts = (
        HubAlertService(db, reads, present, incidents, hub_media.fetcher)
        if hub_media is not None
        else AlertService(db, reads, present, incidents)
    )
    signer = SessionSigner(link_secret(settings.secret_path), settings.session_ttl_s)
    estate = (HubEstateService if settings.hub else EstateService)(reads, directory)
    site = SiteSource(settings.site_path, settings.site, on_site_saved)
    jobs = JobRunner(workers=1)
    return WebContext(
        settings=settings,
        db=db,
        directory=directory,
        auth=AuthService(db, signer, audit),
        events=EventService(reads, present),
        alerts=alerts,
        incidents=incidents,
        estate=estate,
        links=links,
        hub=LiveHub(heartbeat_s=settings.heartbeat_s),
        templates=templates,
        cameras=CameraService(CameraReads(db), site, estate, links, live),
        geometry=GeometryService(site),
        rules=RulesService(site),
        jobs=jobs,
        clips=clips,
        unblur=UnblurGrants(),
        audit=trail,
        tokens=tokens,
        accounts=UserAdminService(db, audit),
        subjects=SubjectService(db, settings.data_dir, settings.media_dir, clips.protected, jobs),
        hub_media=hub_media,
        pos=_pos_endpoint(settings, db, authorize),
        access=_access_endpoint(settings, db, authorize),
    )


def _hub_media(settings: WebSettings) -> HubMedia:
    """At a hub: clips and full snapshots from the stores' bucket (checked now) or from the stores over NATS."""
    fetcher = MediaFetcher(settings.nats_url) if settings.nats_url else None
    bucket = open_media_store(settings.media_bucket) if settings.media_bucket is not None else None
    return HubMedia(settings.media_dir, fetcher=fetcher, bucket=bucket)


def token_authorizer(tokens: TokenService) -> Authorize:
    """How the integration endpoints take an API token: valid, and holding the endpoint's capability."""

    def authorize(text: str, capability: str) -> Grant:
        user = tokens.user_for(text)
        if user is None:
            raise RefusedError(401, "unknown, revoked or expired API token")
        if not user.can(Capability(capability)):
            raise RefusedError(403, f"this API token lacks the {capability} capability")
        return Grant(f"token:{user.username}", StoreScope.of(user.stores).stores)

    return authorize


def _secret(section: str, env: str) -> str | None:
    """The shared secret in the environment variable ``env`` (16+ characters), or None: API tokens only."""
    secret = os.environ.get(env, "")
    if len(secret) < 16:
        log.warning("%s over HTTP: %s holds no secret of 16+ characters: only API tokens are accepted", section, env)
        return None
    return secret


def _pos_endpoint(settings: WebSettings, db: Database, authorize: Authorize) -> PosHttpEndpoint | None:
    """The POS HTTP endpoint when the site file enables it."""
    site = settings.site
    if site is None or not site.pos.sources.http.enabled:
        return None
    http = site.pos.sources.http
    service = pos_service(site, db, settings.data_dir)
    return PosHttpEndpoint(service, _secret("POS", http.secret_env), int(http.max_body_mb * 2**20), authorize)


def _access_endpoint(settings: WebSettings, db: Database, authorize: Authorize) -> AccessHttpEndpoint | None:
    """The door-access HTTP endpoint when the site file enables it."""
    site = settings.site
    if site is None or not site.access.sources.http.enabled:
        return None
    http = site.access.sources.http
    service = access_service(site, db, settings.data_dir)
    return AccessHttpEndpoint(service, _secret("access", http.secret_env), int(http.max_body_mb * 2**20), authorize)


def _templates() -> Jinja2Templates:
    templates = Jinja2Templates(directory=HERE / "templates")
    env = templates.env
    env.filters.update(
        ago=views.ago, duration=views.duration, label=views.label, short=views.short_id, sentence=views.sentence
    )
    env.globals.update(version=__version__, nav=NAV, nav_needs=NAV_NEEDS, coming_soon=COMING_SOON)
    return templates


def api_routes(app: FastAPI) -> list[APIRoute]:
    """Every operation of the app (routers included by ``include_router`` too, as FastAPI keeps them)."""
    found: list[APIRoute] = []

    def walk(routes: list[Any]) -> None:
        for route in routes:
            if isinstance(route, APIRoute):
                found.append(route)
            elif hasattr(route, "original_router"):  # FastAPI >= 0.130 keeps included routers as branches
                walk(route.original_router.routes)

    walk(list(app.routes))
    return found


def _check_every_route_is_guarded(app: FastAPI) -> None:
    """Refuse to build an app with a route that is neither tagged public nor behind ``current_user`` and
    ``deps.require(capability)``."""
    for route in api_routes(app):
        if PUBLIC in route.tags:
            continue
        if not _needs(route.dependant, current_user):
            raise RuntimeError(f"route {route.path} ({route.name}) is not tagged public and does not require a login")
        if not route_capabilities(route):
            raise RuntimeError(f"route {route.path} ({route.name}) does not require a capability (deps.require)")


def route_capabilities(route: APIRoute) -> set[Capability]:
    """The capabilities a route requires (through ``deps.require``, at any depth)."""
    found: set[Capability] = set()

    def walk(dependant: Any) -> None:
        for d in dependant.dependencies:
            capability = required_capability(d.call)
            if capability is not None:
                found.add(capability)
            walk(d)

    walk(route.dependant)
    return found


def _needs(dependant: Any, fn: Callable[..., Any]) -> bool:
    return any(d.call is fn or _needs(d, fn) for d in dependant.dependencies)


def _is_api(request: Request) -> bool:
    return request.url.path.startswith(("/api/", "/media/"))


def _error_handlers(app: FastAPI, templates: Jinja2Templates) -> None:
    def page(request: Request, status: int, title: str, messages: list[str]) -> Response:
        context = {"status": status, "title": title, "messages": messages, "user": getattr(request.state, "user", None)}
        return templates.TemplateResponse(request, "error.html", context, status_code=status)

    @app.exception_handler(NotAuthenticatedError)
    async def not_authenticated(request: Request, exc: NotAuthenticatedError) -> Response:
        if _is_api(request):
            return JSONResponse({"detail": "log in first"}, status_code=401)
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={_quote(target)}", status_code=303)

    @app.exception_handler(ServiceError)
    async def service_error(request: Request, exc: ServiceError) -> Response:
        if _is_api(request):
            return JSONResponse({"detail": exc.message, "field": exc.field}, status_code=exc.status)
        return page(request, exc.status, _TITLES.get(exc.status, "Something is wrong"), [exc.message])

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> Response:
        problems = [_problem(e) for e in exc.errors()]
        if _is_api(request):
            return JSONResponse({"detail": problems}, status_code=422)
        return page(request, 422, "That request is not right", [f"{p['field']}: {p['message']}" for p in problems])

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if _is_api(request):
            return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers)
        return page(request, exc.status_code, _TITLES.get(exc.status_code, "Something is wrong"), [str(exc.detail)])


_TITLES = {
    403: "Not yours to change",
    404: "Not found",
    405: "Not allowed",
    409: "That cannot be done now",
    422: "That is not right",
    503: "Not available now",
}


BODY_NOT_AN_OBJECT = frozenset({"model_attributes_type", "dict_type", "model_type"})


def _problem(error: Any) -> dict[str, str]:
    """One validation error as ``{field, message}``; a body that is not JSON, not a JSON object or missing is named
    as such (``field: body``), whatever operation it was sent to.

    >>> _problem({"type": "json_invalid", "loc": ("body", 6), "msg": "JSON decode error", "ctx": {"error": "x"}})
    {'field': 'body', 'message': 'the body is not valid JSON (x at character 6)'}
    >>> _problem({"type": "dict_type", "loc": ("body",), "msg": "Input should be a valid dictionary"})["message"]
    'the body must be a JSON object ({"name": value, ...}), not a list, string or number'
    """
    kind, where = error.get("type"), tuple(error.get("loc", ()))
    if kind == "json_invalid":
        reason = str((error.get("ctx") or {}).get("error") or "it cannot be read")
        at = f" at character {where[1]}" if len(where) > 1 and isinstance(where[1], int) else ""
        return {"field": "body", "message": f"the body is not valid JSON ({reason}{at})"}
    if where == ("body",) and isinstance(error.get("input"), bytes) and kind in BODY_NOT_AN_OBJECT:
        return {"field": "body", "message": "the body was not sent as JSON: send it with Content-Type: "
                "application/json"}  # fmt: skip
    if where == ("body",) and kind in BODY_NOT_AN_OBJECT:
        return {"field": "body", "message": 'the body must be a JSON object ({"name": value, ...}), not a list, '
                "string or number"}  # fmt: skip
    if where == ("body",) and kind == "missing":
        return {"field": "body", "message": "send a JSON object as the body, with Content-Type: application/json"}
    loc = [str(x) for x in where if x not in ("body", "query", "path", "form")]
    return {"field": ".".join(loc) or "request", "message": str(error.get("msg", "invalid"))}


def _quote(path: str) -> str:
    from urllib.parse import quote

    return quote(path, safe="/")
