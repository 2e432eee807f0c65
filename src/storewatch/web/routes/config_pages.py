"""The editors of the site file: a camera's zones and lines (a page drawing on the camera's picture, saving through
the JSON API) and the behaviour rules (a plain HTML form: site-wide, or one camera's overrides). Anyone in scope
may look; saving takes an administrator, or the store's manager (``deps.Editor``; site-wide rules: administrator).
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from storewatch.web.config_schemas import GeometryCheckPublic, GeometryIn, GeometryPublic, SavedPublic
from storewatch.web.deps import Audit, Ctx, CurrentUser, Editor, Scope, allowed
from storewatch.web.errors import ConflictError
from storewatch.web.geometry_service import ShapesInvalidError
from storewatch.web.permissions import Capability
from storewatch.web.routes.cameras import CameraP, StoreP
from storewatch.web.routes.common import redirect, render
from storewatch.web.rules_service import SITE, RulesInvalidError

router = APIRouter(dependencies=[allowed(Capability.VIEW)])

TargetQ = Annotated[str | None, Query(max_length=130, description="site, or store/camera.")]
INVALID: dict[int | str, dict[str, Any]] = {
    422: {"model": GeometryCheckPublic, "description": "What is wrong, shape by shape"}
}


# --- zones and lines ---------------------------------------------------------------------------------------------
@router.get(
    "/cameras/{store}/{camera}/zones",
    tags=["pages"],
    response_class=HTMLResponse,
    summary="Zone editor: draw, move and delete a camera's zones and lines on its picture",
)
def zones_page(store: StoreP, camera: CameraP, request: Request, ctx: Ctx, scope: Scope, user: CurrentUser) -> Response:
    found = ctx.cameras.camera(scope, store, camera)
    geometry = ctx.geometry.geometry(scope, user, store, camera)
    return render(ctx, request, "zones.html", user, active="cameras", camera=found, geometry=geometry)


@router.get("/api/v1/cameras/{store}/{camera}/geometry", tags=["config"], summary="A camera's zones and lines")
def geometry(store: StoreP, camera: CameraP, ctx: Ctx, scope: Scope, user: CurrentUser) -> GeometryPublic:
    return ctx.geometry.geometry(scope, user, store, camera)


@router.post(
    "/api/v1/cameras/{store}/{camera}/geometry/check",
    tags=["config"],
    summary="Check zones and lines as the site file would (nothing is saved)",
    dependencies=[allowed(Capability.EDIT_CONFIG)],
)
def check_geometry(store: StoreP, camera: CameraP, body: GeometryIn, ctx: Ctx, scope: Scope) -> GeometryCheckPublic:
    return ctx.geometry.check(scope, store, camera, body)


@router.put(
    "/api/v1/cameras/{store}/{camera}/geometry",
    tags=["config"],
    summary="Save a camera's zones and lines to the site file (the previous file is kept as a backup)",
    response_model=SavedPublic,
    responses={**INVALID, 403: {"description": "Not an administrator or the store's manager"},
               409: {"description": "The site file changed since `version`"}},
)  # fmt: skip
def save_geometry(
    store: StoreP, camera: CameraP, body: GeometryIn, ctx: Ctx, scope: Scope, user: Editor, audit: Audit
) -> Response | SavedPublic:
    try:
        saved = ctx.geometry.save(scope, user, store, camera, body)
    except ShapesInvalidError as exc:
        return JSONResponse(exc.check.model_dump(mode="json"), status_code=exc.status)
    audit.config_change(f"camera:{store}/{camera}", store, what="zones and lines", version=saved.version)
    return saved


# --- rules -------------------------------------------------------------------------------------------------------
@router.get(
    "/rules",
    tags=["pages"],
    response_class=HTMLResponse,
    summary="Rules editor: every behaviour rule's settings, site-wide or one camera's overrides",
)
def rules_page(request: Request, ctx: Ctx, scope: Scope, user: CurrentUser, target: TargetQ = None) -> Response:
    page = ctx.rules.page(scope, user, target)
    return render(ctx, request, "rules.html", user, active="rules", page=page)


@router.post("/rules", tags=["pages"], response_class=HTMLResponse, summary="Save rule settings (form)")
async def save_rules(request: Request, ctx: Ctx, scope: Scope, user: Editor, audit: Audit) -> Response:
    form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    target = form.pop("target", SITE) or SITE
    version = form.pop("version", None) or None
    try:
        saved = await run_in_threadpool(ctx.rules.save, scope, user, target, form, version)
    except RulesInvalidError as exc:
        page = ctx.rules.page(scope, user, target, values=form, errors=exc.errors, general=exc.general)
        return render(ctx, request, "rules.html", user, 422, active="rules", page=page)
    store = target.split("/", 1)[0] if target != SITE else None
    audit.config_change(f"rules:{target}", store, what="rules", version=saved.version)
    notice = "rules_live" if saved.applied_live else "rules_saved"
    return redirect(f"/rules?target={quote(target, safe='/')}&notice={notice}")


@router.post(
    "/rules/backtest",
    tags=["pages"],
    response_class=HTMLResponse,
    summary="Try the form's rule settings on the recorded track history (a job; nothing is saved)",
)
async def backtest_rules(request: Request, ctx: Ctx, scope: Scope, user: Editor) -> Response:
    form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    target = form.pop("target", SITE) or SITE
    version = form.pop("version", None) or None
    tracks = ctx.settings.data_dir / "tracks"
    try:
        job = await run_in_threadpool(
            lambda: ctx.rules.start_backtest(scope, user, target, form, version, tracks=tracks, jobs=ctx.jobs)
        )
    except RulesInvalidError as exc:
        page = ctx.rules.page(scope, user, target, values=form, errors=exc.errors, general=exc.general)
        return render(ctx, request, "rules.html", user, 422, active="rules", page=page)
    except ConflictError as exc:
        page = ctx.rules.page(scope, user, target, values=form, general=[exc.message])
        return render(ctx, request, "rules.html", user, 409, active="rules", page=page)
    return redirect(f"/jobs/{job.id}")
