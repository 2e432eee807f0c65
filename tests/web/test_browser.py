"""The dashboard in a real browser (Debian's Chromium driven by Playwright, headless) against `storewatch serve` run
as a subprocess: log in, see a live alert arrive over server-sent events with its snapshot, acknowledge it, open
its incident and resolve it. Every page is saved as a screenshot at phone (390x844) and desktop (1440x900) sizes
in tests/artifacts/screenshots/ (look at them).

Skips, naming what is missing, without Playwright or Chromium (`tools/system-packages.sh` installs chromium; the
browser bundled by `playwright install` is never used).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from storewatch.core.events import Severity
from storewatch.store import open_database
from storewatch.store.db import default_url
from storewatch.web.auth import LOGIN_FAILED
from tests.web.browser import NEEDS_BROWSER, SIZES, new_page, shot
from tests.web.seed import ADMIN, Seeded, add_event
from tests.web.server import Server

pytestmark = NEEDS_BROWSER


def _log_in(page: Any, server: Server, size: str) -> None:
    page.goto(f"{server.url}/alerts")
    assert page.url.startswith(f"{server.url}/login?next=")
    shot(page, "login", size)
    page.fill("#username", ADMIN[0])
    page.fill("#password", "not it")
    page.click("button[type=submit]")
    assert page.locator("#password-error").inner_text() == LOGIN_FAILED
    shot(page, "login-error", size)
    page.fill("#password", ADMIN[1])
    page.click("button[type=submit]")
    page.wait_for_url(f"{server.url}/alerts")


def _new_alert(seeded: Seeded) -> tuple[str, str]:
    """A walk-out written into the database as `storewatch run` would write it (another process)."""
    with open_database(default_url(seeded.data_dir)) as db:
        event, alert_id = add_event(
            db,
            seeded.data_dir,
            type_="walk_out",
            camera="s1/door",
            at=datetime.now(UTC),
            explanation="left through the exit with two unpaid items",
            severity=Severity.CRITICAL,
            frame_start=500,
        )
    assert alert_id is not None
    return event.id, alert_id


def test_live_alert_to_resolved_incident(browser: Any, server: Server, seeded: Seeded) -> None:
    page = new_page(browser, "desktop")
    _log_in(page, server, "desktop")
    page.locator("[data-live-state=live]").wait_for()
    _event_id, alert_id = _new_alert(seeded)
    card = page.locator(f"#alert-{alert_id}")
    card.wait_for()  # arrived over SSE, without a reload
    assert "left through the exit with two unpaid items" in card.inner_text()
    snapshot = card.locator("img.thumb")
    snapshot.wait_for()
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=snapshot.element_handle())
    assert page.locator(".toast").first.inner_text().startswith("New alert: Walk out")
    shot(page, "alerts-live", "desktop")

    card.get_by_role("button", name="Acknowledge").click()
    page.wait_for_url(f"{server.url}/alerts?notice=acknowledged*")
    assert page.locator(".notice").inner_text() == "Alert acknowledged."
    assert "Acknowledged by ana" in page.locator(f"#alert-{alert_id}").inner_text()

    page.goto(f"{server.url}/alerts/{seeded.alerts['walkout']}")
    page.get_by_role("button", name="Blur faces and show the clip").click()
    page.wait_for_url(f"{server.url}/jobs/*")
    shot(page, "job-running", "desktop")
    page.get_by_role("link", name="Watch the clip").click(timeout=120_000)  # models load, every frame searched
    video = page.locator("video")
    assert video.get_attribute("src").endswith(".protected.mp4")
    page.wait_for_function("v => v.readyState >= 1 && v.videoWidth > 0", arg=video.element_handle())
    shot(page, "alert-clip", "desktop")

    page.goto(f"{server.url}/alerts/{alert_id}")
    shot(page, "alert", "desktop")
    page.get_by_role("link", name="Open incident").click()
    page.wait_for_url(f"{server.url}/incidents/*")
    assert page.locator(".page-header .badge").first.inner_text() == "Acknowledged"
    page.fill("#reason", "security stopped them at the door; goods returned")
    page.get_by_role("button", name="Resolve").click()
    page.wait_for_url("**notice=moved*")
    assert page.locator(".notice").inner_text() == "Incident updated."
    assert page.locator(".page-header .badge").first.inner_text() == "Resolved"
    assert "security stopped them at the door" in page.locator(".timeline").inner_text()
    evidence = page.locator(".evidence img.thumb").first
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=evidence.element_handle())
    shot(page, "incident", "desktop")

    page.get_by_role("button", name="Export evidence pack").click()
    page.wait_for_url(f"{server.url}/jobs/*")
    download = page.locator("[data-job-link]")
    download.wait_for()  # the page follows the job and shows the file when it is ready
    assert page.locator("[data-job-badge]").inner_text() == "Done"
    assert download.inner_text().startswith("Download incident-")
    shot(page, "job-done", "desktop")
    assert not page.js_errors, page.js_errors


@pytest.mark.parametrize("size", list(SIZES))
def test_every_page_at_phone_and_desktop_size(browser: Any, server: Server, seeded: Seeded, size: str) -> None:
    page = new_page(browser, size)
    _log_in(page, server, size)
    page.locator("[data-live-state=live]").wait_for()
    shot(page, "alerts", size)
    for name, url in [
        ("overview", "/"),
        ("incidents", "/incidents"),
        ("incidents-empty", "/incidents?state=investigating"),
        ("analytics", "/analytics"),
        ("jobs-empty", "/jobs"),
        ("alert-waiting", f"/alerts/{seeded.alerts['walkout']}"),
        ("incident-open", f"/incidents/{seeded.incidents['walkout']}"),
        ("not-found", "/incidents/" + "0" * 32),
    ]:
        page.goto(f"{server.url}{url}")
        shot(page, name, size)
    page.goto(f"{server.url}/incidents/{seeded.incidents['walkout']}")
    page.get_by_role("button", name="False alarm").click()
    assert "A false alarm needs a reason" in page.locator("#reason-error").inner_text()
    shot(page, "incident-form-error", size)
    assert not page.js_errors, page.js_errors
