"""The cameras: the list with their health, a camera's view (picture with tracks, zones and lines drawn over it),
and the JSON the view follows. Store-bound: every route takes the user's scope."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import FileResponse, HTMLResponse, Response

from storewatch.web.config_schemas import CameraPublic, LiveViewPublic
from storewatch.web.deps import Ctx, CurrentUser, Scope, allowed
from storewatch.web.permissions import Capability
from storewatch.web.routes.common import render
from storewatch.web.site_source import may_edit

router = APIRouter(dependencies=[allowed(Capability.VIEW)])

SLUG = r"^[a-z0-9][a-z0-9_-]{0,62}$"
StoreP = Annotated[str, Path(min_length=1, max_length=63, pattern=SLUG, description="Store id.")]
CameraP = Annotated[str, Path(min_length=1, max_length=63, pattern=SLUG, description="Camera id within the store.")]
EVENTS_SHOWN = 8


@router.get("/cameras", tags=["pages"], response_class=HTMLResponse, summary="Cameras with their health")
def cameras_page(request: Request, ctx: Ctx, scope: Scope, user: CurrentUser) -> Response:
    found = ctx.cameras.list(scope)
    stores = {c.store: c.store_name for c in found}
    editable = {c.id for c in found if may_edit(user, scope, c.store)}
    return render(ctx, request, "cameras.html", user, active="cameras", cameras=found, stores=stores, editable=editable)


@router.get(
    "/cameras/{store}/{camera}",
    tags=["pages"],
    response_class=HTMLResponse,
    summary="A camera's view: its picture with the tracks, zones and lines drawn over it",
)
def camera_page(
    store: StoreP, camera: CameraP, request: Request, ctx: Ctx, scope: Scope, user: CurrentUser
) -> Response:
    found = ctx.cameras.camera(scope, store, camera)
    events = [e for e in ctx.events.list(scope, store=store, limit=200) if e.camera == found.id][:EVENTS_SHOWN]
    return render(
        ctx,
        request,
        "camera.html",
        user,
        active="cameras",
        camera=found,
        events=events,
        can_edit=may_edit(user, scope, store),
        timezone=ctx.directory.timezone(store).key,
    )


@router.get("/api/v1/cameras", tags=["cameras"], summary="Cameras with their health, zones and lines counted")
def cameras_api(ctx: Ctx, scope: Scope) -> list[CameraPublic]:
    return ctx.cameras.list(scope)


@router.get(
    "/api/v1/cameras/{store}/{camera}/live",
    tags=["cameras"],
    summary="What a camera's view shows now: picture URL, tracks on it (live), zones and lines",
)
def camera_live(store: StoreP, camera: CameraP, ctx: Ctx, scope: Scope) -> LiveViewPublic:
    return ctx.cameras.view(scope, store, camera)


@router.get(
    "/api/v1/cameras/{store}/{camera}/frame.jpg",
    tags=["cameras"],
    summary="The camera's picture: its newest frame when it runs in this process, else its newest event snapshot",
    response_class=Response,
    responses={200: {"content": {"image/jpeg": {}}}, 404: {"description": "No picture yet"}},
)
def camera_frame(store: StoreP, camera: CameraP, ctx: Ctx, scope: Scope) -> Response:
    picture = ctx.cameras.picture(scope, store, camera)
    headers = {"Cache-Control": "no-store"}
    if picture.path is not None:
        return FileResponse(picture.path, media_type=picture.content_type, headers=headers)
    return Response(picture.data, media_type=picture.content_type, headers=headers)
