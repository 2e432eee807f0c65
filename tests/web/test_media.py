"""Evidence files: only under the data folder's media/, only the user's stores, the right content types, Range."""

from __future__ import annotations

import os
import shutil

import pytest
from fastapi.testclient import TestClient

from storewatch.privacy.clips import protected_path
from storewatch.web import create_app
from tests.web.conftest import login, settings_for
from tests.web.seed import ADMIN, Seeded


def _key(seeded: Seeded, name: str, suffix: str) -> str:
    e = seeded.events[name]
    return f"{e.camera}/{e.start_utc:%Y-%m-%d}/{e.id}{suffix}"


def test_snapshot_is_a_jpeg(admin: TestClient, seeded: Seeded) -> None:
    response = admin.get(f"/media/{_key(seeded, 'walkout', '.jpg')}")
    assert response.status_code == 200 and response.headers["content-type"] == "image/jpeg"
    assert response.content[:3] == b"\xff\xd8\xff" and "private" in response.headers["cache-control"]


def test_clip_supports_range_requests(admin: TestClient, seeded: Seeded) -> None:
    original = seeded.data_dir / "media" / _key(seeded, "walkout", ".mp4")
    shutil.copy(original, protected_path(original))  # stands in for the faces-blurred copy
    url = f"/media/{_key(seeded, 'walkout', '.protected.mp4')}"
    whole = admin.get(url)
    assert whole.headers["content-type"] == "video/mp4" and whole.headers["accept-ranges"] == "bytes"
    part = admin.get(url, headers={"Range": "bytes=100-199"})
    assert part.status_code == 206 and part.content == whole.content[100:200]
    assert part.headers["content-range"] == f"bytes 100-199/{len(whole.content)}"
    assert admin.get(url, headers={"Range": f"bytes={len(whole.content) + 10}-"}).status_code == 416


def test_without_face_blurring_clips_are_served_as_recorded_with_their_type(seeded: Seeded) -> None:
    site = seeded.data_dir / "site.yaml"
    site.write_text(site.read_text() + "privacy: {enabled: false}\n")
    key = _key(seeded, "walkout", ".mkv")
    (seeded.data_dir / "media" / key).write_bytes(b"\x1a\x45\xdf\xa3 matroska")
    with TestClient(create_app(settings_for(seeded.data_dir)), follow_redirects=False) as client:
        login(client, ADMIN)
        assert client.get(f"/media/{key}").headers["content-type"] == "video/x-matroska"
        assert client.get(f"/media/{_key(seeded, 'walkout', '.mp4')}").status_code == 200


def test_with_face_blurring_on_a_clips_original_is_never_served(admin: TestClient, seeded: Seeded) -> None:
    assert admin.get(f"/media/{_key(seeded, 'walkout', '.mp4')}").status_code == 404
    page = admin.get(f"/alerts/{seeded.alerts['walkout']}").text
    assert "Blur faces and show the clip" in page and "<video" not in page


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
