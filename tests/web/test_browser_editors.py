"""The camera pages and the editors in a real browser (Debian's Chromium driven by Playwright, headless) against
`storewatch serve --config SITE.yaml` as a subprocess: draw a zone with mouse clicks on the camera's picture, name
it, save it, find it in the site file and drawn in the camera view; move a corner; a bow-tie polygon shows its error
next to the shape and is not saved; a line drawn with taps on a touch screen; the rules form saves and shows a bad
value next to its field. Every page is saved as a screenshot at phone (390x844) and desktop (1440x900) sizes in
tests/artifacts/screenshots/ (look at them).

Skips, naming what is missing, without Playwright or Chromium (`tools/system-packages.sh` installs chromium).
"""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from tests.web.browser import NEEDS_BROWSER, SIZES, new_page, shot
from tests.web.seed import ADMIN, Seeded
from tests.web.server import Server

pytestmark = NEEDS_BROWSER
ZONES = "[data-stage] canvas"


def _log_in(page: Any, server: Server) -> None:
    page.goto(f"{server.url}/login")
    page.fill("#username", ADMIN[0])
    page.fill("#password", ADMIN[1])
    page.click("button[type=submit]")
    page.wait_for_url(f"{server.url}/")


def _at(page: Any, fx: float, fy: float) -> tuple[float, float]:
    """Screen point of a normalised point of the editor's (or the view's) canvas."""
    box = page.locator(ZONES).bounding_box()
    return box["x"] + fx * box["width"], box["y"] + fy * box["height"]


def _click(page: Any, fx: float, fy: float) -> None:
    page.mouse.click(*_at(page, fx, fy))


def _zones(seeded: Seeded, camera: str = "door") -> dict[str, dict[str, Any]]:
    site = yaml.safe_load((seeded.data_dir / "site.yaml").read_text())
    cam = next(c for c in site["stores"][0]["cameras"] if c["id"] == camera)
    return {z["id"]: z for z in [*cam.get("zones", []), *cam.get("lines", [])]}


def _open_editor(page: Any, server: Server) -> None:
    page.goto(f"{server.url}/cameras/s1/door/zones")
    page.locator("[data-stage].has-picture").wait_for()


def test_draw_a_zone_save_it_and_see_it_in_the_file_and_the_camera_view(
    browser: Any, server: Server, seeded: Seeded
) -> None:
    page = new_page(browser, "desktop")
    _log_in(page, server)
    _open_editor(page, server)
    shot(page, "zones-empty", "desktop")
    page.get_by_role("button", name="Add zone").click()
    corners = [(0.30, 0.40), (0.55, 0.38), (0.60, 0.70), (0.28, 0.72)]
    for fx, fy in corners:
        _click(page, fx, fy)
    _click(page, *corners[0])  # back on the first corner: closed
    item = page.locator(".shape-item.selected")
    item.wait_for()
    assert "zone-1" in item.inner_text()
    page.fill(".shape-item.selected input[name=name]", "Phones table")
    page.select_option(".shape-item.selected select[name=kind]", "high_value")
    page.locator("[data-editor-status][data-state=dirty]").wait_for()
    shot(page, "zones-drawn", "desktop")
    page.get_by_role("button", name="Save").click()
    notice = page.locator("[data-editor-notice]:not([hidden])")
    notice.wait_for()
    assert notice.inner_text().startswith("Saved 1 zone and 0 lines"), notice.inner_text()
    assert "site.yaml." in notice.inner_text() and ".bak" in notice.inner_text()
    zone = _zones(seeded)["zone-1"]
    assert (zone["name"], zone["kind"]) == ("Phones table", "high_value")
    for (x, y), (fx, fy) in zip(zone["polygon"], corners, strict=True):
        assert abs(x - fx) < 0.01 and abs(y - fy) < 0.01, zone["polygon"]
    shot(page, "zones-saved", "desktop")

    # move the first corner by dragging it, and save again
    assert page.locator(".shape-item.selected", has_text="Phones table").count() == 1  # still selected after saving
    x, y = _at(page, *corners[0])
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(*_at(page, 0.25, 0.35), steps=5)
    page.mouse.up()
    page.locator("[data-editor-status][data-state=dirty]").wait_for()
    page.get_by_role("button", name="Save").click()
    page.locator("[data-editor-status][data-state=saved]").wait_for()
    moved = _zones(seeded)["zone-1"]["polygon"][0]
    assert abs(moved[0] - 0.25) < 0.01 and abs(moved[1] - 0.35) < 0.01, moved

    # the camera view draws it over the picture
    page.goto(f"{server.url}/cameras/s1/door")
    page.locator("[data-view-status][data-mode=snapshot]").wait_for()
    page.wait_for_function("() => document.querySelector('[data-camera-view] img').naturalWidth > 0")
    assert [z["id"] for z in page.request.get(f"{server.url}/api/v1/cameras/s1/door/live").json()["zones"]] == [
        "zone-1"
    ]
    inside = page.evaluate(
        """([fx, fy]) => { const c = document.querySelector('[data-camera-view] canvas');
        return c.getContext('2d').getImageData(fx * c.width, fy * c.height, 1, 1).data[3]; }""",
        [0.45, 0.55],
    )
    assert inside > 0, "the zone is not drawn over the picture"
    shot(page, "camera", "desktop")
    assert not page.js_errors, page.js_errors


