"""Settings: one's own account (change the password, sign out everywhere) and the site's effective settings,
read-only and without secrets. Every dashboard user has it."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from storewatch.web.auth import COOKIE, LoginError
from storewatch.web.deps import Ctx, CurrentUser, WebContext, allowed
from storewatch.web.permissions import Capability
from storewatch.web.routes.common import redirect, render
from storewatch.web.scope import StoreScope
from storewatch.web.settings import effective_settings
from storewatch.web.users import User

router = APIRouter(tags=["pages"], dependencies=[allowed(Capability.DASHBOARD)], default_response_class=HTMLResponse)

Password = Annotated[str, Form(max_length=1024)]


@router.get("/settings", summary="Your account and the site's settings")
def settings_page(request: Request, ctx: Ctx, user: CurrentUser) -> Response:
    return _page(ctx, request, user)


@router.post("/settings/password", summary="Change your password (form); your other sessions end")
def change_password(
    request: Request,
    ctx: Ctx,
    user: CurrentUser,
    current: Password = "",
    new: Password = "",
    repeat: Password = "",
) -> Response:
    errors: dict[str, str] = {}
    if not current:
        errors["current"] = "Enter your current password."
    if new != repeat:
        errors["repeat"] = "The two new passwords differ."
    if not errors:
        try:
            _, token = ctx.auth.change_password(user, current, new)
        except LoginError as exc:
            errors["current"] = str(exc)
        except ValueError as exc:
            errors["new"] = str(exc)
        else:
            response = redirect("/settings?notice=password_changed")
            response.set_cookie(COOKIE, token, max_age=int(ctx.settings.session_ttl_s), httponly=True,
                                samesite="lax", secure=ctx.settings.secure_cookies, path="/")  # fmt: skip
            return response
    return _page(ctx, request, user, errors=errors, status=422)


@router.post("/settings/sessions", summary="Sign out everywhere: every session of yours ends, this one too")
def end_sessions(ctx: Ctx, user: CurrentUser) -> Response:
    ctx.auth.end_sessions(user)
    response = redirect("/login")
    response.delete_cookie(COOKIE, path="/")
    return response


def _page(
    ctx: WebContext, request: Request, user: User, errors: dict[str, str] | None = None, status: int = 200
) -> Response:
    site = effective_settings(ctx.settings, ctx.db.backend, StoreScope.of(user.stores).allows)
    return render(ctx, request, "settings.html", user, status, active="settings", site=site, errors=errors or {})
