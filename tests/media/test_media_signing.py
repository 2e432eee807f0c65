"""Signed tokens: valid, expired, altered, wrong key, rotated keys, and links used for the wrong thing."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from storewatch.media.signing import (
    MAX_TTL_S,
    TokenExpiredError,
    TokenMalformedError,
    TokenSignatureError,
    TokenSubjectError,
    TokenUnknownKeyError,
    action_token,
    key_id,
    new_secret,
    sign,
    signed_url,
    verify,
    verify_action_token,
    verify_media_token,
)

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
KEY = b"0123456789abcdef0123456789abcdef"
OTHER = b"fedcba9876543210fedcba9876543210"


def _token(**claims: str | int | bool) -> str:
    return sign("media:s1/a.jpg", NOW + timedelta(minutes=10), KEY, **claims)


def test_valid_token_round_trips_its_claims() -> None:
    claims = verify(_token(user="u1", n=3, admin=False), KEY, NOW)
    assert claims.subject == "media:s1/a.jpg"
    assert claims.expires_at == NOW + timedelta(minutes=10)
    assert claims.extra == {"user": "u1", "n": 3, "admin": False}


def test_format_is_versioned_with_key_id_and_canonical_payload() -> None:
    version, kid, body, sig = _token(b="2", a="1").split(".")
    assert (version, kid) == ("sw1", key_id(KEY))
    payload = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    assert payload == b'{"a":"1","b":"2","exp":1772367000,"sub":"media:s1/a.jpg"}'
    assert len(base64.urlsafe_b64decode(sig + "=")) == 32
    assert _token(a="1", b="2") == _token(b="2", a="1")  # claim order does not matter


@pytest.mark.parametrize(("after_s", "ok"), [(0, True), (599, True), (600, False), (86400, False)])
def test_expiry_boundary(after_s: int, ok: bool) -> None:
    token = _token()
    now = NOW + timedelta(seconds=after_s)
    if ok:
        verify(token, KEY, now)
    else:
        with pytest.raises(TokenExpiredError, match="expired at 2026-03-01T12:10:00"):
            verify(token, KEY, now)


def test_every_single_character_change_is_rejected() -> None:
    token = _token(alert="a1")
    for i, char in enumerate(token):
        for replacement in {"A", "B", "-", "_", "0", "."} - {char}:
            altered = token[:i] + replacement + token[i + 1 :]
            with pytest.raises((TokenSignatureError, TokenUnknownKeyError, TokenMalformedError)):
                verify(altered, KEY, NOW)


def test_tampered_payload_is_a_signature_error() -> None:
    version, kid, body, sig = _token().split(".")
    payload = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    payload["exp"] += 365 * 86400
    forged = base64.urlsafe_b64encode(json.dumps(payload).encode()).rstrip(b"=").decode()
    with pytest.raises(TokenSignatureError, match="altered"):
        verify(f"{version}.{kid}.{forged}.{sig}", KEY, NOW)


def test_wrong_key_is_an_unknown_key_error() -> None:
    with pytest.raises(TokenUnknownKeyError):
        verify(_token(), OTHER, NOW)


def test_claiming_a_known_key_id_without_its_secret_is_a_signature_error() -> None:
    version, _, body, _ = sign("media:s1/a.jpg", NOW + timedelta(minutes=10), OTHER).split(".")
    _, _, _, sig = sign("media:s1/a.jpg", NOW + timedelta(minutes=10), OTHER).split(".")
    with pytest.raises(TokenSignatureError):
        verify(f"{version}.{key_id(KEY)}.{body}.{sig}", KEY, NOW)


def test_rotation_accepts_old_keys_until_they_are_dropped() -> None:
    old_token = _token()
    new_token = sign("media:s1/a.jpg", NOW + timedelta(minutes=10), OTHER)
    keys = [OTHER, KEY]  # newest first
    assert verify(old_token, keys, NOW).subject == verify(new_token, keys, NOW).subject
    with pytest.raises(TokenUnknownKeyError):
        verify(old_token, [OTHER], NOW)


@pytest.mark.parametrize(
    "token",
    ["", "abc", "sw1.a.b", "sw1.a.b.c.d", "sw2.a.b.c", "sw1.a.b.c=", "sw1.a+b.c.d", "sw1..b.c", "x" * 5000],
)
def test_malformed_tokens(token: str) -> None:
    with pytest.raises(TokenMalformedError):
        verify(token, KEY, NOW)


def test_media_links_are_bound_to_their_key() -> None:
    url = signed_url("https://nvr.example/media", "s1/cam/e1.jpg", 600, KEY, now=NOW)
    parts = urlsplit(url)
    assert (parts.scheme, parts.netloc, parts.path) == ("https", "nvr.example", "/media/s1/cam/e1.jpg")
    token = parse_qs(parts.query)["token"][0]
    assert verify_media_token(token, "s1/cam/e1.jpg", KEY, NOW + timedelta(seconds=599)).subject
    with pytest.raises(TokenSubjectError):
        verify_media_token(token, "s1/cam/e2.jpg", KEY, NOW)
    with pytest.raises(TokenExpiredError):
        verify_media_token(token, "s1/cam/e1.jpg", KEY, NOW + timedelta(seconds=600))
    with pytest.raises(ValueError, match="invalid media key"):
        signed_url("https://nvr.example/media", "../etc/passwd", 600, KEY, now=NOW)


def test_action_tokens_carry_the_alert_and_cannot_be_swapped_with_media_links() -> None:
    ack = action_token("ack", alert_id="alert-7", ttl_s=3600, secret=KEY, now=NOW)
    assert verify_action_token(ack, [OTHER, KEY], now=NOW) == "alert-7"
    with pytest.raises(TokenSubjectError):
        verify_action_token(ack, KEY, action="close", now=NOW)
    media = signed_url("https://x", "ack", 600, KEY, now=NOW).split("token=")[1]
    with pytest.raises(TokenSubjectError):
        verify_action_token(media, KEY, now=NOW)
    with pytest.raises(TokenSubjectError):
        verify_media_token(ack, "ack", KEY, NOW)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: sign("s", NOW, b"short"), "at least 32"),
        (lambda: sign("s", NOW.replace(tzinfo=None), KEY), "timezone-aware"),
        (lambda: sign("", NOW, KEY), "subject"),
        (lambda: sign("s", NOW, KEY, exp=5), "reserved"),
        (lambda: sign("s", NOW, KEY, x=1.5), "str, int or bool"),  # type: ignore[arg-type]
        (lambda: verify("t", KEY, NOW.replace(tzinfo=None)), "timezone-aware"),
        (lambda: verify("t", [], NOW), "at least one secret"),
        (lambda: action_token("Ack!", alert_id="a", ttl_s=1, secret=KEY), "invalid action"),
        (lambda: action_token("ack", alert_id="", ttl_s=1, secret=KEY), "alert_id"),
        (lambda: action_token("ack", alert_id="a", ttl_s=0, secret=KEY), "ttl_s"),
        (lambda: action_token("ack", alert_id="a", ttl_s=MAX_TTL_S + 1, secret=KEY), "ttl_s"),
    ],
)
def test_misuse_is_a_value_error(call: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        call()  # type: ignore[operator]


def test_new_secrets_are_random_and_long_enough() -> None:
    a, b = new_secret(), new_secret()
    assert a != b and len(a) == 32
    assert verify(sign("s", NOW + timedelta(seconds=1), a), [b, a], NOW).subject == "s"