def test_a_bow_tie_shows_its_error_next_to_the_shape_and_is_not_saved(
    browser: Any, server: Server, seeded: Seeded
) -> None:
    page = new_page(browser, "desktop")
    _log_in(page, server)
    _open_editor(page, server)
    before = (seeded.data_dir / "site.yaml").read_text()
    page.get_by_role("button", name="Add zone").click()
    for fx, fy in [(0.2, 0.2), (0.6, 0.7), (0.6, 0.2), (0.2, 0.7)]:
        _click(page, fx, fy)
    page.get_by_role("button", name="Finish zone").click()
    error = page.locator(".shape-item.has-error .shape-errors")
    error.wait_for()
    assert "cross each other (a bow-tie)" in error.inner_text()
    shot(page, "zones-error", "desktop")
    page.get_by_role("button", name="Save").click()
    notice = page.locator("[data-editor-notice].notice-error")
    notice.wait_for()
    assert notice.inner_text().startswith("Not saved")
    assert (seeded.data_dir / "site.yaml").read_text() == before
    assert not page.js_errors, page.js_errors


def test_a_line_drawn_with_taps_on_a_phone(browser: Any, server: Server, seeded: Seeded) -> None:
    page = new_page(browser, "phone", touch=True)
    _log_in(page, server)
    _open_editor(page, server)
    shot(page, "zones", "phone")
    page.get_by_role("button", name="Add line").tap()
    page.locator(ZONES).scroll_into_view_if_needed()
    page.touchscreen.tap(*_at(page, 0.2, 0.3))
    page.touchscreen.tap(*_at(page, 0.2, 0.8))
    item = page.locator(".shape-item.selected")
    item.wait_for()
    page.select_option(".shape-item.selected select[name=direction_in]", "right")
    page.select_option(".shape-item.selected select[name=kind]", "exit")
    shot(page, "zones-line", "phone")
    page.get_by_role("button", name="Save").tap()
    page.locator("[data-editor-status][data-state=saved]").wait_for()
    line = _zones(seeded)["line-1"]
    assert (line["kind"], line["direction_in"]) == ("exit", "right")
    assert abs(line["points"][0][1] - 0.3) < 0.02 and abs(line["points"][1][1] - 0.8) < 0.02, line
    page.goto(f"{server.url}/cameras/s1/door")
    page.locator("[data-view-status][data-mode=snapshot]").wait_for()
    shot(page, "camera", "phone")
    page.goto(f"{server.url}/cameras")
    shot(page, "cameras", "phone")
    assert not page.js_errors, page.js_errors


@pytest.mark.parametrize("size", list(SIZES))
def test_rules_form_saves_and_shows_a_bad_value_next_to_its_field(
    browser: Any, server: Server, seeded: Seeded, size: str
) -> None:
    page = new_page(browser, size)
    _log_in(page, server)
    if size == "desktop":
        page.goto(f"{server.url}/cameras")
        shot(page, "cameras", size)
    page.goto(f"{server.url}/rules")
    shot(page, "rules", size)
    page.locator("#rule-loitering > summary").click()
    page.fill("[name='loitering.dwell_s']", "20")
    page.locator("#rule-fight > summary").click()
    page.select_option("[name='fight.enabled']", "false")
    page.get_by_role("button", name="Save rules").last.click()
    page.wait_for_url("**notice=rules_saved*")
    assert "Rule settings saved" in page.locator(".notice").inner_text()
    rules = yaml.safe_load((seeded.data_dir / "site.yaml").read_text())["rules"]
    assert rules == {"loitering": {"dwell_s": 20}, "fight": {"enabled": False}}
    assert page.locator("#rule-fight .badge", has_text="Off").count() == 1
    page.locator("#rule-loitering > summary").click()
    page.fill("[name='loitering.dwell_s']", "-3")
    page.get_by_role("button", name="Save rules").last.click()
    error = page.locator("#loitering\\.dwell_s-error")
    error.wait_for()
    assert error.inner_text() == "Input should be greater than 0"
    page.locator("#rule-loitering").scroll_into_view_if_needed()
    shot(page, "rules-error", size)
    page.goto(f"{server.url}/rules?target=s1/door")
    page.locator("#rule-loitering > summary").click()
    assert page.locator("[name='loitering.dwell_s']").get_attribute("placeholder") == "20"  # from the site
    shot(page, "rules-camera", size)
    assert not page.js_errors, page.js_errors
