"""Logging in and out, sessions, the first administrator, and the walk over every route: each is tagged public or
requires a login (401 for the API and media, a redirect to /login for pages)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi import APIRouter, FastAPI
from fastapi.testclient import TestClient

from storewatch.audit.chain import AuditAction
from storewatch.store import open_database, upgrade
from storewatch.store.audit import AuditFilter, AuditLog
from storewatch.store.db import default_url
from storewatch.web.app import PUBLIC, _check_every_route_is_guarded, api_routes
from storewatch.web.auth import COOKIE, LOGIN_COOKIE, LOGIN_FAILED, AuthService, SessionSigner, verify_password
from storewatch.web.users import UserRepository
from tests.web.conftest import login, login_form
from tests.web.seed import ADMIN, Seeded

SAMPLE = {
    "alert_id": "a" * 32,
    "incident_id": "b" * 32,
    "event_id": "c" * 32,
    "action": "note",
    "key:path": "s1/door/2026-03-01/e1.jpg",
    "store": "s1",
    "camera": "door",
    "user_id": "d" * 32,
    "job_id": "e" * 32,
    "token_id": "e" * 32,
}


def _path(template: str) -> str:
    return re.sub(r"\{([^}]+)\}", lambda m: SAMPLE[m.group(1)], template)


def test_every_route_is_public_or_requires_a_login(app_client: TestClient) -> None:
    routes = api_routes(app_client.app)  # type: ignore[arg-type]
    assert len(routes) >= 25
    checked = 0
    for route in routes:
        for method in sorted(route.methods - {"HEAD"}):
            response = app_client.request(method, _path(route.path))
            where = f"{method} {route.path}"
            if PUBLIC in route.tags:
                assert response.status_code != 401 and "/login?next" not in response.headers.get("location", ""), where
            elif route.path.startswith(("/api/", "/media/")):
                assert response.status_code == 401, where
                assert response.json() == {"detail": "log in first"}, where
            else:
                assert response.status_code == 303, where
                assert response.headers["location"].startswith("/login?next="), where
            checked += 1
    assert checked == sum(len(r.methods - {"HEAD"}) for r in routes)
    assert app_client.get("/static/app.css").status_code == 200  # static assets are public


def test_public_operations_are_the_login_page_and_health(app_client: TestClient) -> None:
    public = sorted((r.path, m) for r in api_routes(app_client.app) if PUBLIC in r.tags for m in r.methods)  # type: ignore[arg-type]
    # the integration endpoints need no login: a body signed with the shared secret, or an API token
    # (storewatch.ingest.http)
    assert public == [
        ("/api/v1/access/events", "POST"),
        ("/api/v1/pos/transactions", "POST"),
        ("/healthz", "GET"),
        ("/login", "GET"),
        ("/login", "POST"),
    ]


def test_an_unguarded_route_is_refused_when_the_app_is_built() -> None:
    app = FastAPI()
    router = APIRouter()

    @router.get("/leak")
    def leak() -> str:
        return "secret"

    app.include_router(router)
    with pytest.raises(RuntimeError, match="/leak"):
        _check_every_route_is_guarded(app)


def test_login_sets_a_strict_session_cookie_and_redirects_only_on_site(app_client: TestClient) -> None:
    response = login_form(app_client, {"username": ADMIN[0], "password": ADMIN[1], "next": "/incidents"})
    assert response.status_code == 303 and response.headers["location"] == "/incidents"
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE}=") and "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/" in cookie
    evil = login_form(app_client, {"username": ADMIN[0], "password": ADMIN[1], "next": "//evil.example/x"})
    assert evil.headers["location"] == "/"
    assert app_client.get("/").status_code == 200
    assert app_client.get("/login").headers["location"] == "/"  # logged in already


def test_the_login_form_needs_its_pre_session_csrf_token(app_client: TestClient, seeded: Seeded) -> None:
    page = app_client.get("/login")
    cookie = page.headers["set-cookie"]
    assert cookie.startswith(f"{LOGIN_COOKIE}=") and "HttpOnly" in cookie and "Path=/login" in cookie
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token is not None
    fields = {"username": ADMIN[0], "password": ADMIN[1]}
    other = app_client.app.state.ctx.auth.signer.login_csrf("x" * 32)  # type: ignore[attr-defined]
    for sent in ({}, {"csrf_token": ""}, {"csrf_token": other}, {"csrf_token": token.group(1) + "x"}):
        refused = app_client.post("/login", data={**fields, **sent})
        assert refused.status_code == 403 and "login form was out of date" in refused.text, sent
        assert COOKIE not in app_client.cookies and f"{COOKIE}=" not in refused.headers.get("set-cookie", "")
        assert "csrf_token" in refused.text  # a fresh form: typing again works
    app_client.cookies.delete(LOGIN_COOKIE)
    assert app_client.post("/login", data={**fields, "csrf_token": token.group(1)}).status_code == 403  # no cookie
    with open_database(default_url(seeded.data_dir)) as db:
        rows = AuditLog(db).list(AuditFilter(action=AuditAction.LOGIN_FAILED.value))
        assert rows and rows[0].details["reason"] == "csrf"
        user = UserRepository(db).by_username(ADMIN[0])
        assert user is not None and user.failed_logins == 0  # not a password try: no lockout counted
    done = login_form(app_client, fields)
    assert done.status_code == 303 and f'{LOGIN_COOKIE}=""' in done.headers["set-cookie"]  # used up


@pytest.mark.parametrize(
    ("username", "password", "status", "field", "message"),
    [
        ("ana", "wrong", 401, "password", LOGIN_FAILED),
        ("nobody", "whatever", 401, "password", LOGIN_FAILED),
        ("", "x", 422, "username", "Enter your user name."),
        ("ana", "", 422, "password", "Enter your password."),
    ],
)
def test_a_failed_login_says_why_next_to_the_field(
    app_client: TestClient, username: str, password: str, status: int, field: str, message: str
) -> None:
    response = login_form(app_client, {"username": username, "password": password})
    assert response.status_code == status
    assert f'<p class="field-error" id="{field}-error" role="alert">{message}</p>' in response.text
    assert COOKIE not in response.headers.get("set-cookie", "")


def test_logout_ends_the_session(admin: TestClient) -> None:
    response = admin.post("/logout")
    assert response.status_code == 303 and response.headers["location"] == "/login"
    assert admin.get("/api/v1/me").status_code == 401


def test_a_forged_or_tampered_cookie_is_refused(admin: TestClient) -> None:
    token = admin.cookies[COOKIE]
    user_id, issued, signature = token.split(".")
    for bad in (f"{user_id}.{issued}.{signature[:-2]}xx", f"{user_id}.{int(issued) + 1}.{signature}", "garbage"):
        admin.cookies.set(COOKIE, bad)
        assert admin.get("/api/v1/me").status_code == 401, bad


def test_first_admin_gets_a_random_password_once(tmp_path: Path) -> None:
    with open_database(default_url(tmp_path)) as db:
        upgrade(db)
        auth = AuthService(db, SessionSigner(b"k" * 32, 3600))
        password = auth.ensure_first_admin()
        assert password is not None and len(password) >= 16
        assert auth.ensure_first_admin() is None
        admin = auth.users.by_username("admin")
        assert admin is not None and admin.stores == ("*",) and admin.role.value == "admin"
        assert verify_password(admin.password_hash, password) and password not in admin.password_hash
        user, token = auth.login("admin", password)
        found = auth.user_for(token)
        assert found is not None and found.id == user.id and found.last_login_utc is not None


def test_secret_file_is_owner_only(app_client: TestClient, seeded: Seeded) -> None:
    assert (seeded.data_dir / "secrets" / "web.key").stat().st_mode & 0o777 == 0o600


def test_me_names_the_user(app_client: TestClient) -> None:
    login(app_client, ADMIN)
    assert app_client.get("/api/v1/me").json() == {
        "username": "ana",
        "display_name": "Ana Ruiz",
        "role": "admin",
        "stores": ["*"],
    }
