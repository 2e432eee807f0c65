"""Data subject requests in a real browser (Debian's Chromium driven by Playwright) against `storewatch serve`: a
privacy officer finds what is held about a person from a track, starts the blurred export (the job page shows its
progress to the end), is refused an erasure without the typed confirmation, then erases; each page saved as a
screenshot at phone and desktop size in tests/artifacts/screenshots/."""

from __future__ import annotations

from typing import Any

import pytest

from storewatch.store import open_database
from storewatch.store.db import default_url
from storewatch.web.auth import hash_password
from storewatch.web.permissions import Role
from storewatch.web.users import UserRepository
from tests.web.browser import NEEDS_BROWSER, SIZES, new_page, shot
from tests.web.seed import Seeded
from tests.web.server import Server

pytestmark = NEEDS_BROWSER
DPO = ("dpo", "privacy officer 1")


def _log_in(page: Any, server: Server, who: tuple[str, str]) -> None:
    page.goto(f"{server.url}/login")
    page.fill("#username", who[0])
    page.fill("#password", who[1])
    page.click("button[type=submit]")
    page.wait_for_url(f"{server.url}/")


@pytest.mark.parametrize("size", list(SIZES))
def test_a_privacy_officer_finds_exports_and_erases(browser: Any, server: Server, seeded: Seeded, size: str) -> None:
    with open_database(default_url(seeded.data_dir)) as db:
        UserRepository(db).create(DPO[0], hash_password(DPO[1]), Role.PRIVACY_OFFICER, ["s1"], "Dana Privacy")
    page = new_page(browser, size)
    _log_in(page, server, DPO)
    if size == "desktop":
        page.get_by_role("link", name="Subject requests").click()
    else:
        page.goto(f"{server.url}/privacy/subjects")
    page.wait_for_url(f"{server.url}/privacy/subjects")
    shot(page, "subjects-empty", size)

    page.select_option("#kind", "track")
    page.fill("#value", "s1/door")
    page.get_by_role("button", name="Find").click()
    assert "not a track id" in page.locator("#value-error").inner_text()
    shot(page, "subjects-error", size)

    track = seeded.events["walkout"].track_ids[0]
    page.fill("#value", track)
    page.get_by_role("button", name="Find").click()
    report = page.locator("[data-report]")
    assert track in report.locator("h2").first.inner_text()
    assert "1" in report.locator(".stat").nth(1).inner_text()  # one event
    shot(page, "subjects-found", size)

    page.get_by_role("button", name="Export, faces blurred").click()
    page.wait_for_url(f"{server.url}/jobs/*")
    page.wait_for_function(
        "['Done', 'Failed'].includes(document.querySelector('[data-job-badge]').textContent.trim())", timeout=120_000
    )
    badge = page.locator("[data-job-badge]").inner_text().strip()
    if badge == "Done":
        assert page.locator("[data-job-link]").is_visible()
    else:  # no face or person model in this machine's cache: the reason is named, not a stack trace
        assert "model" in page.locator("[data-job-error]").inner_text().lower()
    shot(page, "subjects-export-job", size)

    page.goto(f"{server.url}/privacy/subjects?kind=track&value={track}")
    page.fill("#reason", "erasure request 2026-041")
    page.fill("#confirm", "something else")
    page.get_by_role("button", name="Erase what is held").click()
    assert track in page.locator("#confirm-error").inner_text()
    page.fill("#confirm", track)
    shot(page, "subjects-erase-confirm", size)
    page.get_by_role("button", name="Erase what is held").click()
    done = page.locator("[data-erased]")
    assert "1 event(s)" in done.inner_text()
    shot(page, "subjects-erased", size)
    assert not page.js_errors, page.js_errors
