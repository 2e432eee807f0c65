"""Signed, expiring tokens: links to evidence media and one-click actions (acknowledge an alert from a message).

Token format (version ``sw1``), four dot-separated base64url fields without padding::

    sw1.<kid>.<payload>.<signature>

* ``kid``: which secret signed it, ``base64url(HMAC-SHA256(secret, "storewatch key id")[:6])`` (reveals nothing about
  the secret; lets ``verify`` pick the key and tell "signed with a key we do not have" from "altered").
* ``payload``: canonical JSON (sorted keys, no spaces, ASCII) of ``{"sub": subject, "exp": unix seconds, ...claims}``.
  Subjects are namespaced: ``media:<key>`` for media links, ``action:<name>`` for actions, so a media link can never
  be replayed as an acknowledge link.
* ``signature``: ``HMAC-SHA256(secret, "sw1.<kid>.<payload>")``, compared in constant time.

``verify`` checks, in order: shape and version (``TokenMalformedError``), key (``TokenUnknownKeyError``: a wrong or
retired secret), signature (``TokenSignatureError``: altered), expiry (``TokenExpiredError``, only for authentic
tokens) and, when asked, subject (``TokenSubjectError``). Key rotation: pass several secrets, newest first; ``sign``
always uses one. Written here rather than taken from a JWT library: this is ~150 lines of ``hmac``, with no algorithm
negotiation (the classic JWT pitfall) and the subject namespacing the links need.

>>> from datetime import UTC, datetime, timedelta
>>> key = b"k" * 32
>>> now = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
>>> token = action_token("ack", alert_id="a1", ttl_s=3600, secret=key, now=now)
>>> verify_action_token(token, [b"n" * 32, key], action="ack", now=now + timedelta(minutes=5))
'a1'
>>> verify_action_token(token, key, action="ack", now=now + timedelta(hours=2))
Traceback (most recent call last):
...
storewatch.media.signing.TokenExpiredError: token expired at 2026-03-01T13:00:00+00:00
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
import secrets as _random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

from storewatch.errors import StorewatchError
from storewatch.media.store import validate_key

VERSION = "sw1"
MIN_SECRET_BYTES = 32
MAX_TTL_S = 90 * 24 * 3600
MAX_TOKEN_CHARS = 4096
MEDIA_SUBJECT = "media:"
ACTION_SUBJECT = "action:"
_RESERVED = frozenset({"sub", "exp"})
_FIELD = re.compile(r"[A-Za-z0-9_-]+", re.ASCII)
_ACTION = re.compile(r"[a-z][a-z0-9_-]{0,31}", re.ASCII)

ClaimValue = str | int | bool


class TokenError(StorewatchError):
    """A token was refused (base class; the subclasses say why)."""


class TokenMalformedError(TokenError):
    """Not a token of a version this code reads."""


class TokenUnknownKeyError(TokenError):
    """Signed by a secret we do not hold (a wrong or retired key)."""


class TokenSignatureError(TokenError):
    """The signature does not match: the token was altered."""


class TokenExpiredError(TokenError):
    """Authentic, but past its expiry time."""


class TokenSubjectError(TokenError):
    """Authentic and current, but for a different subject (another media key or action)."""


@dataclass(frozen=True, slots=True)
class TokenClaims:
    """What a verified token says: its subject, expiry (UTC) and any extra claims."""

    subject: str
    expires_at: datetime
    extra: dict[str, ClaimValue] = field(default_factory=dict)


def new_secret() -> bytes:
    """A fresh random signing secret (32 bytes)."""
    return _random.token_bytes(MIN_SECRET_BYTES)


def key_id(secret: bytes) -> str:
    """The public identifier of a secret carried in its tokens (8 base64url characters)."""
    return _b64(hmac.new(secret, b"storewatch key id", hashlib.sha256).digest()[:6])


def sign(path_or_action: str, expires_at: datetime, secret: bytes, **claims: ClaimValue) -> str:
    """A token for ``path_or_action`` (the subject) valid until ``expires_at`` (timezone-aware; whole seconds)."""
    _check_secret(secret)
    if expires_at.tzinfo is None:
        raise ValueError("expires_at must be timezone-aware (e.g. datetime.now(UTC) + ...)")
    if not path_or_action:
        raise ValueError("a token needs a subject")
    for name, value in claims.items():
        if name in _RESERVED:
            raise ValueError(f"claim name {name!r} is reserved")
        if not isinstance(value, str | int | bool):
            raise ValueError(f"claim {name!r} must be a str, int or bool, got {type(value).__name__}")
    payload = {"sub": path_or_action, "exp": int(expires_at.timestamp()), **claims}
    body = _b64(json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode("ascii"))
    head = f"{VERSION}.{key_id(secret)}.{body}"
    return f"{head}.{_mac(secret, head)}"


def verify(
    token: str, secret: bytes | Sequence[bytes], now: datetime | None = None, *, subject: str | None = None
) -> TokenClaims:
    """The claims of ``token`` if it is well-formed, signed by one of ``secret`` (newest first), unexpired at ``now``
    (default: the current time) and, when given, for ``subject``; else the matching ``TokenError``."""
    keys = [secret] if isinstance(secret, bytes) else list(secret)
    if not keys:
        raise ValueError("verify needs at least one secret")
    now = datetime.now(UTC) if now is None else now
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    version, kid, body, signature = _split(token)
    head = f"{version}.{kid}.{body}"
    candidates = [k for k in keys if hmac.compare_digest(key_id(k), kid)]
    if not candidates:
        raise TokenUnknownKeyError("token signed with an unknown or retired key")
    if not any(hmac.compare_digest(_mac(k, head), signature) for k in candidates):
        raise TokenSignatureError("token signature does not match (altered token)")
    claims = _decode_payload(body)
    if now.timestamp() >= claims.expires_at.timestamp():
        raise TokenExpiredError(f"token expired at {claims.expires_at.isoformat()}")
    if subject is not None and not hmac.compare_digest(claims.subject.encode(), subject.encode()):
        raise TokenSubjectError("token is for a different resource or action")
    return claims


def signed_url(base_url: str, key: str, ttl_s: float, secret: bytes, *, now: datetime | None = None) -> str:
    """A link to media ``key`` under ``base_url`` valid for ``ttl_s`` seconds: ``<base_url>/<key>?token=<token>``;
    the server checks it with ``verify_media_token(token, key, secrets)``.

    >>> url = signed_url("https://nvr.example/media/", "s1/cam/2026-03-01/e1.jpg", 600, b"k" * 32)
    >>> url.split("?")[0]
    'https://nvr.example/media/s1/cam/2026-03-01/e1.jpg'
    """
    validate_key(key)
    token = sign(MEDIA_SUBJECT + key, _expiry(ttl_s, now), secret)
    return f"{base_url.rstrip('/')}/{quote(key, safe='/')}?token={token}"


def verify_media_token(
    token: str, key: str, secret: bytes | Sequence[bytes], now: datetime | None = None
) -> TokenClaims:
    """Check a media link's token for ``key`` (the key from the request path)."""
    return verify(token, secret, now, subject=MEDIA_SUBJECT + validate_key(key))


