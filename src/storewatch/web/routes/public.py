"""What needs no login: the login page and health (static assets are mounted by the app)."""

from __future__ import annotations

import re
import secrets
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import text

from storewatch.web.auth import COOKIE, LOGIN_COOKIE, LoginError, TooManyAttemptsError
from storewatch.web.deps import Ctx
from storewatch.web.routes.common import redirect, render
from storewatch.web.schemas import Health
from storewatch.web.views import safe_next

router = APIRouter(tags=["public"])
NONCE = re.compile(r"^[A-Za-z0-9_-]{32}$")
LOGIN_COOKIE_S = 2 * 3600
"""How long a login page's form stays valid."""


@router.get("/login", response_class=HTMLResponse, summary="The login page")
def login_page(request: Request, ctx: Ctx, next: Annotated[str | None, Query(max_length=2000)] = None) -> Response:
    if ctx.auth.user_for(request.cookies.get(COOKIE)) is not None:
        return redirect(safe_next(next))
    return _form(ctx, request, 200, next=safe_next(next))


def _form(ctx: Ctx, request: Request, status: int, **context: Any) -> Response:
    """The login form with its CSRF token, and the pre-session cookie the token is made from (kept when the browser
    has a well-formed one, so two open login tabs both work)."""
    nonce = request.cookies.get(LOGIN_COOKIE, "")
    if not NONCE.fullmatch(nonce):
        nonce = secrets.token_urlsafe(24)
    response = render(ctx, request, "login.html", None, status, csrf_token=ctx.auth.signer.login_csrf(nonce), **context)
    response.set_cookie(LOGIN_COOKIE, nonce, max_age=LOGIN_COOKIE_S, httponly=True, samesite="lax",
                        secure=ctx.settings.secure_cookies, path="/login")  # fmt: skip
    return response


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
    csrf_token: Annotated[str, Form(max_length=128)] = "",
) -> Response:
    errors, status = {}, 422
    ip = request.client.host if request.client else None
    if not ctx.auth.login_csrf_ok(request.cookies.get(LOGIN_COOKIE), csrf_token):
        ctx.auth.audit.login(username.strip()[:64], None, False, ip, "csrf")
        errors["form"] = "This login form was out of date (its security token was missing or old): log in again."
        return _form(ctx, request, 403, errors=errors, values={"username": username}, next=safe_next(next))
    if not username.strip():
        errors["username"] = "Enter your user name."
    if not password:
        errors["password"] = "Enter your password."
    if not errors:
        try:
            _, token = ctx.auth.login(username, password, ip)
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
            response.delete_cookie(LOGIN_COOKIE, path="/login", secure=ctx.settings.secure_cookies, httponly=True)
            return response
    return _form(ctx, request, status, errors=errors, values={"username": username}, next=safe_next(next))


@router.get("/healthz", summary="Is the server up and its database reachable")
def health(ctx: Ctx) -> Health:
    with ctx.db.session() as session:
        session.execute(text("SELECT 1"))
    return Health(status="ok", database=ctx.db.backend)
