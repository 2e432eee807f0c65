"""The walk over every route of the app, signed in: each route that needs a capability refuses every role (and API
token) without it with 403; each store-bound route refuses a user of another store (404: the item is not shown to
exist, or 403), and every route that is neither store-bound by a path parameter nor on the short list of
store-free pages takes the store scope dependency. (Anonymous requests: ``test_auth``.)"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from storewatch.store import open_database
from storewatch.store.db import default_url
from storewatch.web import create_app
from storewatch.web.app import PUBLIC, api_routes, route_capabilities
from storewatch.web.auth import COOKIE, CSRF_HEADER, hash_password
from storewatch.web.deps import store_scope
from storewatch.web.permissions import CAPABILITIES, TOKEN_CAPABILITIES, Role
from storewatch.web.tokens import TokenIn, TokenService
from storewatch.web.users import UserRepository
from tests.web.conftest import login_form, settings_for
from tests.web.seed import ADMIN, Seeded

PASSWORD = "walk password 123"
STORE_FREE = {
    "/logout", "/settings", "/settings/password", "/settings/sessions", "/roles", "/api/v1/me", "/users", "/users/new",
    "/users/{user_id}", "/users/{user_id}/disable", "/users/{user_id}/enable", "/users/{user_id}/unlock",
    "/users/{user_id}/password", "/tokens", "/tokens/{token_id}/revoke",
}  # fmt: skip
"""Routes about accounts and the session, not about a store's data."""
STORE_BOUND = {"alert_id", "incident_id", "event_id", "store", "key:path"}
BODIES: dict[str, dict[str, Any]] = {
    "moves": {"json": {"to": "investigating"}},
    "notes": {"json": {"text": "x"}},
    "assignee": {"json": {"assignee": None}},
    "tags": {"json": {"add": ["x"]}},
    "loss": {"json": {"amount": None}},
    "geometry": {"json": {"zones": [], "lines": []}},
    "check": {"json": {"zones": [], "lines": []}},
    "acknowledge": {"json": {}, "data": {"action": "ack"}},
    "{action}": {"data": {"text": "x"}},
    "store": {"data": {"store": "s1"}},
    "rules": {"data": {"target": "s1/door"}},
}
"""A valid body for each state-changing operation (by its path's last part): JSON for the API, a form for pages."""


@dataclass
class Walk:
    client: TestClient
    sample: dict[str, str]
    tokens: dict[str, str]

    def path(self, route: APIRoute) -> str:
        return re.sub(r"\{([^}]+)\}", lambda m: self.sample[m.group(1)], route.path)

    def sign_in(self, username: str) -> None:
        self.client.cookies.clear()
        response = login_form(self.client, {"username": username, "password": PASSWORD})
        assert response.status_code == 303, (username, response.text[-500:])

    def call(self, method: str, route: APIRoute, bearer: str | None = None) -> int:
        headers = {}
        if bearer:
            headers["Authorization"] = f"Bearer {bearer}"
        elif COOKIE in self.client.cookies:
            headers[CSRF_HEADER] = self.client.app.state.ctx.auth.signer.csrf(self.client.cookies[COOKIE])  # type: ignore[attr-defined]
        last = route.path.rstrip("/").rsplit("/", 1)[-1]
        kind = "json" if route.path.startswith("/api/") else "data"
        found = BODIES.get(last, {}).get(kind) if method != "GET" else None
        body = {} if found is None else {kind: found}
        return self.client.request(method, self.path(route), headers=headers, **body).status_code