def action_token(
    action: str = "ack", *, alert_id: str, ttl_s: float, secret: bytes, now: datetime | None = None
) -> str:
    """A token that lets whoever holds it perform ``action`` on alert ``alert_id`` until it expires (e.g. the
    acknowledge link in an alert message)."""
    if not _ACTION.fullmatch(action):
        raise ValueError(f"invalid action name {action!r}: lower-case letters, digits, '-' or '_'")
    if not alert_id:
        raise ValueError("alert_id must not be empty")
    return sign(ACTION_SUBJECT + action, _expiry(ttl_s, now), secret, alert=alert_id)


def verify_action_token(
    token: str, secret: bytes | Sequence[bytes], *, action: str = "ack", now: datetime | None = None
) -> str:
    """The alert id an action token is for, once verified for ``action``."""
    claims = verify(token, secret, now, subject=ACTION_SUBJECT + action)
    alert = claims.extra.get("alert")
    if not isinstance(alert, str) or not alert:
        raise TokenMalformedError("action token carries no alert id")
    return alert


def _expiry(ttl_s: float, now: datetime | None) -> datetime:
    if not 0 < ttl_s <= MAX_TTL_S:
        raise ValueError(f"ttl_s must be in (0, {MAX_TTL_S}] seconds, got {ttl_s}")
    return (datetime.now(UTC) if now is None else now) + timedelta(seconds=ttl_s)


def _check_secret(secret: bytes) -> None:
    if not isinstance(secret, bytes) or len(secret) < MIN_SECRET_BYTES:
        raise ValueError(f"a signing secret must be at least {MIN_SECRET_BYTES} random bytes (see new_secret())")


def _split(token: str) -> tuple[str, str, str, str]:
    if not isinstance(token, str) or len(token) > MAX_TOKEN_CHARS:
        raise TokenMalformedError("not a token (wrong type or too long)")
    parts = token.split(".")
    if len(parts) != 4 or not all(_FIELD.fullmatch(p) for p in parts):
        raise TokenMalformedError("not a token (expected four base64url fields separated by '.')")
    if parts[0] != VERSION:
        raise TokenMalformedError(f"unsupported token version {parts[0][:8]!r} (this code reads {VERSION!r})")
    return parts[0], parts[1], parts[2], parts[3]


def _decode_payload(body: str) -> TokenClaims:
    try:
        payload = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    except (binascii.Error, ValueError):
        raise TokenMalformedError("token payload is not base64url JSON") from None
    if not isinstance(payload, dict):
        raise TokenMalformedError("token payload is not an object")
    sub, exp = payload.pop("sub", None), payload.pop("exp", None)
    if not isinstance(sub, str) or not isinstance(exp, int) or isinstance(exp, bool):
        raise TokenMalformedError("token payload lacks a subject or expiry")
    try:
        expires_at = datetime.fromtimestamp(exp, UTC)
    except (OverflowError, OSError, ValueError):
        raise TokenMalformedError("token expiry is out of range") from None
    extra = {k: v for k, v in payload.items() if isinstance(v, str | int | bool)}
    return TokenClaims(sub, expires_at, extra)


def _mac(secret: bytes, head: str) -> str:
    return _b64(hmac.new(secret, head.encode("ascii"), hashlib.sha256).digest())


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")
