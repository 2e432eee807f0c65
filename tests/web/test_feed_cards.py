"""The live feed pushes each changed alert card, rendered once for every browser on the alerts page: the same HTML
the card route gives, sent just before its alert message, and not again while the card does not change."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient

from storewatch.core.events import Severity
from storewatch.store import open_database
from storewatch.store.db import default_url
from storewatch.web.app import _default_sources
from storewatch.web.live import DatabasePoller
from tests.web.conftest import login
from tests.web.seed import Seeded, add_event


def test_a_changed_card_is_pushed_once_before_its_alert(app_client: TestClient, seeded: Seeded) -> None:
    (poller,) = _default_sources(app_client.app.state.ctx)  # type: ignore[attr-defined]
    assert isinstance(poller, DatabasePoller)
    since = datetime.now(UTC) - timedelta(seconds=1)
    with open_database(default_url(seeded.data_dir)) as other:  # as `storewatch run` would write it
        _, alert_id = add_event(other, seeded.data_dir, type_="walk_out", camera="s1/door", at=datetime.now(UTC),
                                explanation="left without paying", severity=Severity.HIGH)  # fmt: skip
    found = poller.reader.changes(since)
    keys = [key for key, _, _ in found]
    assert keys.index(f"card:{alert_id}") == keys.index(f"alert:{alert_id}") - 1
    signature, message = next((s, m) for k, s, m in found if k == f"card:{alert_id}")
    card = json.loads(message.data)
    assert message.kind == "alert_card" and message.store == "s1" and card["id"] == alert_id
    page_card = login(app_client).get(f"/alerts/{alert_id}/card").text.strip()
    assert '<input type="hidden" name="csrf_token"' in page_card  # a page's card carries its session's token;
    page_card = re.sub(r'<input type="hidden" name="csrf_token" value="[^"]+">', "", page_card)
    assert page_card == card["html"].strip()  # the feed's, rendered once for all, gets it from app.js on submit
    assert "left without paying" in card["html"] and 'src="/media/s1/door/' in card["html"]
    again = {k: s for k, s, _ in poller.reader.changes(since)}
    assert again[f"card:{alert_id}"] == signature  # unchanged: the poller sends it no more
