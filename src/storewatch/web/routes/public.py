"""What needs no login: the login page and health (static assets are mounted by the app)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import text

from storewatch.web.auth import COOKIE, LoginError, TooManyAttemptsError
from storewatch.web.deps import Ctx
from storewatch.web.routes.common import redirect, render
from storewatch.web.schemas import Health
from storewatch.web.views import safe_next

router = APIRouter(tags=["public"])


@router.get("/login", response_class=HTMLResponse, summary="The login page")
def login_page(request: Request, ctx: Ctx, next: Annotated[str | None, Query(max_length=2000)] = None) -> Response:
    if ctx.auth.user_for(request.cookies.get(COOKIE)) is not None:
        return redirect(safe_next(next))
    return render(ctx, request, "login.html", None, next=safe_next(next))


@router.post(
    "/login",
    response_class=HTMLResponse,
    summary="Log in (sets the session cookie); the same message for every failure, 429 while an address waits",
)
def login(
    request: Request,
    ctx: Ctx,
    username: Annotated[str, Form(max_length=64)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    errors, status = {}, 422
    if not username.strip():
        errors["username"] = "Enter your user name."
    if not password:
        errors["password"] = "Enter your password."
    if not errors:
        try:
            _, token = ctx.auth.login(username, password, request.client.host if request.client else None)
        except TooManyAttemptsError:
            errors["password"], status = "Too many failed logins from here: wait a few minutes, then try again.", 429
        except LoginError as exc:
            errors["password"], status = str(exc), 401
        else:
            response = RedirectResponse(safe_next(next), status_code=303)
            response.set_cookie(
                COOKIE,
                token,
                max_age=int(ctx.settings.session_ttl_s),
                httponly=True,
                samesite="lax",
                secure=ctx.settings.secure_cookies,
                path="/",
            )
            return response
    values = {"username": username}
    return render(ctx, request, "login.html", None, status, errors=errors, values=values, next=safe_next(next))


@router.get("/healthz", summary="Is the server up and its database reachable")
def health(ctx: Ctx) -> Health:
    with ctx.db.session() as session:
        session.execute(text("SELECT 1"))
    return Health(status="ok", database=ctx.db.backend)
