"""Logging in: argon2 password hashes, signed session cookies, CSRF tokens, lockout, and the first administrator.

The session cookie is ``<user id>.<issued unix time>.<signature>``: an HMAC-SHA256 with the site's web key
(``DATA/secrets/web.key``, made on first use, owner-only) over the id, the time, a fingerprint of the user's
password hash and the user's session version, so changing a password or "sign out everywhere" (which raises the
version) ends every session of that user, and a disabled user's cookie stops working at the next request.

The CSRF token of a session is an HMAC of its cookie under the same key (nothing stored): every form carries it,
``fetch`` sends it as ``X-CSRF-Token``, and ``deps.current_user`` refuses a state-changing request with the cookie
but without the token (403). The login form, before any session, is protected the same way by a pre-session cookie
(``LOGIN_COOKIE``, random, set by the login page) and the HMAC of it in the form (a signed double submit), so
another site cannot log a browser in to an account of its choosing.

Logins: after ``LOCK_AFTER`` wrong passwords an account waits ``LOCK_S`` (an administrator can unlock it); an
address with ``IpLimiter.max_failures`` failures in its window waits too. Every failure gives the same message
(no user enumeration), and an unknown or locked name costs the same argon2 verification as a wrong password.
Role ``integration`` never logs in with a password (API tokens only).

>>> signer = SessionSigner(b"k" * 32, ttl_s=3600)
>>> user = User("u1", "ana", "", Role.GUARD, ("s1",), False, "$argon2id$...")
>>> token = signer.issue(user, now=1000.0)
>>> signer.user_id(token, now=2000.0), signer.valid(token, user, now=2000.0), signer.valid(token, user, now=9999.0)
('u1', True, False)
>>> from dataclasses import replace
>>> signer.valid(token, replace(user, session_version=1), now=2000.0)
False
>>> signer.csrf(token) == signer.csrf(token) != signer.csrf(signer.issue(user, now=1001.0))
True
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from storewatch.errors import StorewatchError
from storewatch.store.db import Database
from storewatch.web.access_audit import AccessAudit
from storewatch.web.login_limits import IpLimiter
from storewatch.web.permissions import Capability
from storewatch.web.users import ALL_STORES, Role, User, UserRepository

COOKIE = "storewatch_session"
LOGIN_COOKIE = "storewatch_login"
"""Before a session: a random value the login page sets, whose HMAC the login form carries (signed double submit)."""
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
FIRST_ADMIN = "admin"
LOCK_AFTER = 5
LOCK_S = 15 * 60.0
MIN_PASSWORD = 10
LOGIN_FAILED = "Wrong user name or password. After 5 wrong tries an account waits 15 minutes."


class LoginError(StorewatchError):
    """Wrong user name or password, a locked or disabled account (the message does not say which)."""


class TooManyAttemptsError(LoginError):
    """Too many failed logins from this address: wait."""


def _hasher() -> PasswordHasher:
    return PasswordHasher()  # argon2id with the library's current recommended parameters


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher().verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def new_password() -> str:
    """A random password to show once (16 URL-safe characters, 96 bits)."""
    return secrets.token_urlsafe(12)


def password_problem(password: str, username: str = "") -> str | None:
    """Why a chosen password will not do, or None."""
    if len(password) < MIN_PASSWORD:
        return f"use at least {MIN_PASSWORD} characters"
    if len(password) > 1024:
        return "use at most 1024 characters"
    if username and password.strip().lower() == username.strip().lower():
        return "the password cannot be the user name"
    return None


@dataclass(frozen=True, slots=True)
class SessionSigner:
    secret: bytes
    ttl_s: float

    def issue(self, user: User, now: float | None = None) -> str:
        issued = int(time.time() if now is None else now)
        return f"{user.id}.{issued}.{self._sign(user, issued)}"

    def user_id(self, token: str, now: float | None = None) -> str | None:
        """The user id a well-formed, unexpired token names (check ``valid`` against the user next)."""
        parts = token.split(".")
        if len(parts) != 3 or not parts[1].isdigit() or not parts[0].isalnum() or len(parts[0]) > 32:
            return None
        age = (time.time() if now is None else now) - int(parts[1])
        return parts[0] if 0 <= age <= self.ttl_s else None

    def valid(self, token: str, user: User, now: float | None = None) -> bool:
        if self.user_id(token, now) != user.id or user.disabled:
            return False
        _, issued, signature = token.split(".")
        return hmac.compare_digest(signature, self._sign(user, int(issued)))

    def csrf(self, token: str) -> str:
        """The CSRF token of a session cookie."""
        return self._mac(f"csrf.{token}")

    def login_csrf(self, nonce: str) -> str:
        """The login form's CSRF token for the pre-session cookie ``nonce`` (``LOGIN_COOKIE``)."""
        return self._mac(f"login.{nonce}")

    def _sign(self, user: User, issued: int) -> str:
        fingerprint = hashlib.sha256(user.password_hash.encode()).hexdigest()[:16]
        return self._mac(f"{user.id}.{issued}.{fingerprint}.{user.session_version}")

    def _mac(self, text: str) -> str:
        mac = hmac.new(self.secret, text.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(mac).decode().rstrip("=")


class AuthService:
    """Log in (with lockout), read a session, check a CSRF token, and make the first administrator."""

    def __init__(
        self,
        database: Database,
        signer: SessionSigner,
        audit: AccessAudit | None = None,
        ip_limiter: IpLimiter | None = None,
    ) -> None:
        self.users = UserRepository(database)
        self.signer = signer
        self.audit = audit or AccessAudit()
        self.ip_limiter = ip_limiter or IpLimiter()
        self._dummy_hash = hash_password(secrets.token_urlsafe(16))

    def login(self, username: str, password: str, ip: str | None = None) -> tuple[User, str]:
        """The user and a new session token; ``LoginError`` (one message for every cause) otherwise,
        ``TooManyAttemptsError`` while the address waits."""
        name, now = username.strip(), datetime.now(UTC)
        if ip is not None and self.ip_limiter.blocked(ip):
            verify_password(self._dummy_hash, password)
            self.audit.login(name, None, False, ip, "ip_limited")
            raise TooManyAttemptsError("too many failed logins from this address: wait a few minutes")
        user = self.users.by_username(name)
        ok = verify_password(user.password_hash if user else self._dummy_hash, password)
        reason = _refusal(user, ok, now)
        if reason:
            if ip is not None:
                self.ip_limiter.failed(ip)
            if user is not None and reason == "wrong_password" and self.users.failed(user.id, now, LOCK_AFTER, LOCK_S):
                reason = "locked"
            self.audit.login(name, user.id if user else None, False, ip, reason)
            raise LoginError(LOGIN_FAILED)
        assert user is not None
        self.users.logged_in(user.id, now)
        self.audit.login(name, user.id, True, ip)
        return user, self.signer.issue(user)

    def user_for(self, token: str | None) -> User | None:
        """The user a session token belongs to, if it is valid now."""
        user_id = self.signer.user_id(token) if token else None
        user = self.users.get(user_id) if user_id else None
        if user is None or token is None or not self.signer.valid(token, user):
            return None
        return user if user.can(Capability.DASHBOARD) else None

    def csrf_ok(self, session_token: str, submitted: str | None) -> bool:
        return submitted is not None and hmac.compare_digest(submitted, self.signer.csrf(session_token))

    def login_csrf_ok(self, nonce: str | None, submitted: str | None) -> bool:
        """Does the login form carry the token of the pre-session cookie it came with (neither can be forged by
        another site: it cannot read the cookie, and a cookie it plants has no token it can compute)."""
        if not nonce or not submitted or len(nonce) > 64:
            return False
        return hmac.compare_digest(submitted.encode(), self.signer.login_csrf(nonce).encode())

    def change_password(self, user: User, current: str, new: str) -> tuple[User, str]:
        """Change one's own password; the new session token (every other session ends)."""
        if not verify_password(user.password_hash, current):
            raise LoginError("that is not your current password")
        problem = password_problem(new, user.username)
        if problem:
            raise ValueError(problem)
        changed = self.users.change(user.id, password_hash=hash_password(new))
        assert changed is not None
        self.audit.user_changed(user.name, user.id, user.username, "password_changed", {})
        return changed, self.signer.issue(changed)

    def end_sessions(self, user: User) -> None:
        self.users.end_sessions(user.id)
        self.audit.logout(user.id, everywhere=True)

    def ensure_first_admin(self) -> str | None:
        """When no account exists, make ``admin`` (every store) with a random password and return that password
        (to be shown once); otherwise None. There is never a default password."""
        if self.users.count() > 0:
            return None
        password = new_password()
        self.users.create(FIRST_ADMIN, hash_password(password), Role.ADMIN, [ALL_STORES], "Administrator")
        return password


def _refusal(user: User | None, password_ok: bool, now: datetime) -> str:
    """Why a login is refused ('' : it is not)."""
    if user is not None and user.locked(now):
        return "locked"  # not counted again: the wait does not grow while someone keeps trying
    if user is None or not password_ok:
        return "wrong_password"
    if user.disabled:
        return "disabled"
    if not user.can(Capability.DASHBOARD):
        return "no_dashboard"
    return ""
