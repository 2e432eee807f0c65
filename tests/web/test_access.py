"""Access control through the real app: login lockout and the address limiter, CSRF, API tokens, the users pages,
settings (own password, sign out everywhere) and role denials."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from httpx import Response

from storewatch.store import open_database
from storewatch.store.db import default_url
from storewatch.web import create_app
from storewatch.web.access_audit import AccessAudit
from storewatch.web.auth import COOKIE, CSRF_HEADER, LOCK_AFTER, LOGIN_FAILED
from storewatch.web.users import UserRepository
from tests.web.conftest import csrf_token, login, login_form, settings_for
from tests.web.seed import ADMIN, GUARD, Seeded


class Recorder(AccessAudit):
    def __init__(self) -> None:
        self.seen: list[tuple[str, ...]] = []

    def login(self, username: str, user_id: str | None, ok: bool, ip: str | None, reason: str = "") -> None:
        self.seen.append(("login", username, "ok" if ok else reason))

    def user_changed(self, actor: str, user_id: str, username: str, what: str, detail: object) -> None:
        self.seen.append(("user", actor, username, what))

    def token_changed(self, actor: str, token_id: str, name: str, what: str) -> None:
        self.seen.append(("token", actor, name, what))


@pytest.fixture
def audit() -> Recorder:
    return Recorder()


@pytest.fixture
def client(seeded: Seeded, audit: Recorder) -> Iterator[TestClient]:
    with TestClient(create_app(settings_for(seeded.data_dir), audit=audit), follow_redirects=False) as c:
        yield c


def _fail(client: TestClient, username: str, times: int = 1) -> None:
    for _ in range(times):
        response = login_form(client, {"username": username, "password": "not it at all"})
        assert response.status_code == 401 and LOGIN_FAILED in response.text


def _try(client: TestClient, who: tuple[str, str]) -> int:
    return login_form(client, {"username": who[0], "password": who[1]}).status_code


# --- lockout ---------------------------------------------------------------------------------------------------------
def test_five_wrong_passwords_lock_the_account_with_the_same_message(client: TestClient, audit: Recorder) -> None:
    _fail(client, GUARD[0], LOCK_AFTER)
    response = login_form(client, {"username": GUARD[0], "password": GUARD[1]})
    assert response.status_code == 401 and LOGIN_FAILED in response.text  # the right password: still refused
    assert COOKIE not in response.headers.get("set-cookie", "")
    assert _try(client, ADMIN) == 303  # another account is not locked
    reasons = [s[2] for s in audit.seen if s[0] == "login" and s[1] == GUARD[0]]
    assert reasons == ["wrong_password"] * (LOCK_AFTER - 1) + ["locked", "locked"]
    users = client.get("/users").text
    assert re.search(r"bo</code>.*?Locked", users, re.S)


def test_an_administrator_unlocks_and_the_count_restarts(client: TestClient, seeded: Seeded) -> None:
    _fail(client, GUARD[0], LOCK_AFTER)
    login(client, ADMIN)
    bo = _user_id(seeded, GUARD[0])
    page = client.get(f"/users/{bo}").text
    assert "Unlock now" in page and "Locked until" in page
    response = client.post(f"/users/{bo}/unlock")
    assert response.status_code == 303 and response.headers["location"].endswith("notice=user_unlocked")
    client.cookies.clear()
    assert _try(client, GUARD) == 303


def test_an_unknown_user_gets_the_same_answer_and_is_never_locked(client: TestClient, audit: Recorder) -> None:
    _fail(client, "nobody", LOCK_AFTER + 1)
    assert [s[2] for s in audit.seen] == ["wrong_password"] * (LOCK_AFTER + 1)


def test_an_address_with_many_failures_waits_whatever_name_it_tries(client: TestClient) -> None:
    limiter = client.app.state.ctx.auth.ip_limiter
    limiter.max_failures = 3
    for name in ("x1", "x2", "x3"):
        _fail(client, name)
    response = login_form(client, {"username": ADMIN[0], "password": ADMIN[1]})
    assert response.status_code == 429 and "Too many failed logins from here" in response.text


def test_an_integration_account_cannot_log_in_with_a_password(client: TestClient, seeded: Seeded) -> None:
    login(client, ADMIN)
    made = _create_user(client, username="feed", role="integration", stores=["s1"], typed="feed password 99")
    assert made.status_code == 303
    client.cookies.clear()
    assert _try(client, ("feed", "feed password 99")) == 401


# --- CSRF ------------------------------------------------------------------------------------------------------------
def test_a_state_change_with_the_cookie_needs_the_csrf_token(client: TestClient, seeded: Seeded) -> None:
    login(client, ADMIN, csrf=False)
    alert = seeded.alerts["walkout"]
    for path, kwargs in (
        (f"/alerts/{alert}/acknowledge", {"data": {"action": "ack"}}),
        (f"/api/v1/alerts/{alert}/acknowledge", {"json": {}}),
        ("/logout", {}),
        (f"/alerts/{alert}/acknowledge", {"data": {"action": "ack", "csrf_token": "forged"}}),
    ):
        response = client.post(path, **kwargs)  # type: ignore[arg-type]
        assert response.status_code == 403, path
        assert "out of date" in response.text
    assert client.get(f"/api/v1/alerts/{alert}").json()["status"] == "waiting"
    token = csrf_token(client)
    ok = client.post(f"/alerts/{alert}/acknowledge", data={"action": "ack", "csrf_token": token})  # form field
    assert ok.status_code == 303
    header = client.post(f"/api/v1/alerts/{seeded.alerts['loiter']}/acknowledge", headers={CSRF_HEADER: token})
    assert header.status_code == 200 and header.json()["status"] == "acknowledged"


def test_pages_carry_the_csrf_token_in_every_form(client: TestClient, seeded: Seeded) -> None:
    login(client, ADMIN, csrf=False)
    token = csrf_token(client)
    for path in ("/alerts", f"/incidents/{seeded.incidents['walkout']}", "/users/new", "/settings", "/tokens"):
        html = client.get(path).text
        forms = re.findall(r'<form[^>]*method="post"[^>]*>(.*?)</form>', html, re.S)
        assert forms, path
        for form in forms:
            assert f'name="csrf_token" value="{token}"' in form, (path, form[:200])
        assert f'<meta name="csrf-token" content="{token}">' in html


# --- API tokens ------------------------------------------------------------------------------------------------------
def _make_token(client: TestClient, **form: object) -> str:
    response = client.post("/tokens", data=form)
    assert response.status_code == 200, response.text[-2000:]
    assert response.headers["cache-control"] == "no-store"
    found = re.search(r'value="(swt_[^"]+)"', response.text)
    assert found and "Shown once" in response.text
    return found.group(1)


def test_a_token_is_shown_once_stored_hashed_and_acts_in_its_stores(
    client: TestClient, seeded: Seeded, audit: Recorder
) -> None:
    login(client, ADMIN)
    text = _make_token(client, name="ticketing", capabilities=["alerts.view", "incidents.view"], stores=["s2"])
    with open_database(default_url(seeded.data_dir)) as db, db.engine.connect() as conn:
        stored = conn.exec_driver_sql("SELECT prefix, token_sha256 FROM api_tokens").fetchall()
    assert len(stored) == 1 and text not in str(stored) and text.startswith(stored[0][0])
    listing = client.get("/tokens").text
    assert "ticketing" in listing and text not in listing and "never" in listing

    api = TestClient(client.app, headers={"Authorization": f"Bearer {text}"}, follow_redirects=False)
    alerts = api.get("/api/v1/alerts")
    assert alerts.status_code == 200 and {a["store"] for a in alerts.json()} == {"s2"}
    assert api.get(f"/api/v1/alerts/{seeded.alerts['walkout']}").status_code == 404  # s1: not its store
    assert api.post(f"/api/v1/alerts/{seeded.alerts['fight']}/acknowledge").status_code == 403  # not given
    assert api.get("/alerts").status_code == 303  # pages: never with a token
    assert api.post("/store", data={"store": "s2"}).status_code == 303
    assert "token:ticketing" in str(api.get("/api/v1/me").json())
    assert re.search(r"ticketing.*?just now", client.get("/tokens").text, re.S)  # last used

    token_id = re.search(r'action="/tokens/(\w+)/revoke"', client.get("/tokens").text)
    assert token_id
    assert client.post(f"/tokens/{token_id.group(1)}/revoke").status_code == 303
    assert api.get("/api/v1/alerts").status_code == 401
    assert "Revoked" in client.get("/tokens").text
    assert [s for s in audit.seen if s[0] == "token"] == [
        ("token", "ana", "ticketing", "created"),
        ("token", "ana", "ticketing", "revoked"),
    ]


def test_a_token_form_with_mistakes_says_what_is_wrong(client: TestClient) -> None:
    login(client, ADMIN)
    response = client.post("/tokens", data={"name": " ", "stores": [], "expires_days": "0"})
    assert response.status_code == 422
    for field in ("name", "stores", "capabilities", "expires_days"):
        assert f'id="{field}-error"' in response.text, field
    unknown = client.post("/tokens", data={"name": "x", "stores": ["s9"], "capabilities": ["alerts.view"]})
    assert unknown.status_code == 422 and "No store s9 here" in unknown.text


def test_an_expired_or_unknown_token_is_refused(client: TestClient, seeded: Seeded) -> None:
    login(client, ADMIN)
    text = _make_token(client, name="old", capabilities=["alerts.view"], stores=["*"], expires_days="1")
    with open_database(default_url(seeded.data_dir)) as db, db.engine.begin() as conn:
        conn.exec_driver_sql("UPDATE api_tokens SET expires_utc = '2020-01-01 00:00:00.000000'")
    for bad in (text, "swt_" + "x" * 43, "not-a-token"):
        assert client.get("/api/v1/alerts", headers={"Authorization": f"Bearer {bad}"}).status_code == 401


# --- users -----------------------------------------------------------------------------------------------------------
def _create_user(
    client: TestClient, *, username: str, role: str, stores: list[str], typed: str | None = None, name: str = ""
) -> Response:
    form: dict[str, object] = {"username": username, "role": role, "stores": stores, "display_name": name}
    form.update({"password_mode": "typed", "password": typed} if typed else {"password_mode": "random"})
    return client.post("/users", data=form)


def _user_id(seeded: Seeded, username: str) -> str:
    with open_database(default_url(seeded.data_dir)) as db:
        user = UserRepository(db).by_username(username)
    assert user is not None
    return user.id


def test_an_administrator_creates_a_user_whose_password_is_shown_once(client: TestClient, audit: Recorder) -> None:
    login(client, ADMIN)
    response = _create_user(client, username="cy", role="store_manager", stores=["s1"], name="Cy Park")
    assert response.status_code == 200 and response.headers["cache-control"] == "no-store"
    password = re.search(r'id="secret" class="secret" value="([^"]+)"', response.text)
    assert password and "Shown once" in response.text
    listing = client.get("/users").text
    assert (
        "Cy Park" in listing
        and "Store manager" in listing
        and "Gran Via" in listing
        and password.group(1) not in listing
    )
    fresh = TestClient(client.app, follow_redirects=False)
    login(fresh, ("cy", password.group(1)))
    assert fresh.get("/cameras").status_code == 200 and fresh.get("/users").status_code == 403
    assert ("user", "ana", "cy", "created") in audit.seen


def test_the_user_form_says_what_is_wrong_next_to_each_field(client: TestClient) -> None:
    login(client, ADMIN)
    response = _create_user(client, username="no spaces", role="boss", stores=[], typed="short")
    assert response.status_code == 422
    text = response.text
    for field in ("username", "role", "stores"):
        assert f'id="{field}-error"' in text, field
    taken = _create_user(client, username="bo", role="guard", stores=["s2"])
    assert taken.status_code == 422 and "exists already" in taken.text
    weak = _create_user(client, username="dee", role="guard", stores=["s2"], typed="short")
    assert weak.status_code == 422 and "Use at least 10 characters" in weak.text


def test_editing_role_and_stores_disabling_and_resetting(client: TestClient, seeded: Seeded, audit: Recorder) -> None:
    login(client, ADMIN)
    bo = _user_id(seeded, GUARD[0])
    guard = TestClient(client.app, follow_redirects=False)
    login(guard, GUARD)
    assert guard.get(f"/alerts/{seeded.alerts['walkout']}").status_code == 404  # s1 is not bo's
    edited = client.post(f"/users/{bo}", data={"role": "investigator", "stores": ["s1", "s2"], "display_name": "Bo"})
    assert edited.status_code == 303
    assert guard.get(f"/alerts/{seeded.alerts['walkout']}").status_code == 200  # the new store shows at once
    assert guard.post(f"/api/v1/alerts/{seeded.alerts['walkout']}/acknowledge").status_code == 403  # investigator

    assert client.post(f"/users/{bo}/disable").status_code == 303
    assert guard.get("/api/v1/me").status_code == 401  # the session ended
    assert "Disabled" in client.get("/users").text
    client.post(f"/users/{bo}/enable")
    reset = client.post(f"/users/{bo}/password")
    new = re.search(r'id="secret" class="secret" value="([^"]+)"', reset.text)
    assert new and reset.headers["cache-control"] == "no-store"
    assert _try(TestClient(client.app, follow_redirects=False), GUARD) == 401  # the old password is gone
    login(TestClient(client.app, follow_redirects=False), (GUARD[0], new.group(1)))
    whats = [s[3] for s in audit.seen if s[0] == "user"]
    assert whats == ["edited", "disabled", "enabled", "password_reset"]


def test_the_last_administrator_stays(client: TestClient, seeded: Seeded) -> None:
    login(client, ADMIN)
    ana = _user_id(seeded, ADMIN[0])
    demote = client.post(f"/users/{ana}", data={"role": "guard", "stores": ["*"]})
    assert demote.status_code == 422 and "last administrator" in demote.text
    assert client.post(f"/users/{ana}/disable").status_code == 409  # not oneself either
    assert "Disable" not in client.get(f"/users/{ana}").text.split("Status</h2>")[1].split("</section>")[0]


def test_only_administrators_reach_users_and_tokens(client: TestClient) -> None:
    login(client, GUARD)
    for path in ("/users", "/users/new", "/tokens"):
        response = client.get(path)
        assert response.status_code == 403 and "may not manage" in response.text, path
    html = client.get("/").text
    assert 'href="/users"' not in html and 'href="/settings"' in html
    assert "Guard" in client.get("/roles").text  # the matrix is for everyone


def test_the_permissions_matrix_shows_every_role_and_capability(client: TestClient) -> None:
    login(client, ADMIN)
    html = client.get("/roles").text
    for role in (
        "Admin",
        "Regional manager",
        "Store manager",
        "Investigator",
        "Guard",
        "Privacy officer",
        "Integration",
    ):
        assert f">{role}</th>" in html, role
    row = re.search(r"Export evidence packs.*?</tr>", html, re.S)
    assert row and row.group(0).count('aria-label="yes"') == 4  # admin, both managers, investigator


# --- settings --------------------------------------------------------------------------------------------------------
def test_settings_change_the_password_and_show_the_site_without_secrets(client: TestClient, seeded: Seeded) -> None:
    login(client, GUARD)
    page = client.get("/settings").text
    for text in ("Your account", "Data folder", str(seeded.data_dir), "sqlite", "Face blurring", "Serrano"):
        assert text in page, text
    assert "web.key" not in page and "password_hash" not in page
    assert "Gran Via" not in page and "s1/door" not in page  # another store of the site: not theirs to see
    other = TestClient(client.app, follow_redirects=False)
    login(other, GUARD)
    differ = client.post("/settings/password", data={"current": GUARD[1], "new": "a new password 1", "repeat": "x"})
    assert differ.status_code == 422 and 'id="repeat-error"' in differ.text
    data = {"current": "nope", "new": "a new password 1", "repeat": "a new password 1"}
    wrong = client.post("/settings/password", data=data)
    assert wrong.status_code == 422 and "That is not your current password" in wrong.text
    short = client.post("/settings/password", data={"current": GUARD[1], "new": "short", "repeat": "short"})
    assert short.status_code == 422 and 'id="new-error"' in short.text
    done = client.post("/settings/password", data={**data, "current": GUARD[1]})
    assert done.status_code == 303 and COOKIE in done.headers["set-cookie"]
    assert client.get("/api/v1/me").status_code == 200  # this session goes on with its new cookie
    assert other.get("/api/v1/me").status_code == 401  # the other one ended
    assert _try(TestClient(client.app, follow_redirects=False), (GUARD[0], "a new password 1")) == 303


def test_sign_out_everywhere_ends_every_session(client: TestClient) -> None:
    login(client, ADMIN)
    phone = TestClient(client.app, follow_redirects=False)
    login(phone, ADMIN)
    response = client.post("/settings/sessions")
    assert response.status_code == 303 and response.headers["location"] == "/login"
    assert phone.get("/api/v1/me").status_code == 401
    login(client, ADMIN)  # logging in again works
    assert client.get("/api/v1/me").status_code == 200


def test_pages_offer_only_what_the_role_may_do(client: TestClient, seeded: Seeded) -> None:
    login(client, ADMIN)
    bo = _user_id(seeded, GUARD[0])
    client.post(f"/users/{bo}", data={"role": "investigator", "stores": ["s1"]})
    login(client, GUARD)
    alert = client.get(f"/alerts/{seeded.alerts['walkout']}").text
    assert "Your role does not acknowledge alerts" in alert and 'value="ack"' not in alert
    assert 'value="ack"' not in client.get("/alerts").text
    assert "Export evidence pack" in client.get(f"/incidents/{seeded.incidents['walkout']}").text
    login(client, ADMIN)
    client.post(f"/users/{bo}", data={"role": "guard", "stores": ["s1"]})
    login(client, GUARD)
    assert 'value="ack"' in client.get(f"/alerts/{seeded.alerts['walkout']}").text
    assert "Your role does not export evidence" in client.get(f"/incidents/{seeded.incidents['walkout']}").text


def test_an_administrator_of_some_stores_manages_only_within_them(
    client: TestClient, seeded: Seeded, audit: Recorder
) -> None:
    """An administrator scoped to s1 cannot give s2 or "all stores" to an account or a token, nor change an account or
    revoke a token reaching beyond s1: no widening one's reach through another account."""
    with open_database(default_url(seeded.data_dir)) as db:
        from storewatch.web.auth import hash_password
        from storewatch.web.permissions import Role
        from storewatch.web.tokens import TokenIn, TokenService

        UserRepository(db).create("reg", hash_password("regional admin 1"), Role.ADMIN, ["s1"], "Reg Admin")
        wide, _ = TokenService(db).create(TokenIn(name="s2 feed", stores=["s2"]), "ana")
    login(client, ("reg", "regional admin 1"))
    form = client.get("/users/new").text
    assert 'value="s1"' in form and 'value="s2"' not in form and 'value="*"' not in form
    for stores in (["s2"], ["*"], ["s1", "s2"]):
        refused = _create_user(client, username="zed", role="admin", stores=stores)
        assert refused.status_code == 403 and "only your own stores (s1)" in refused.text, stores
    assert _create_user(client, username="zed", role="store_manager", stores=["s1"]).status_code == 200
    zed, bo, ana = (_user_id(seeded, n) for n in ("zed", GUARD[0], ADMIN[0]))
    assert client.post(f"/users/{zed}", data={"role": "guard", "stores": ["s2"]}).status_code == 403
    assert client.post(f"/users/{zed}", data={"role": "guard", "stores": ["s1"]}).status_code == 303
    for target in (bo, ana):  # bo works at s2, ana everywhere
        edit = client.post(f"/users/{target}", data={"role": "guard", "stores": ["s1"]})
        assert edit.status_code == 403 and "outside your stores" in edit.text
        for action in ("disable", "unlock", "password"):
            assert client.post(f"/users/{target}/{action}").status_code == 403, (target, action)

    token_form = {"name": "feed", "capabilities": ["alerts.view"]}
    assert 'value="*"' not in client.get("/tokens").text
    for stores in (["s2"], ["*"]):
        response = client.post("/tokens", data={**token_form, "stores": stores})
        assert response.status_code == 403 and "only your own stores" in response.text, stores
    assert client.post("/tokens", data={**token_form, "stores": ["s1"]}).status_code == 200
    assert client.post(f"/tokens/{wide.id}/revoke").status_code == 403
    changes = [s for s in audit.seen if s[0] in ("user", "token") and s[1] == "reg"]
    assert changes == [
        ("user", "reg", "zed", "created"),
        ("user", "reg", "zed", "edited"),
        ("token", "reg", "feed", "created"),
    ]

    login(client, ADMIN)  # an administrator over every store still does all of it
    assert client.post(f"/tokens/{wide.id}/revoke").status_code == 303
    assert client.post(f"/users/{zed}", data={"role": "guard", "stores": ["s2"]}).status_code == 303
