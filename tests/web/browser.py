"""What the browser tests share: Debian's Chromium driven by Playwright (headless; the browser bundled by
`playwright install` is never used), a page per screen size that collects JavaScript errors, screenshots saved in
tests/artifacts/screenshots/ (look at them) with a check that nothing is wider than the screen, and `storewatch
serve` on the seeded site as a subprocess.

A test module takes ``pytestmark = NEEDS_BROWSER`` and imports the fixtures it uses (``browser``, ``server``);
without Playwright or Chromium the tests skip, naming what is missing (`tools/system-packages.sh` installs chromium).
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.web.seed import Seeded
from tests.web.server import Server, serve

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "tests" / "artifacts" / "screenshots"
CHROMIUM = next((p for p in ("/usr/bin/chromium", "/usr/bin/chromium-browser") if Path(p).exists()), None)
SIZES = {"phone": (390, 844), "desktop": (1440, 900)}
WAIT_MS = 15_000

NEEDS_BROWSER = [
    pytest.mark.skipif(
        importlib.util.find_spec("playwright") is None, reason="browser tests need playwright (dev extra)"
    ),
    pytest.mark.skipif(CHROMIUM is None, reason="browser tests need Debian's chromium (tools/system-packages.sh)"),
]


@pytest.fixture
def browser() -> Iterator[Any]:
    from playwright import sync_api

    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_api.sync_playwright() as p:
        launched = p.chromium.launch(executable_path=CHROMIUM, headless=True)
        yield launched
        launched.close()


@pytest.fixture
def server(seeded: Seeded) -> Iterator[Server]:
    """`storewatch serve --config` on the seeded site; no traceback and no 500 in its output by the end."""
    with serve(seeded.data_dir, "--config", str(seeded.data_dir / "site.yaml")) as running:
        yield running
        assert "Traceback" not in running.output() and " 500" not in running.output(), running.output()


def new_page(browser: Any, size: str, touch: bool = False) -> Any:
    """A page at ``size`` (``phone`` or ``desktop``) whose ``js_errors`` lists the page's uncaught errors."""
    width, height = SIZES[size]
    context = browser.new_context(
        viewport={"width": width, "height": height}, device_scale_factor=1, has_touch=touch, is_mobile=touch
    )
    page = context.new_page()
    page.set_default_timeout(WAIT_MS)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.js_errors = errors
    return page


def shot(page: Any, name: str, size: str) -> None:
    """Save the whole page as ``<name>-<size>.png``, from its top; fail if it is wider than the screen."""
    page.wait_for_load_state("load")
    page.evaluate("window.scrollTo(0, 0)")  # a page opened at an anchor is captured from its top
    page.screenshot(path=str(SHOTS / f"{name}-{size}.png"), full_page=True)
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"{name} at {size} is {overflow} px wider than the screen"
