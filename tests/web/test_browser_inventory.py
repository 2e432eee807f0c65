"""The inventory page in a real browser (Debian's Chromium driven by Playwright) against `storewatch serve`, at
phone and desktop size: reached from the navigation, each shelf zone's loss with its behaviour events beside it;
screenshots saved in tests/artifacts/screenshots/ (inventory-phone.png, inventory-desktop.png)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.web.browser import NEEDS_BROWSER, SIZES, new_page, shot
from tests.web.seed import ADMIN, Seeded
from tests.web.server import serve
from tests.web.test_inventory_page import stocked  # noqa: F401  (the seeded site with stock ingested)

pytestmark = NEEDS_BROWSER


@pytest.mark.parametrize("size", list(SIZES))
def test_inventory_page_in_a_browser(browser: Any, stocked: Seeded, size: str) -> None:  # noqa: F811
    with serve(stocked.data_dir, "--config", str(stocked.data_dir / "site.yaml")) as server:
        page = new_page(browser, size)
        page.goto(f"{server.url}/login")
        page.fill("#username", ADMIN[0])
        page.fill("#password", ADMIN[1])
        page.click("button[type=submit]")
        page.wait_for_url(f"{server.url}/")
        page.goto(f"{server.url}/inventory")
        assert page.locator("nav.nav a[aria-current=page]").inner_text().strip() == "Inventory"
        cards = page.locator(".zone-card")
        assert cards.count() == 2
        shot(page, "inventory", size)
        first = cards.first
        assert first.locator("h2").inner_text() == "Electronics"
        assert first.locator(".pill-danger strong").first.inner_text() == "9"
        assert "Loitering" in first.locator(".zone-events").inner_text()
        assert "No behaviour events" in cards.nth(1).inner_text()
        assert not page.js_errors, page.js_errors
        assert "Traceback" not in server.output() and " 500" not in server.output(), server.output()
