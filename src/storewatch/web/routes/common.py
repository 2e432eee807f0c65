"""Shared by the page routes: rendering with the common context, reading forms into strict schemas, redirects."""

from __future__ import annotations

from typing import Any, TypeVar

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import BaseModel, ValidationError

from storewatch.web.auth import COOKIE
from storewatch.web.deps import WebContext
from storewatch.web.permissions import Capability
from storewatch.web.store_choice import switcher
from storewatch.web.users import User

M = TypeVar("M", bound=BaseModel)

NOTICES = {
    "acknowledged": "Alert acknowledged.",
    "false_alarm": "Alert marked as a false alarm.",
    "moved": "Incident updated.",
    "noted": "Note added.",
    "assigned": "Assignment saved.",
    "tagged": "Tags saved.",
    "loss": "Loss recorded.",
    "rules_live": "Rule settings saved to the site file; the cameras use them now.",
    "rules_saved": "Rule settings saved to the site file; cameras take them at their next start.",
    "user_saved": "User saved.",
    "user_disabled": "User disabled: they cannot log in, and their sessions have ended.",
    "user_enabled": "User enabled: they can log in again.",
    "user_unlocked": "User unlocked: they can try to log in again now.",
    "token_revoked": "Token revoked: it stops working at once.",
    "password_changed": "Password changed. Your other sessions have ended.",
}
"""The only texts a ``?notice=`` key shows (nothing from the URL is echoed)."""

NAV = [
    ("overview", "/", "Overview"),
    ("alerts", "/alerts", "Alerts"),
    ("incidents", "/incidents", "Incidents"),
    ("cameras", "/cameras", "Cameras"),
    ("rules", "/rules", "Rules"),
    ("analytics", "/analytics", "Analytics"),
    ("inventory", "/inventory", "Inventory"),
    ("jobs", "/jobs", "Jobs"),
    ("users", "/users", "Users"),
    ("audit", "/audit", "Audit log"),
    ("privacy", "/privacy/subjects", "Subject requests"),
]
NAV_NEEDS: dict[str, Capability] = {
    "analytics": Capability.VIEW,
    "inventory": Capability.VIEW,
    "audit": Capability.READ_AUDIT,
    "privacy": Capability.PRIVACY_REQUESTS,
    "incidents": Capability.VIEW_INCIDENTS,
    "users": Capability.MANAGE_USERS,
}
"""Navigation items shown only to users with the capability (the others are for every dashboard user)."""
COMING_SOON: list[str] = []
"""Navigation items announced but not built yet (none: a store's dashboard has no hub page; a hub adds its own)."""


def render(
    ctx: WebContext, request: Request, name: str, user: User | None, status_code: int = 200, **context: Any
) -> HTMLResponse:
    notice = NOTICES.get(request.query_params.get("notice", ""))
    cookie = request.cookies.get(COOKIE)
    csrf = ctx.auth.signer.csrf(cookie) if user is not None and cookie else ""
    base: dict[str, Any] = {"user": user, "notice": notice, "errors": {}, "values": {}, "form": None}
    base["csrf_token"] = csrf
    base["switcher"] = None if name.startswith("_") else switcher(ctx, request, user)  # "_": a fragment, no header
    return ctx.templates.TemplateResponse(request, name, {**base, **context}, status_code=status_code)


def redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


async def read_form(
    request: Request, model: type[M], lists: tuple[str, ...] = ()
) -> tuple[M | None, dict[str, Any], dict[str, str]]:
    """The form parsed into ``model`` (or None), the raw values (to fill the form again) and errors by field.
    Empty fields count as not given; ``lists`` are fields split on commas (e.g. tags)."""
    form = await request.form()
    values: dict[str, Any] = {k: v for k, v in form.items() if isinstance(v, str)}
    data: dict[str, Any] = {}
    for key, value in values.items():
        if key in ("next", "csrf_token") or key not in model.model_fields:
            continue
        if key in lists:
            data[key] = [p for p in (x.strip() for x in value.split(",")) if p]
        elif value.strip() != "":
            data[key] = value
    try:
        return model.model_validate(data), values, {}
    except ValidationError as exc:
        errors: dict[str, str] = {}
        for e in exc.errors():
            field = str(e["loc"][0]) if e["loc"] else "form"
            errors.setdefault(field, _message(e["msg"]))
        return None, values, errors


def _message(msg: str) -> str:
    return msg.removeprefix("Value error, ")
