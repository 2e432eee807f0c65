"""Only on a hub (``WebSettings.hub``): the hub page (each store's sync streams, alerts, thumbnails and
configuration, the versions pushed) and its JSON, the thumbnails that travelled with the events, and evidence
files fetched from the stores when opened (``web.hub_media``); ``configure`` puts the page in the navigation."""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import FileResponse, HTMLResponse, Response
from fastapi.templating import Jinja2Templates

from storewatch.web.deps import Ctx, CurrentUser, Scope, allowed
from storewatch.web.errors import NotFoundError
from storewatch.web.hub_media import StoreUnavailableError, Thumbnails
from storewatch.web.hub_views import HubStatus, HubStatusService
from storewatch.web.permissions import Capability
from storewatch.web.routes.common import COMING_SOON, NAV, render
from storewatch.web.store_choice import ChosenStore, narrowed

NAV_ITEM = ("hub", "/hub", "Hub")
MISSING_SNAPSHOT = "Snapshot kept at the store"

router = APIRouter(dependencies=[allowed(Capability.VIEW)])


def configure(templates: Jinja2Templates) -> None:
    """The hub page in the navigation (no longer 'coming soon'); evidence placeholders say where it is."""
    nav = list(templates.env.globals.get("nav", NAV))  # type: ignore[call-overload]
    templates.env.globals["nav"] = [*nav, NAV_ITEM] if NAV_ITEM not in nav else nav
    soon = templates.env.globals.get("coming_soon", COMING_SOON)
    templates.env.globals["coming_soon"] = [s for s in soon if s != NAV_ITEM[2]]  # type: ignore[attr-defined]
    templates.env.globals["missing_snapshot"] = MISSING_SNAPSHOT


def hub_status(ctx: Ctx) -> HubStatusService:
    return HubStatusService(ctx.db, ctx.directory)


Status = Annotated[HubStatusService, Depends(hub_status)]


@router.get("/hub", tags=["pages"], response_class=HTMLResponse, summary="The hub: stores' sync and configuration")
def hub_page(request: Request, ctx: Ctx, scope: Scope, user: CurrentUser, chosen: ChosenStore, hub: Status) -> Response:
    status = hub.status(narrowed(scope, chosen))
    return render(ctx, request, "hub_status.html", user, active="hub", status=status, chosen=chosen)


@router.get("/api/v1/hub/stores", tags=["hub"], summary="Each store's sync streams and configuration versions")
def hub_stores(scope: Scope, hub: Status) -> HubStatus:
    return hub.status(scope)


@router.get(
    "/hub/thumbnails/{key:path}",
    tags=["hub", "media"],
    summary="The thumbnail of an event's snapshot, as the store sent it (the snapshot's key names the event)",
    responses={200: {"content": {"image/jpeg": {}}}, 404: {}},
)
def hub_thumbnail(key: str, ctx: Ctx, scope: Scope) -> Response:
    event_id = PurePosixPath(key).stem
    if not event_id or PurePosixPath(key).suffix.lower() not in (".jpg", ".jpeg"):
        raise NotFoundError(f"no thumbnail {key!r}")
    jpeg = Thumbnails(ctx.db).get(key.split("/", 1)[0], event_id, scope)
    return Response(jpeg, media_type="image/jpeg", headers={"Cache-Control": "private, max-age=86400"})


@router.get(
    "/hub/media/{key:path}",
    tags=["hub", "media"],
    summary="An evidence file of a store (clip, full snapshot), fetched from its bucket or from the store when "
    "opened; 503 when the store does not answer",
    response_class=FileResponse,
    responses={200: {"content": {"image/jpeg": {}, "video/mp4": {}, "video/x-matroska": {}}}, 404: {}, 503: {}},
)
def hub_media(key: str, ctx: Ctx, scope: Scope) -> FileResponse:
    if ctx.hub_media is None:
        raise StoreUnavailableError("this server is not a hub: evidence is under /media")
    path, content_type = ctx.hub_media.file(key, scope)
    return FileResponse(path, media_type=content_type, headers={"Cache-Control": "private, max-age=3600"})
