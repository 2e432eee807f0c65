"""Evidence files (snapshots, clips, path pictures) for logged-in users, with HTTP Range for video."""

from __future__ import annotations

import logging

from fastapi import APIRouter
from fastapi.responses import FileResponse

from storewatch.web.deps import Ctx, Scope, allowed
from storewatch.web.errors import NotFoundError
from storewatch.web.media import MediaNotServedError
from storewatch.web.permissions import Capability

log = logging.getLogger(__name__)
router = APIRouter(tags=["media"], dependencies=[allowed(Capability.VIEW)])


@router.get(
    "/media/{key:path}",
    summary="An evidence file under the data folder's media/ (Range requests supported)",
    response_class=FileResponse,
    responses={200: {"content": {"image/jpeg": {}, "video/mp4": {}, "video/x-matroska": {}}}, 404: {}},
)
def media_file(key: str, ctx: Ctx, scope: Scope) -> FileResponse:
    try:
        path, content_type = ctx.links.resolve(key, scope)
    except MediaNotServedError as exc:
        log.info("media not served: %s", exc)
        raise NotFoundError(f"no evidence file {key!r}") from exc
    return FileResponse(path, media_type=content_type, headers={"Cache-Control": "private, max-age=3600"})
