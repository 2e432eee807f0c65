"""Pages of access control: users (administrators: list, create, edit role and stores, disable, unlock, reset the
password), API tokens (create, list, revoke) and the permissions matrix (every signed-in user may read it).

A password or token made here is shown once, on the page that answers the form (never in a URL, never cached),
and is not kept: only its hash is stored.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, ValidationError

from storewatch.web.access_service import UserCreateIn, UserEditIn
from storewatch.web.deps import Ctx, CurrentUser, WebContext, allowed
from storewatch.web.errors import ServiceError
from storewatch.web.permissions import CAPABILITIES, DESCRIPTIONS, TOKEN_CAPABILITIES, Capability, Role, matrix
from storewatch.web.routes.common import redirect, render
from storewatch.web.scope import StoreScope
from storewatch.web.tokens import TokenIn
from storewatch.web.users import ALL_STORES, User

router = APIRouter(tags=["pages"], default_response_class=HTMLResponse)
USERS = [allowed(Capability.MANAGE_USERS)]
TOKENS = [allowed(Capability.MANAGE_TOKENS)]

UserId = Annotated[str, Path(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9]+$")]
TokenId = UserId
NO_STORE = {"Cache-Control": "no-store"}
PLAIN = {
    ("username", "missing"): "Enter a user name.",
    ("role", "*"): "Choose a role.",
    ("name", "missing"): "Give the token a name.",
    ("expires_days", "*"): "Leave it empty (never), or give a whole number of days from 1 to 3650.",
    ("capabilities", "enum"): "Choose from the list.",
}
"""Form messages in plain words, by (field, pydantic error type; '*': any)."""
ROLE_HINTS = {
    Role.ADMIN: "Everything, including users, tokens and site-wide settings.",
    Role.REGIONAL_MANAGER: "Runs several stores: alerts, incidents, evidence, zones and rules, audit log.",
    Role.STORE_MANAGER: "Runs their stores: alerts, incidents, evidence, zones and rules.",
    Role.INVESTIGATOR: "Works incidents and evidence, sees faces unblurred; does not acknowledge alerts.",
    Role.GUARD: "Acknowledges alerts and works incidents on the floor; no exports.",
    Role.PRIVACY_OFFICER: "Audit log, retention and subject-access requests; reads, changes nothing else.",
    Role.INTEGRATION: "For API tokens of other systems: no dashboard, no password login.",
}


def _store_choices(ctx: WebContext, user: User | None = None) -> list[tuple[str, str]]:
    """The stores a form offers: every store, or for an administrator scoped to some stores, theirs only."""
    scope = StoreScope.of(user.stores if user is not None else (ALL_STORES,))
    return [(s, ctx.directory.name(s)) for s in ctx.estate.store_ids(scope)]


def _known(ctx: WebContext) -> set[str]:
    return {s for s, _ in _store_choices(ctx)}


def _all_stores(user: User) -> str | None:
    """The "all stores" choice, offered only to whoever has every store."""
    return ALL_STORES if ALL_STORES in user.stores else None


async def _form(request: Request, model: type[BaseModel]) -> tuple[Any, dict[str, Any], dict[str, str]]:
    """The form in ``model`` (or None), the values to fill it again, and errors by field. ``stores`` and
    ``capabilities`` are checkbox lists."""
    form = await request.form()
    values: dict[str, Any] = {k: v for k, v in form.items() if isinstance(v, str) and k != "password"}
    values["stores"] = [v for v in form.getlist("stores") if isinstance(v, str)]
    values["capabilities"] = [v for v in form.getlist("capabilities") if isinstance(v, str)]
    data = {k: v for k, v in values.items() if k in model.model_fields and v not in ("", [])}
    if "stores" in model.model_fields:
        data["stores"] = values["stores"]
    if model is UserCreateIn and form.get("password_mode") == "typed":
        data["password"] = str(form.get("password") or "")
    if model is TokenIn and not values["capabilities"]:
        data["capabilities"] = []
    try:
        return model.model_validate(data), values, {}
    except ValidationError as exc:
        errors: dict[str, str] = {}
        for e in exc.errors():
            field = str(e["loc"][0]) if e["loc"] else "form"
            plain = PLAIN.get((field, e["type"])) or PLAIN.get((field, "*"))
            errors.setdefault(field, plain or str(e["msg"]).removeprefix("Value error, "))
        return None, values, errors


# --- users --------------------------------------------------------------------------------------------------------
@router.get("/users", summary="Users: role, stores, last login, status", dependencies=USERS)
def users_page(request: Request, ctx: Ctx, user: CurrentUser) -> Response:
    return render(ctx, request, "users.html", user, active="users", users=ctx.accounts.every(), now=datetime.now(UTC))


@router.get("/users/new", summary="The form for a new user", dependencies=USERS)
def new_user_page(request: Request, ctx: Ctx, user: CurrentUser) -> Response:
    return _user_form(ctx, request, user, None, values={"role": Role.GUARD.value, "password_mode": "random"})


@router.post("/users", summary="Create a user (form); a made password is shown once", dependencies=USERS)
async def create_user(request: Request, ctx: Ctx, user: CurrentUser) -> Response:
    body, values, errors = await _form(request, UserCreateIn)
    status = 422
    if body is not None:
        try:
            made, password = ctx.accounts.create(body, user, _known(ctx))
        except ServiceError as exc:
            errors, status = {exc.field or "form": exc.message}, 403 if exc.status == 403 else 422
        else:
            if password is None:
                return redirect(f"/users/{made.id}?notice=user_saved")
            return _secret(ctx, request, user, "password", made.username, password, f"/users/{made.id}")
    return _user_form(ctx, request, user, None, values=values, errors=errors, status=status)


@router.get("/users/{user_id}", summary="A user: role, stores, status; disable, unlock, reset", dependencies=USERS)
def user_page(user_id: UserId, request: Request, ctx: Ctx, user: CurrentUser) -> Response:
    found = ctx.accounts.get(user_id)
    values = {"display_name": found.display_name, "role": found.role.value, "stores": list(found.stores)}
    return _user_form(ctx, request, user, found, values=values)


@router.post("/users/{user_id}", summary="Change a user's name, role and stores (form)", dependencies=USERS)
async def edit_user(user_id: UserId, request: Request, ctx: Ctx, user: CurrentUser) -> Response:
    found = ctx.accounts.get(user_id)
    body, values, errors = await _form(request, UserEditIn)
    status = 422
    if body is not None:
        try:
            ctx.accounts.edit(user_id, body, user, _known(ctx))
        except ServiceError as exc:
            errors, status = {exc.field or "form": exc.message}, 403 if exc.status == 403 else 422
        else:
            return redirect(f"/users/{user_id}?notice=user_saved")
    return _user_form(ctx, request, user, found, values=values, errors=errors, status=status)


@router.post("/users/{user_id}/disable", summary="Disable a user (their sessions end)", dependencies=USERS)
def disable_user(user_id: UserId, ctx: Ctx, user: CurrentUser) -> Response:
    ctx.accounts.set_disabled(user_id, True, user)
    return redirect(f"/users/{user_id}?notice=user_disabled")


@router.post("/users/{user_id}/enable", summary="Enable a disabled user", dependencies=USERS)
def enable_user(user_id: UserId, ctx: Ctx, user: CurrentUser) -> Response:
    ctx.accounts.set_disabled(user_id, False, user)
    return redirect(f"/users/{user_id}?notice=user_enabled")


@router.post("/users/{user_id}/unlock", summary="Lift a login lockout", dependencies=USERS)
def unlock_user(user_id: UserId, ctx: Ctx, user: CurrentUser) -> Response:
    ctx.accounts.unlock(user_id, user)
    return redirect(f"/users/{user_id}?notice=user_unlocked")


@router.post("/users/{user_id}/password", summary="Reset a password (a new one, shown once)", dependencies=USERS)
def reset_password(user_id: UserId, request: Request, ctx: Ctx, user: CurrentUser) -> Response:
    found, password = ctx.accounts.reset_password(user_id, user)
    return _secret(ctx, request, user, "password", found.username, password, f"/users/{found.id}")


def _user_form(
    ctx: WebContext,
    request: Request,
    user: User,
    found: User | None,
    *,
    values: dict[str, Any],
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    return render(ctx, request, "user_form.html", user, status, active="users", found=found, values=values,
                  errors=errors or {}, roles=list(Role), role_hints=ROLE_HINTS, stores=_store_choices(ctx, user),
                  all_stores=_all_stores(user), now=datetime.now(UTC))  # fmt: skip


def _secret(ctx: WebContext, request: Request, user: User, kind: str, name: str, secret: str, back: str) -> Response:
    response = render(ctx, request, "secret_once.html", user, active="users", kind=kind, owner=name, secret=secret,
                      back=back)  # fmt: skip
    response.headers.update(NO_STORE)
    return response


# --- permissions matrix -------------------------------------------------------------------------------------------
@router.get(
    "/roles", summary="What each role may do (the permissions matrix)", dependencies=[allowed(Capability.DASHBOARD)]
)
def roles_page(request: Request, ctx: Ctx, user: CurrentUser) -> Response:
    active = "users" if user.can(Capability.MANAGE_USERS) else "settings"
    return render(ctx, request, "roles.html", user, active=active, roles=list(Role), rows=matrix(), hints=ROLE_HINTS)


# --- API tokens ---------------------------------------------------------------------------------------------------
@router.get("/tokens", summary="API tokens: create, list with last use, revoke", dependencies=TOKENS)
def tokens_page(request: Request, ctx: Ctx, user: CurrentUser) -> Response:
    defaults = {"capabilities": sorted(c.value for c in CAPABILITIES[Role.INTEGRATION])}
    return _tokens(ctx, request, user, values=defaults)


@router.post("/tokens", summary="Create an API token (form; shown once)", dependencies=TOKENS)
async def create_token(request: Request, ctx: Ctx, user: CurrentUser) -> Response:
    body, values, errors = await _form(request, TokenIn)
    status = 422
    if body is not None:
        try:
            token, text = ctx.tokens.create(body, user.name, _known(ctx), within=user.stores)
        except ServiceError as exc:
            errors, status = {exc.field or "form": exc.message}, 403 if exc.status == 403 else 422
        else:
            return _secret(ctx, request, user, "token", token.name, text, "/tokens")
    return _tokens(ctx, request, user, values=values, errors=errors, status=status)


@router.post("/tokens/{token_id}/revoke", summary="Revoke an API token (it stops working at once)", dependencies=TOKENS)
def revoke_token(token_id: TokenId, ctx: Ctx, user: CurrentUser) -> Response:
    ctx.tokens.revoke(token_id, user.name, within=user.stores)
    return redirect("/tokens?notice=token_revoked")


def _tokens(
    ctx: WebContext,
    request: Request,
    user: User,
    *,
    values: dict[str, Any],
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    choices = [(c.value, DESCRIPTIONS[c]) for c in Capability if c in TOKEN_CAPABILITIES]
    return render(ctx, request, "tokens.html", user, status, active="users", tokens=ctx.tokens.every(),
                  values=values, errors=errors or {}, capabilities=choices, stores=_store_choices(ctx, user),
                  all_stores=_all_stores(user), now=datetime.now(UTC))  # fmt: skip
