"""POS transactions pushed by a till system: ``POST /api/v1/pos/transactions``. No login: the body is signed with
the shared secret of ``pos.sources.http`` (see ``storewatch.pos.http``); the route only reads the body, bounded,
and hands it to the endpoint in a worker thread."""

from __future__ import annotations

import anyio
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from storewatch.pos.http import POS_PATH
from storewatch.web.deps import Ctx

router = APIRouter(tags=["public", "pos"])


@router.post(
    POS_PATH,
    summary="Ingest POS transactions (POSLog XML, JSON, JSON Lines or CSV; HMAC-signed, no login)",
    responses={400: {"description": "Nothing could be read"}, 401: {"description": "Bad signature"}},
)
async def post_transactions(request: Request, ctx: Ctx) -> JSONResponse:
    endpoint = ctx.pos
    if endpoint is None:
        return JSONResponse(
            {"error": "POS over HTTP is not enabled here: set pos.sources.http.enabled in the site file and its "
                      "secret in the environment variable pos.sources.http.secret_env names"},
            status_code=404,
        )  # fmt: skip
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > endpoint.max_body_bytes:
        return JSONResponse({"error": f"body over the limit of {endpoint.max_body_bytes} bytes"}, status_code=413)
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > endpoint.max_body_bytes:
            return JSONResponse({"error": f"body over the limit of {endpoint.max_body_bytes} bytes"}, status_code=413)
        chunks.append(chunk)
    peer = f"http:{request.client.host}" if request.client else "http"
    status, reply = await anyio.to_thread.run_sync(endpoint.handle, b"".join(chunks), dict(request.headers), peer)
    return JSONResponse(reply, status_code=status)
