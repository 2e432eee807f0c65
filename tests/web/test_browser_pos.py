"""The till exception dashboard in a real browser (Chromium, headless) against `storewatch serve`: the summary per
cashier sorted by a click, the exception list with the till camera's snapshot, a filter, a transaction with its
voided line beside the video, at phone and desktop sizes (screenshots in tests/artifacts/screenshots/)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.web.browser import NEEDS_BROWSER, SIZES, new_page, shot
from tests.web.pos_seed import SAMPLE_TX
from tests.web.seed import ADMIN
from tests.web.server import Server

pytestmark = NEEDS_BROWSER


def _log_in(page: Any, server: Server) -> None:
    page.goto(f"{server.url}/login")
    page.fill("#username", ADMIN[0])
    page.fill("#password", ADMIN[1])
    page.click("button[type=submit]")
    page.wait_for_url(f"{server.url}/")


@pytest.mark.parametrize("size", list(SIZES))
def test_till_exceptions_dashboard(browser: Any, server: Server, size: str) -> None:
    page = new_page(browser, size)
    _log_in(page, server)
    page.get_by_role("link", name="Tills").click()
    page.wait_for_url(f"{server.url}/pos/exceptions")
    cashiers = page.locator("#cashiers tbody tr")
    assert cashiers.first.locator("td").first.inner_text().startswith("Cashier 5")  # the most exceptions first
    assert "raised" in cashiers.first.inner_text()
    assert page.locator(".pos-item img.pos-thumb").count() >= 1  # the till camera's snapshot at the void
    assert page.get_by_text("No till camera").count() >= 1  # a register mapped to no camera says so
    shot(page, "pos-exceptions", size)
    store, register, sequence = SAMPLE_TX  # its page: /pos/transactions/<store>/<register>/<business day>/<sequence>
    sample = page.locator(f'a[href^="/pos/transactions/{store}/{register}/"][href$="/{sequence}"]').first
    sample = sample.get_attribute("href") or ""
    assert sample.count("/") == 6, sample
    if size == "desktop":
        page.locator("#cashiers th", has_text="Cashier").locator("button").click()
        page.locator("#cashiers th", has_text="Cashier").locator("button").click()  # ascending
        assert cashiers.first.locator("td").first.inner_text().startswith("Cashier 1")
    page.select_option("select[name=code]", "no_sale")
    page.locator(".pos-filters button[type=submit]").click()
    page.wait_for_url("**code=no_sale**")
    assert page.locator(".pos-item").count() == 1
    shot(page, "pos-exceptions-no-sale", size)
    page.goto(server.url + sample)
    assert page.locator("tr.line-void").count() == 1 and page.locator("tr.line-voided").count() == 1
    assert page.locator(".pos-tx-video img.snapshot").count() == 1
    shot(page, "pos-transaction", size)
    assert not page.js_errors, page.js_errors
