"""The permission table, the roles of earlier versions, the login limiter, and ``storewatch users|tokens``."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import text

from storewatch.store import open_database
from storewatch.store.db import default_url
from storewatch.store.migrate import downgrade, upgrade
from storewatch.web.auth import LOCK_AFTER, AuthService, LoginError, SessionSigner, hash_password
from storewatch.web.deps import require
from storewatch.web.errors import ForbiddenError
from storewatch.web.login_limits import IpLimiter
from storewatch.web.permissions import CAPABILITIES, DESCRIPTIONS, TOKEN_CAPABILITIES, Capability, Role, can
from storewatch.web.users import User, UserRepository
from tests.web.server import STOREWATCH


def test_every_role_and_capability_is_in_the_table() -> None:
    assert set(CAPABILITIES) == set(Role) and len(Role) == 7
    assert set(DESCRIPTIONS) == set(Capability)
    assert CAPABILITIES[Role.ADMIN] == frozenset(Capability)
    only_admin = [c for c in Capability if [r for r in Role if can(r, c)] == [Role.ADMIN]]
    assert sorted(only_admin) == sorted([Capability.MANAGE_USERS, Capability.MANAGE_TOKENS])
    assert not can(Role.INTEGRATION, Capability.DASHBOARD)  # tokens only
    assert all(can(r, Capability.DASHBOARD) for r in Role if r != Role.INTEGRATION)
    assert not TOKEN_CAPABILITIES & {Capability.MANAGE_TOKENS, Capability.MANAGE_USERS, Capability.DASHBOARD}


@pytest.mark.parametrize(
    ("role", "capability", "allowed"),
    [
        (Role.GUARD, Capability.ACKNOWLEDGE, True),
        (Role.GUARD, Capability.EXPORT_EVIDENCE, False),
        (Role.INVESTIGATOR, Capability.EXPORT_EVIDENCE, True),
        (Role.INVESTIGATOR, Capability.ACKNOWLEDGE, False),
        (Role.STORE_MANAGER, Capability.EDIT_CONFIG, True),
        (Role.STORE_MANAGER, Capability.READ_AUDIT, False),
        (Role.REGIONAL_MANAGER, Capability.READ_AUDIT, True),
        (Role.PRIVACY_OFFICER, Capability.PRIVACY_REQUESTS, True),
        (Role.PRIVACY_OFFICER, Capability.MANAGE_INCIDENTS, False),
        (Role.INTEGRATION, Capability.INGEST_POS, True),
        (Role.STORE_MANAGER, Capability.VIEW_POS, True),
        (Role.INVESTIGATOR, Capability.VIEW_POS, True),
        (Role.GUARD, Capability.VIEW_POS, False),
        (Role.PRIVACY_OFFICER, Capability.VIEW_POS, False),
        (Role.INTEGRATION, Capability.VIEW_POS, False),
    ],
)
def test_require_lets_through_only_the_roles_with_the_capability(
    role: Role, capability: Capability, allowed: bool
) -> None:
    user = User("u1", "x", "", role, ("s1",), False, "")
    if allowed:
        assert require(capability)(user) is user
    else:
        with pytest.raises(ForbiddenError, match=f"your role \\({role.value.replace('_', ' ')}\\) may not"):
            require(capability)(user)


def test_a_token_user_has_only_the_tokens_capabilities() -> None:
    user = User("t1", "token:x", "", Role.INTEGRATION, ("s1",), False, "").with_token(
        "t1", frozenset({Capability.VIEW})
    )
    assert user.can(Capability.VIEW) and not user.can(Capability.ACKNOWLEDGE)
    with pytest.raises(ForbiddenError, match="this API token may not"):
        require(Capability.INGEST_POS)(user)


def test_earlier_role_values_read_and_migrate(tmp_path: Path) -> None:
    assert Role("manager") is Role.STORE_MANAGER and Role("viewer") is Role.INVESTIGATOR
    url = default_url(tmp_path)
    upgrade(url, "0005")
    with open_database(url) as db, db.engine.begin() as conn:
        for i, role in enumerate(("manager", "viewer", "guard")):
            conn.execute(
                text("INSERT INTO users (id, username, display_name, password_hash, role, stores, disabled, "
                     "created_utc) VALUES (:id, :u, '', 'h', :r, '[]', 0, '2026-01-01 00:00:00.000000')"),
                {"id": f"u{i}", "u": f"user{i}", "r": role},
            )  # fmt: skip
    upgrade(url)
    with open_database(url) as db:
        users = UserRepository(db)
        assert [u.role for u in users.every()] == [Role.STORE_MANAGER, Role.INVESTIGATOR, Role.GUARD]
        with db.engine.connect() as conn:
            assert [r for (r,) in conn.execute(text("SELECT role FROM users ORDER BY id"))] == [
                "store_manager", "investigator", "guard"
            ]  # fmt: skip
        assert users.every()[0].failed_logins == 0 and users.every()[0].session_version == 0
    downgrade(url, "0005")
    with open_database(url) as db, db.engine.connect() as conn:
        assert [r for (r,) in conn.execute(text("SELECT role FROM users ORDER BY id"))] == [
            "manager",
            "viewer",
            "guard",
        ]


def test_lockout_lasts_and_a_success_resets_the_count(tmp_path: Path) -> None:
    with open_database(default_url(tmp_path)) as db:
        upgrade(db)
        auth = AuthService(db, SessionSigner(b"k" * 32, 3600))
        auth.users.create("ana", hash_password("right password"), Role.GUARD, ["s1"])
        for _ in range(LOCK_AFTER - 1):
            with pytest.raises(LoginError):
                auth.login("ana", "wrong")
        auth.login("ana", "right password")  # 4 failures, then success: the count starts over
        for _ in range(LOCK_AFTER - 1):
            with pytest.raises(LoginError):
                auth.login("ana", "wrong")
        auth.login("ana", "right password")
        for _ in range(LOCK_AFTER):
            with pytest.raises(LoginError):
                auth.login("ana", "wrong")
        with pytest.raises(LoginError):
            auth.login("ana", "right password")
        user = auth.users.by_username("ana")
        assert user is not None and user.locked_until_utc is not None


def test_the_address_limiter_forgets_old_failures_and_is_bounded() -> None:
    limiter = IpLimiter(max_failures=3, window_s=10, max_addresses=2)
    for t in (0.0, 1.0, 2.0):
        limiter.failed("a", now=t)
    assert limiter.blocked("a", now=3.0) and not limiter.blocked("a", now=10.5)
    limiter.failed("b", now=0.0)
    limiter.failed("c", now=0.0)
    assert limiter.dropped == 1 and not limiter.blocked("a", now=3.0)


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(STOREWATCH), *args], capture_output=True, text=True, timeout=120)


def test_the_users_and_tokens_commands(tmp_path: Path) -> None:
    upgrade(default_url(tmp_path))
    where = ["--data-dir", str(tmp_path)]
    made = _cli("users", "create", "cy", "--role", "guard", "--store", "s1", *where)
    assert made.returncode == 0, made.stderr
    password = made.stdout.strip().splitlines()[-1]
    listed = _cli("users", "list", "--json", *where)
    assert '"username": "cy"' in listed.stdout and '"role": "guard"' in listed.stdout
    bad = _cli("users", "create", "dee", "--role", "boss", "--store", "s1", *where)
    assert bad.returncode != 0 and "role" in bad.stderr and "Traceback" not in bad.stderr
    reset = _cli("users", "reset-password", "cy", *where)
    assert reset.returncode == 0 and reset.stdout.strip().splitlines()[-1] != password

    token = _cli("tokens", "create", "pos feed", "--store", "s1", "--can", "pos.ingest", *where)
    assert token.returncode == 0, token.stderr
    assert token.stdout.strip().splitlines()[-1].startswith("swt_")
    (listed_token,) = json.loads(_cli("tokens", "list", "--json", *where).stdout)
    assert listed_token["name"] == "pos feed" and listed_token["status"] == "active"
    assert _cli("tokens", "revoke", listed_token["id"], *where).returncode == 0
    assert json.loads(_cli("tokens", "list", "--json", *where).stdout)[0]["status"] == "revoked"
    refused = _cli("tokens", "create", "x", "--store", "s1", "--can", "users.manage", *where)
    assert refused.returncode != 0 and "cannot have users.manage" in refused.stderr
