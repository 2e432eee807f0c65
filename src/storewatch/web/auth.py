"""Logging in: argon2 password hashes, signed session cookies, and the first administrator.

The session cookie is ``<user id>.<issued unix time>.<signature>``: an HMAC-SHA256 with the site's web key
(``DATA/secrets/web.key``, made on first use, owner-only) over the id, the time and a fingerprint of the user's
password hash, so changing a password ends every session of that user, and a disabled user's cookie stops working
at the next request. Nothing is kept on the server per session (the security issue adds revocable sessions,
CSRF tokens and lockout). An unknown user name costs the same argon2 verification as a wrong password.

>>> signer = SessionSigner(b"k" * 32, ttl_s=3600)
>>> user = User("u1", "ana", "", Role.GUARD, ("s1",), False, "$argon2id$...")
>>> token = signer.issue(user, now=1000.0)
>>> signer.user_id(token, now=2000.0), signer.valid(token, user, now=2000.0), signer.valid(token, user, now=9999.0)
('u1', True, False)
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
from storewatch.web.users import ALL_STORES, Role, User, UserRepository

COOKIE = "storewatch_session"
FIRST_ADMIN = "admin"


class LoginError(StorewatchError):
    """Wrong user name or password, or the account is disabled (the message does not say which)."""


def _hasher() -> PasswordHasher:
    return PasswordHasher()  # argon2id with the library's current recommended parameters


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher().verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


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

    def _sign(self, user: User, issued: int) -> str:
        fingerprint = hashlib.sha256(user.password_hash.encode()).hexdigest()[:16]
        mac = hmac.new(self.secret, f"{user.id}.{issued}.{fingerprint}".encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(mac).decode().rstrip("=")


class AuthService:
    """Log in, read a session, and make the first administrator."""

    def __init__(self, database: Database, signer: SessionSigner) -> None:
        self.users = UserRepository(database)
        self.signer = signer
        self._dummy_hash = hash_password(secrets.token_urlsafe(16))

    def login(self, username: str, password: str) -> tuple[User, str]:
        """The user and a new session token; ``LoginError`` for a wrong name or password or a disabled account."""
        user = self.users.by_username(username.strip())
        ok = verify_password(user.password_hash if user else self._dummy_hash, password)
        if user is None or not ok or user.disabled:
            raise LoginError("wrong user name or password")
        self.users.logged_in(user.id, datetime.now(UTC))
        return user, self.signer.issue(user)

    def user_for(self, token: str | None) -> User | None:
        """The user a session token belongs to, if it is valid now."""
        user_id = self.signer.user_id(token) if token else None
        user = self.users.get(user_id) if user_id else None
        return user if user is not None and token is not None and self.signer.valid(token, user) else None

    def ensure_first_admin(self) -> str | None:
        """When no account exists, make ``admin`` (every store) with a random password and return that password
        (to be shown once); otherwise None. There is never a default password."""
        if self.users.count() > 0:
            return None
        password = secrets.token_urlsafe(12)
        self.users.create(FIRST_ADMIN, hash_password(password), Role.ADMIN, [ALL_STORES], "Administrator")
        return password
