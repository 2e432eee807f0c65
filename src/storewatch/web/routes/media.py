"""Evidence files (snapshots, clips, path pictures) for logged-in users, with HTTP Range for video."""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Form
from fastapi.responses import FileResponse, Response

from storewatch.web.deps import Audit, Ctx, CurrentUser, Scope, allowed
from storewatch.web.errors import InvalidError, NotFoundError
from storewatch.web.media import MediaNotServedError, is_clip
from storewatch.web.permissions import Capability
from storewatch.web.routes.common import redirect

log = logging.getLogger(__name__)
router = APIRouter(tags=["media"], dependencies=[allowed(Capability.VIEW)])


@router.get(
    "/media/{key:path}",
    summary="An evidence file under the data folder's media/ (Range requests supported)",
    response_class=FileResponse,
    responses={200: {"content": {"image/jpeg": {}, "video/mp4": {}, "video/x-matroska": {}}}, 404: {}},
)
def media_file(key: str, ctx: Ctx, scope: Scope, user: CurrentUser, audit: Audit) -> FileResponse:
    granted = user.can(Capability.VIEW_UNBLURRED) and ctx.unblur.has(user.id, key)  # a reason was given: audited
    try:
        path, content_type = ctx.links.resolve(key, scope, original=granted)
    except MediaNotServedError as exc:
        log.info("media not served: %s", exc)
        raise NotFoundError(f"no evidence file {key!r}") from exc
    audit.view_file(key)
    return FileResponse(path, media_type=content_type, headers={"Cache-Control": "private, max-age=3600"})


@router.post("/media/protect", summary="Make a clip's copy with faces blurred (a job; its page shows progress)")
def protect(
    key: Annotated[str, Form(max_length=300)],
    ctx: Ctx,
    scope: Scope,
    user: CurrentUser,
    audit: Audit,
    back: Annotated[str | None, Form(max_length=300)] = None,
) -> Response:
    local = back if back and back.startswith("/") and not back.startswith("//") else None  # never another site
    job = ctx.clips.start(key, scope, user, ctx.jobs, local)
    audit.view_file(key)  # the person asked to watch this clip (its faces-blurred copy)
    return redirect(f"/jobs/{job.id}")


@router.post(
    "/media/unblur",
    summary="Watch a clip as recorded, faces visible, for 10 minutes: needs the role and a reason (audited)",
    dependencies=[allowed(Capability.VIEW_UNBLURRED)],
)
def unblur(
    key: Annotated[str, Form(max_length=300)],
    reason: Annotated[str, Form(max_length=500)],
    ctx: Ctx,
    scope: Scope,
    user: CurrentUser,
    audit: Audit,
) -> Response:
    if len(reason.strip()) < 5:
        raise InvalidError("say why the faces must be seen (a few words; it goes in the audit log)", field="reason")
    if not is_clip(key):
        raise NotFoundError(f"{key!r} is not a clip (snapshots are kept with faces blurred only)")
    try:
        ctx.links.resolve(key, scope, original=True)
    except MediaNotServedError as exc:
        raise NotFoundError(f"no clip {key!r}") from exc
    audit.unblur(key, reason.strip())
    ctx.unblur.give(user.id, key)
    return redirect(f"/media/{key}")
