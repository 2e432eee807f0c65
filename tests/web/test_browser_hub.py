"""The hub's dashboard in a real browser (Debian's Chromium, headless): ``storewatch hub --web-port`` as a real
process on a PostgreSQL hub database (pgserver) holding two stores' events, incidents, registry and alerts, put
there by the hub's ingester and the repositories (no NATS needed to read them). Log in, see both stores, switch to
one store in the header and see only its alerts and incidents, switch back. Screenshots at phone (390x844) and
desktop (1440x900) sizes go to tests/artifacts/screenshots/hub-*.png (look at them)."""

from __future__ import annotations

import sys
import tempfile
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url

from tests.helpers import wait_for
from tests.store.conftest import postgres_server  # noqa: F401  (the session's PostgreSQL)
from tests.sync.procs import Proc, free_port
from tests.web.browser import SIZES, new_page, shot
from tests.web.hub_seed import ADMIN, HubSeeded, seed_hub


@pytest.fixture
def hub_db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[HubSeeded]:
    server: tuple[str, Engine] = request.getfixturevalue("postgres_server")
    base, admin = server
    name = f"hub_{uuid.uuid4().hex[:12]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield seed_hub(make_url(base).set(database=name).render_as_string(hide_password=False), tmp_path / "edges")
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
def hub_url(hub_db: HubSeeded) -> Iterator[str]:
    """``storewatch hub`` with only its dashboard (no NATS) on the seeded database; its base URL."""
    root = Path(tempfile.mkdtemp(prefix="storewatch-hub-web-"))
    port = free_port()
    args = [sys.executable, "-m", "storewatch", "hub", "--database", hub_db.url, "--web-port", str(port),
            "--data-dir", str(root / "hub")]  # fmt: skip
    proc = Proc("hub-web", args, root).start()
    url = f"http://127.0.0.1:{port}"

    def healthy() -> bool:
        assert proc.alive, proc.output()
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=1) as response:
                return bool(response.status == 200)
        except OSError:
            return False

    try:
        wait_for(healthy, timeout_s=30)
        yield url
        assert "Traceback" not in proc.output() and " 500" not in proc.output(), proc.output()
    finally:
        assert proc.stop() == 0, proc.output()


def _alerts_shown(page: Any) -> set[str]:
    return set(page.eval_on_selector_all("[data-alert-id]", "cards => cards.map(c => c.dataset.alertId)"))


def _incidents_shown(page: Any) -> set[str]:
    hrefs = page.eval_on_selector_all("a.row-link", "links => links.map(a => a.getAttribute('href'))")
    return {h.rsplit("/", 1)[1] for h in hrefs}


def _switch(page: Any, url: str, store: str) -> None:
    """Choose a store (or "": all) in the header's switcher; the page comes back narrowed."""
    with page.expect_navigation():
        page.select_option("#store-switcher", store)
    page.wait_for_load_state("load")
    assert page.url.startswith(url)


@pytest.mark.parametrize("size", list(SIZES))
def test_switch_stores_on_the_hub(browser: Any, hub_url: str, hub_db: HubSeeded, size: str) -> None:
    page = new_page(browser, size)
    page.goto(f"{hub_url}/")
    page.fill("#username", ADMIN[0])
    page.fill("#password", ADMIN[1])
    page.click("button[type=submit]")
    page.wait_for_url(f"{hub_url}/")
    stores = page.locator(".store-head h3").all_inner_texts()
    assert stores == ["s1", "s2"]
    assert "Runs site file · refused v2" in page.locator(".store-grid").inner_text()
    shot(page, "hub-overview", size)

    page.goto(f"{hub_url}/hub")
    assert page.locator(".hub-stores tbody tr").count() == 2
    shot(page, "hub-status", size)

    page.goto(f"{hub_url}/alerts")
    page.locator("[data-live-state=live]").wait_for()
    assert _alerts_shown(page) == set(hub_db.alerts.values())
    shot(page, "hub-alerts", size)

    _switch(page, f"{hub_url}/alerts", "s2")
    s2_alerts = {hub_db.alerts["fight"], hub_db.alerts["restricted"]}
    assert _alerts_shown(page) == s2_alerts
    assert page.locator("#store-switcher").input_value() == "s2"
    shot(page, "hub-alerts-s2", size)

    page.goto(f"{hub_url}/incidents")  # the choice is kept from page to page
    assert _incidents_shown(page) == {hub_db.incidents["fight"], hub_db.incidents["restricted"]}
    shot(page, "hub-incidents-s2", size)
    page.goto(f"{hub_url}/")
    assert page.locator(".store-head h3").all_inner_texts() == ["s2"]
    shot(page, "hub-overview-s2", size)

    _switch(page, f"{hub_url}/", "")
    assert page.locator(".store-head h3").all_inner_texts() == ["s1", "s2"]
    page.goto(f"{hub_url}/incidents")
    assert _incidents_shown(page) == set(hub_db.incidents.values())
    assert not page.js_errors, page.js_errors