@pytest.fixture
def walk(seeded: Seeded) -> Iterator[Walk]:
    with open_database(default_url(seeded.data_dir)) as db:
        users = UserRepository(db)
        hashed = hash_password(PASSWORD)
        for role in Role:
            users.create(f"r-{role.value}", hashed, role, ["s1"])
        users.create("elsewhere", hashed, Role.ADMIN, ["s2"])
        users.create("everywhere", hashed, Role.ADMIN, ["*"])
        admin = users.by_username(ADMIN[0])
        assert admin is not None
        service = TokenService(db)
        everything = sorted(TOKEN_CAPABILITIES)
        tokens = {
            "integration": service.create(TokenIn(stores=["s1"], name="integration"), "t")[1],
            "elsewhere": service.create(TokenIn(stores=["s2"], name="s2", capabilities=everything), "t")[1],
        }
    walk_event = seeded.events["walkout"]
    snapshot = walk_event.evidence["snapshot"]
    sample = {
        "alert_id": seeded.alerts["walkout"],
        "incident_id": seeded.incidents["walkout"],
        "event_id": walk_event.id,
        "action": "note",
        "key:path": snapshot.split("/media/", 1)[1],
        "store": "s1",
        "camera": "door",
        "user_id": admin.id,
        "token_id": "f" * 32,
        "job_id": "e" * 32,
    }
    settings = settings_for(seeded.data_dir, site_path=seeded.data_dir / "site.yaml")  # the editors can save
    with TestClient(create_app(settings), follow_redirects=False) as client:
        yield Walk(client, sample, tokens)


def _operations(walk: Walk) -> list[tuple[str, APIRoute]]:
    routes = [r for r in api_routes(walk.client.app) if PUBLIC not in r.tags]  # type: ignore[arg-type]
    return [(m, r) for r in routes for m in sorted(r.methods - {"HEAD"}) if r.path != "/api/v1/stream"]


def test_every_route_refuses_a_role_without_its_capability(walk: Walk) -> None:
    refused = 0
    for role in Role:
        if role == Role.INTEGRATION:
            continue  # no password login: the token below
        walk.sign_in(f"r-{role.value}")
        for method, route in _operations(walk):
            needed = route_capabilities(route)
            if needed <= CAPABILITIES[role]:
                continue
            status = walk.call(method, route)
            assert status == 403, f"{role.value}: {method} {route.path} -> {status}, needs {sorted(needed)}"
            refused += 1
    walk.client.cookies.clear()
    for method, route in _operations(walk):
        if route_capabilities(route) <= CAPABILITIES[Role.INTEGRATION]:
            continue
        status = walk.call(method, route, bearer=walk.tokens["integration"])
        expected = {403} if route.path.startswith(("/api/", "/media/")) else {303}  # pages: tokens never work
        assert status in expected, f"integration token: {method} {route.path} -> {status}"
        refused += 1
    assert refused >= 100


def test_every_store_bound_route_refuses_a_user_of_another_store(walk: Walk) -> None:
    checked = 0
    for who, bearer in (("elsewhere", None), ("token", walk.tokens["elsewhere"])):
        if bearer is None:
            walk.sign_in("elsewhere")
        else:
            walk.client.cookies.clear()
        for method, route in _operations(walk):
            params = set(re.findall(r"\{([^}]+)\}", route.path))
            if not params & STORE_BOUND:
                continue
            if bearer and not route.path.startswith(("/api/", "/media/")):
                continue
            status = walk.call(method, route, bearer)
            assert status in (403, 404), f"{who}: {method} {route.path} -> {status}"
            checked += 1
    walk.sign_in("everywhere")  # the same requests in scope are not refused: the refusals above were the scope's
    for method, route in _operations(walk):
        if method == "GET" and set(re.findall(r"\{([^}]+)\}", route.path)) & STORE_BOUND:
            status = walk.call(method, route)
            assert status not in (403, 404), f"everywhere: {method} {route.path} -> {status}"
    assert checked >= 25


def test_every_other_route_takes_the_store_scope_or_is_about_accounts(walk: Walk) -> None:
    for _, route in _operations(walk):
        if route.path in STORE_FREE:
            continue
        assert _takes(route.dependant, store_scope), f"{route.path} does not take the store scope (deps.Scope)"


def test_lists_of_a_user_of_another_store_hold_nothing_of_this_store(walk: Walk) -> None:
    walk.sign_in("elsewhere")
    for path in ("/api/v1/alerts", "/api/v1/events", "/api/v1/incidents", "/api/v1/estate", "/api/v1/cameras"):
        found = walk.client.get(path).json()
        assert found and {item.get("store", item.get("id")) for item in found} <= {"s2"}, path


def _takes(dependant: Any, fn: Any) -> bool:
    return any(d.call is fn or _takes(d, fn) for d in dependant.dependencies)
