"""Evidence files: only under the data folder's media/, only the user's stores, the right content types, Range."""

from __future__ import annotations

import os

import pytest
from fastapi.testclient import TestClient

from tests.web.seed import Seeded


def _key(seeded: Seeded, name: str, suffix: str) -> str:
    e = seeded.events[name]
    return f"{e.camera}/{e.start_utc:%Y-%m-%d}/{e.id}{suffix}"


def test_snapshot_is_a_jpeg(admin: TestClient, seeded: Seeded) -> None:
    response = admin.get(f"/media/{_key(seeded, 'walkout', '.jpg')}")
    assert response.status_code == 200 and response.headers["content-type"] == "image/jpeg"
    assert response.content[:3] == b"\xff\xd8\xff" and "private" in response.headers["cache-control"]


def test_clip_supports_range_requests(admin: TestClient, seeded: Seeded) -> None:
    url = f"/media/{_key(seeded, 'walkout', '.mp4')}"
    whole = admin.get(url)
    assert whole.headers["content-type"] == "video/mp4" and whole.headers["accept-ranges"] == "bytes"
    part = admin.get(url, headers={"Range": "bytes=100-199"})
    assert part.status_code == 206 and part.content == whole.content[100:200]
    assert part.headers["content-range"] == f"bytes 100-199/{len(whole.content)}"
    assert admin.get(url, headers={"Range": f"bytes={len(whole.content) + 10}-"}).status_code == 416


def test_matroska_clips_get_their_type(admin: TestClient, seeded: Seeded) -> None:
    key = _key(seeded, "walkout", ".mkv")
    (seeded.data_dir / "media" / key).write_bytes(b"\x1a\x45\xdf\xa3 matroska")
    assert admin.get(f"/media/{key}").headers["content-type"] == "video/x-matroska"


@pytest.mark.parametrize(
    "path",
    [
        "/media/../storewatch.db",
        "/media/%2e%2e/storewatch.db",
        "/media/s1/..%2F..%2Fstorewatch.db",
        "/media/s1/door/..%2f..%2f..%2fsecrets/web.key",
        "/media/.hidden/x.jpg",
        "/media/s1/door/2026-01-01/nothing.jpg",
        "/media/s1/door/2026-01-01/notes.txt",
        "/media/%5Cetc%5Cpasswd.jpg",
    ],
)
def test_nothing_outside_media_or_not_evidence_is_served(admin: TestClient, path: str) -> None:
    response = admin.get(path)
    assert response.status_code == 404, path
    assert b"SQLite" not in response.content


def test_a_symlink_out_of_media_is_not_followed(admin: TestClient, seeded: Seeded) -> None:
    outside = seeded.data_dir / "outside.jpg"
    outside.write_bytes(b"\xff\xd8\xff secret")
    link = seeded.data_dir / "media" / "s1" / "door" / "link.jpg"
    os.symlink(outside, link)
    assert admin.get("/media/s1/door/link.jpg").status_code == 404


def test_another_stores_evidence_is_not_found_for_a_guard(guard: TestClient, seeded: Seeded) -> None:
    assert guard.get(f"/media/{_key(seeded, 'walkout', '.jpg')}").status_code == 404
    assert guard.get(f"/media/{_key(seeded, 'fight', '.jpg')}").status_code == 200


def test_media_needs_a_login(app_client: TestClient, seeded: Seeded) -> None:
    assert app_client.get(f"/media/{_key(seeded, 'walkout', '.jpg')}").status_code == 401
