"""Media keys: what is accepted, and every traversal or look-alike trick that must be refused."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import PurePosixPath

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from storewatch.media.store import content_type_for, evidence_key, validate_key, validate_prefix

VALID = [
    "a",
    "e1.jpg",
    "store-1/entrance/2026-03-01/0123456789abcdef0123456789abcdef.mp4",
    "A_b-c.d/E.tar.gz",
    "x" * 255,
    "/".join(["ab"] * 170),  # 509 characters
]

INVALID = [
    ("", "empty"),
    ("../x", "'..'"),
    ("..", "'..'"),
    (".", "'.'"),
    ("a/../b", "'..'"),
    ("a/./b", "'.'"),
    ("/etc/passwd", "leading '/'"),
    ("//server/share", "leading '/'"),
    ("a//b", "empty segment"),
    ("a/", "empty segment"),
    ("a\\b", "backslash"),
    ("..\\x", "backslash"),
    ("C:\\x", "backslash"),
    ("C:x", "segment"),
    ("~/x", "segment"),
    (".hidden", "segment"),
    (".x.jpg.abc.part", "segment"),
    ("-rf", "segment"),
    ("a b", "segment"),
    ("a\nb", "segment"),
    ("a\x00b", "segment"),
    ("%2e%2e/x", "segment"),
    ("a\u2215b", "segment"),  # DIVISION SLASH looks like '/'
    ("\uff0e\uff0e/x", "segment"),  # FULLWIDTH FULL STOP x2 looks like '..'
    ("a\u2024\u2024/x", "segment"),  # ONE DOT LEADER
    ("caf\u00e9.jpg", "segment"),  # non-ASCII letter
    ("e\u0301.jpg", "segment"),  # combining accent
    ("\u0430dmin", "segment"),  # Cyrillic a homoglyph
    ("x\u202egpj.exe", "segment"),  # RIGHT-TO-LEFT OVERRIDE
    ("a\ufeffb", "segment"),  # zero-width no-break space
    ("x" * 256, "segment"),  # longer than a file name may be
    ("/".join(["ab"] * 200), "longer than"),
]


@pytest.mark.parametrize("key", VALID)
def test_valid_keys_pass_unchanged(key: str) -> None:
    assert validate_key(key) == key


@pytest.mark.parametrize(("key", "reason"), INVALID)
def test_invalid_keys_are_value_errors_naming_the_key(key: str, reason: str) -> None:
    with pytest.raises(ValueError, match="invalid media key") as info:
        validate_key(key)
    message = str(info.value)
    assert reason in message
    assert repr(key[:40]) in message or repr(key) in message


@pytest.mark.parametrize("key", [None, b"a/b", 3])
def test_non_string_keys_are_refused(key: object) -> None:
    with pytest.raises(ValueError, match="must be a string"):
        validate_key(key)  # type: ignore[arg-type]


@pytest.mark.parametrize(("prefix", "expected"), [("", ""), ("a", "a"), ("a/b/", "a/b")])
def test_prefixes(prefix: str, expected: str) -> None:
    assert validate_prefix(prefix) == expected


@pytest.mark.parametrize("prefix", ["/", "../", "a//", "/a"])
def test_bad_prefixes(prefix: str) -> None:
    with pytest.raises(ValueError):
        validate_prefix(prefix)


def test_evidence_key_matches_the_evidence_writer_layout() -> None:
    at = datetime(2026, 3, 1, 23, 59, tzinfo=UTC)
    assert evidence_key("s1/cam-2", at, "ab12", ".mp4") == "s1/cam-2/2026-03-01/ab12.mp4"
    with pytest.raises(ValueError):
        evidence_key("s1/../cam", at, "ab12", ".mp4")


@pytest.mark.parametrize(
    ("key", "ctype"), [("a.jpg", "image/jpeg"), ("a.mp4", "video/mp4"), ("a.json", "application/json")]
)
def test_content_type_from_suffix(key: str, ctype: str) -> None:
    assert content_type_for(key) == ctype


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet="a0._-/\\:~ \u2215\uff0e", max_size=24))
def test_any_accepted_key_stays_strictly_under_the_root(key: str) -> None:
    try:
        validate_key(key)
    except ValueError:
        return
    resolved = os.path.normpath(PurePosixPath("/srv/media") / key)
    assert resolved.startswith("/srv/media/") and resolved == f"/srv/media/{key}"
