"""What other systems push: POS transactions (``POST /api/v1/pos/transactions``) and door access events
(``POST /api/v1/access/events``). No login: each request is signed with the integration's shared secret or
carries an API token with its capability (``storewatch.ingest.http``); the routes only read the body, bounded,
and hand it to the endpoint in a worker thread."""

from __future__ import annotations

from typing import Any

import anyio
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from storewatch.access.http import ACCESS_PATH
from storewatch.ingest.http import IngestEndpoint
from storewatch.pos.http import POS_PATH
from storewatch.web.deps import Ctx

router = APIRouter(tags=["public", "integrations"])

RESPONSES: dict[int | str, dict[str, str]] = {
    400: {"description": "Nothing could be read"},
    401: {"description": "Bad signature or token"},
    403: {"description": "The token lacks the capability"},
    413: {"description": "Body over the limit"},
    503: {"description": "Database unavailable: send again"},
}


@router.post(
    POS_PATH,
    summary="Ingest POS transactions (POSLog XML, JSON, JSON Lines or CSV; HMAC-signed or API token)",
    responses=RESPONSES,
)
async def post_transactions(request: Request, ctx: Ctx) -> JSONResponse:
    disabled = ("POS over HTTP is not enabled here: set pos.sources.http.enabled in the site file (and its secret "
                "in the environment variable pos.sources.http.secret_env names, or send an API token)")  # fmt: skip
    return await _ingest(request, ctx.pos, disabled)


@router.post(
    ACCESS_PATH,
    summary="Ingest door access events (JSON, JSON Lines or CSV; HMAC-signed or API token)",
    responses=RESPONSES,
)
async def post_access_events(request: Request, ctx: Ctx) -> JSONResponse:
    disabled = ("Access events over HTTP are not enabled here: set access.sources.http.enabled in the site file "
                "(and its secret in the environment variable access.sources.http.secret_env names, or send an API "
                "token)")  # fmt: skip
    return await _ingest(request, ctx.access, disabled)


async def _ingest(request: Request, endpoint: IngestEndpoint[Any] | None, disabled: str) -> JSONResponse:
    if endpoint is None:
        return JSONResponse({"error": disabled}, status_code=404)
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
