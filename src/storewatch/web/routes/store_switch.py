"""The header's store switcher: choose the store every page shows (kept in a cookie; see ``web.store_choice``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form
from fastapi.responses import HTMLResponse, Response

from storewatch.web.deps import Ctx, Scope, allowed
from storewatch.web.errors import NotFoundError
from storewatch.web.permissions import Capability
from storewatch.web.routes.common import redirect
from storewatch.web.store_choice import COOKIE, COOKIE_MAX_AGE_S
from storewatch.web.views import safe_next

router = APIRouter(tags=["pages"], dependencies=[allowed(Capability.DASHBOARD)], default_response_class=HTMLResponse)


@router.post("/store", summary="Show one store on every page, or all of yours (form; kept in a cookie)")
def choose_store(
    ctx: Ctx,
    scope: Scope,
    store: Annotated[str, Form(max_length=64, description="A store id; empty: all my stores.")] = "",
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    store = store.strip()
    if store and not scope.allows(store):
        raise NotFoundError(f"no store {store!r} among yours", field="store")
    response = redirect(safe_next(next))
    if store:
        response.set_cookie(COOKIE, store, max_age=COOKIE_MAX_AGE_S, httponly=True, samesite="lax",
                            secure=ctx.settings.secure_cookies, path="/")  # fmt: skip
    else:
        response.delete_cookie(COOKIE, path="/")
    return response
