"""Web fixtures: a seeded data folder (made once per session, copied per test) and a TestClient on the real app
(real SQLite database, real lifespan: the live feed's poller runs)."""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from storewatch.config.loader import load_site_config
from storewatch.web import WebSettings, create_app
from storewatch.web.auth import COOKIE, CSRF_HEADER
from tests.web.browser import browser, server  # noqa: F401  (the browser tests' fixtures)
from tests.web.seed import ADMIN, GUARD, Seeded, seed_site


@pytest.fixture(scope="session")
def seeded_template(tmp_path_factory: pytest.TempPathFactory) -> Seeded:
    return seed_site(tmp_path_factory.mktemp("web-seed") / "data")


@pytest.fixture
def seeded(seeded_template: Seeded, tmp_path: Path) -> Seeded:
    data_dir = tmp_path / "data"
    shutil.copytree(seeded_template.data_dir, data_dir)
    return Seeded(data_dir, dict(seeded_template.alerts), dict(seeded_template.events), dict(seeded_template.incidents))


def settings_for(data_dir: Path, **overrides: object) -> WebSettings:
    site = load_site_config(data_dir / "site.yaml")
    return WebSettings(data_dir=data_dir, site=site, poll_interval_s=0.2, **overrides)  # type: ignore[arg-type]


@pytest.fixture
def app_client(seeded: Seeded) -> Iterator[TestClient]:
    with TestClient(create_app(settings_for(seeded.data_dir)), follow_redirects=False) as client:
        yield client


Login = Callable[[TestClient, tuple[str, str]], TestClient]


def login(client: TestClient, who: tuple[str, str] = ADMIN, csrf: bool = True) -> TestClient:
    """Log in; with ``csrf`` the client sends the session's CSRF token on every request (as the pages and
    app.js do), so state-changing calls pass; ``csrf=False`` for the tests that prove they are refused without."""
    client.headers.pop(CSRF_HEADER, None)
    response = login_form(client, {"username": who[0], "password": who[1], "next": "/"})
    assert response.status_code == 303, response.text
    if csrf:
        client.headers[CSRF_HEADER] = csrf_token(client)
    return client


def login_form(client: httpx.Client, fields: dict[str, str]) -> httpx.Response:
    """POST /login as a browser does: the login page first (it sets the pre-session cookie whose token the form
    carries), then the form with that token; a session the client had is dropped first (the page would redirect)."""
    client.cookies.delete(COOKIE)
    page = client.get("/login")
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert found is not None, (page.status_code, page.text[:500])
    return client.post("/login", data={**fields, "csrf_token": found.group(1)})


def csrf_token(client: TestClient) -> str:
    token: str = client.app.state.ctx.auth.signer.csrf(client.cookies[COOKIE])  # type: ignore[attr-defined]
    return token


@pytest.fixture
def admin(app_client: TestClient) -> TestClient:
    return login(app_client, ADMIN)


@pytest.fixture
def guard(app_client: TestClient) -> TestClient:
    return login(app_client, GUARD)
