"""Users, tokens, permissions and settings in a real browser (Debian's Chromium driven by Playwright) against
`storewatch serve`: an administrator creates a user (the password shown once), the new user signs in with it and
sees no Users page; each page saved as a screenshot at phone and desktop size in tests/artifacts/screenshots/."""

from __future__ import annotations

from typing import Any

import pytest

from tests.web.browser import NEEDS_BROWSER, SIZES, new_page, shot
from tests.web.seed import ADMIN, Seeded
from tests.web.server import Server

pytestmark = NEEDS_BROWSER


def _log_in(page: Any, server: Server, who: tuple[str, str]) -> None:
    page.goto(f"{server.url}/login")
    page.fill("#username", who[0])
    page.fill("#password", who[1])
    page.click("button[type=submit]")
    page.wait_for_url(f"{server.url}/")


@pytest.mark.parametrize("size", list(SIZES))
def test_an_administrator_creates_a_user_who_then_signs_in(
    browser: Any, server: Server, seeded: Seeded, size: str
) -> None:
    page = new_page(browser, size)
    _log_in(page, server, ADMIN)
    page.goto(f"{server.url}/users")
    assert page.locator(".users-table tbody tr").count() == 2
    shot(page, "users", size)

    page.get_by_role("link", name="New user").click()
    page.wait_for_url(f"{server.url}/users/new")
    page.get_by_role("button", name="Create user").click()  # nothing filled in: the mistakes, by their fields
    assert page.locator("#username-error").inner_text() == "Enter a user name."
    assert "choose at least one store" in page.locator("#stores-error").inner_text().lower()
    shot(page, "user-form-error", size)

    username = f"guard-{size}"
    page.fill("#username", username)
    page.fill("#display_name", f"Dee {size.title()}")
    page.locator("label.choice", has_text="Guard").first.click()
    page.locator("label.choice", has_text="Gran Via").click()
    shot(page, "user-new", size)
    page.get_by_role("button", name="Create user").click()
    page.wait_for_url(f"{server.url}/users")  # the answer to the form: shown once, not a page of its own
    secret = page.locator("#secret").input_value()
    assert len(secret) >= 16 and "Shown once" in page.locator(".notice").inner_text()
    shot(page, "user-password-once", size)
    page.get_by_role("link", name="Done").click()
    assert "Gran Via" in page.locator(".choice:has(input:checked)").all_inner_texts()[-1]

    page.goto(f"{server.url}/roles")
    shot(page, "roles", size)
    page.goto(f"{server.url}/tokens")
    page.fill("#name", "POS feed, Gran Via")
    page.locator("label.choice", has_text="Gran Via").click()
    page.get_by_role("button", name="Create token").click()
    token = page.locator("#secret").input_value()
    assert token.startswith("swt_")
    shot(page, "token-once", size)
    page.get_by_role("link", name="Done").click()
    row = page.locator(".tokens-table tbody tr").first
    assert "POS feed, Gran Via" in row.inner_text() and token not in page.content()
    shot(page, "tokens", size)
    page.goto(f"{server.url}/settings")
    shot(page, "settings", size)
    assert not page.js_errors, page.js_errors

    other = new_page(browser, size)
    _log_in(other, server, (username, secret))
    nav = other.locator("nav.nav").inner_text()
    assert "Users" not in nav and "Alerts" in nav
    assert f"Dee {size.title()}" in other.locator(".me").inner_text() or size == "phone"
    other.goto(f"{server.url}/users")
    assert "may not manage users" in other.locator("main").inner_text()
    other.goto(f"{server.url}/alerts")
    cards = other.locator(".alert-card").all_inner_texts()
    assert len(cards) == 3 and all("Gran Via" in c for c in cards)  # Gran Via's three, none of Serrano
    other.get_by_role("link", name="Settings").click()
    other.wait_for_url(f"{server.url}/settings")
    shot(other, "settings-guard", size)
    assert not other.js_errors, other.js_errors
