"""Server-rendered pages: what they show, local times with UTC on hover, forms that show each mistake next to its
field (4xx, never 500), empty states that say what to do."""

from __future__ import annotations

import re
from datetime import datetime

import pytest
from fastapi.testclient import TestClient

from tests.web.seed import Seeded


def test_overview_shows_stores_camera_health_and_waiting_alerts(admin: TestClient) -> None:
    page = admin.get("/")
    assert page.status_code == 200
    html = page.text
    for text in (
        "Gran Via",
        "Serrano",
        "Aisle 3 electronics",
        "Tampered since",
        "Offline since",
        "Waiting for someone",
    ):
        assert text in html, text
    assert re.search(r'<span class="stat-value">2</span><span class="stat-label">alerts waiting', html)
    assert "Coming soon" not in html  # nothing is announced that is not built
    for ready in ("Cameras", "Rules", "Users"):
        assert f">{ready}</a>" in html and f'title="{ready}: coming soon"' not in html


def test_times_are_local_to_the_store_with_utc_on_hover(admin: TestClient, seeded: Seeded) -> None:
    alert = admin.get(f"/api/v1/alerts/{seeded.alerts['fight']}").json()  # s2: Europe/Lisbon
    raised = datetime.fromisoformat(alert["raised_utc"])
    html = admin.get(f"/alerts/{seeded.alerts['fight']}").text
    from zoneinfo import ZoneInfo

    local = raised.astimezone(ZoneInfo("Europe/Lisbon"))
    assert f'title="{raised:%Y-%m-%d %H:%M:%S} UTC"' in html
    assert f"{local:%H:%M:%S}" in html and f"<small>{local.tzname()}</small>" in html


def test_alerts_feed_lists_cards_and_filters(admin: TestClient, seeded: Seeded) -> None:
    html = admin.get("/alerts").text
    assert html.count('class="card alert-card') == 4
    assert 'data-feed data-filter-status=""' in html
    waiting = admin.get("/alerts?status=waiting").text
    assert waiting.count('class="card alert-card') == 2 and f'id="alert-{seeded.alerts["fight"]}"' not in waiting
    card = admin.get(f"/alerts/{seeded.alerts['walkout']}/card")
    assert card.status_code == 200 and card.text.strip().startswith("<article") and "<html" not in card.text
    assert admin.get("/alerts?status=sleeping").status_code == 422


def test_empty_feed_says_what_to_do(admin: TestClient) -> None:
    html = admin.get("/alerts?status=false_alarm").text
    assert "No alerts false alarm right now" in html and "appear here the moment a rule fires" in html


def test_acknowledge_from_the_feed_and_false_alarm_without_reason(admin: TestClient, seeded: Seeded) -> None:
    url = f"/alerts/{seeded.alerts['loiter']}/acknowledge"
    missing = admin.post(url, data={"action": "false_alarm", "false_alarm_reason": " ", "next": "feed"})
    assert missing.status_code == 422
    assert 'id="false_alarm_reason-error" role="alert">Say what it really was' in missing.text
    assert 'aria-invalid="true" aria-describedby="false_alarm_reason-error"' in missing.text
    done = admin.post(url, data={"action": "ack", "false_alarm_reason": "typed then changed mind", "next": "feed"})
    assert done.status_code == 303 and done.headers["location"].startswith("/alerts?notice=acknowledged")
    assert "Alert acknowledged." in admin.get(done.headers["location"]).text
    again = admin.post(url, data={"action": "ack"})
    assert again.status_code == 409 and "acknowledged already" in again.text


def test_incident_page_shows_workflow_evidence_timeline_and_custody(admin: TestClient, seeded: Seeded) -> None:
    html = admin.get(f"/incidents/{seeded.incidents['walkout']}").text
    event = seeded.events["walkout"]
    for text in (
        "Walk out at s1/door",
        "Acknowledge",
        "Start investigating",
        "Resolve",
        "False alarm",
        f'name="key" value="s1/door/{event.start_utc:%Y-%m-%d}/{event.id}.mp4"',  # blur faces, then show it
        "Blur faces and show the clip",
        "Path walked",
        "Chain of custody",
        "Export evidence pack",
        "walk_out ended after 20 s",
    ):
        assert text in html, text


def test_incident_forms_show_errors_next_to_their_fields(admin: TestClient, seeded: Seeded) -> None:
    base = f"/incidents/{seeded.incidents['walkout']}"
    no_reason = admin.post(f"{base}/move", data={"to": "false_alarm", "reason": ""})
    assert (
        no_reason.status_code == 422 and 'id="reason-error" role="alert">A false alarm needs a reason' in no_reason.text
    )
    bad_state = admin.post(f"{base}/move", data={"to": "closed"})
    assert bad_state.status_code == 422 and 'id="to-error"' in bad_state.text
    loss = admin.post(f"{base}/loss", data={"amount": "lots", "currency": "EUR"})
    assert loss.status_code == 422 and 'id="amount-error"' in loss.text and 'value="lots"' in loss.text
    currency = admin.post(f"{base}/loss", data={"amount": "5", "currency": "EURO"})
    assert currency.status_code == 422 and 'id="currency-error"' in currency.text
    empty_note = admin.post(f"{base}/note", data={"text": "  "})
    assert empty_note.status_code == 422 and 'id="text-error"' in empty_note.text
    moved = admin.post(f"{base}/move", data={"to": "resolved", "reason": "paid at the till"})
    assert moved.status_code == 303 and moved.headers["location"] == f"{base}?notice=moved#move"
    wrong = admin.post(f"{base}/move", data={"to": "investigating"})
    assert wrong.status_code == 409 and "it can go to open, not investigating" in wrong.text
    assert admin.post(f"{base}/tags", data={"add": "police, cctv-request"}).status_code == 303
    assert admin.post(f"{base}/tags", data={"remove": "police"}).status_code == 303
    assert admin.post(f"{base}/note", data={"text": "called the police"}).status_code == 303
    assert admin.post(f"{base}/assign", data={"assignee": "bo"}).status_code == 303
    html = admin.get(f"{base}?notice=assigned").text
    assert "Assignment saved." in html and "called the police" in html and "cctv-request" in html
    assert admin.post(f"{base}/explode", data={}).status_code == 422  # unknown action


def test_incidents_list_filters_and_empty_state(admin: TestClient) -> None:
    html = admin.get("/incidents?state=open").text
    assert html.count("<tr>") == 3  # header + 2 open incidents
    empty = admin.get("/incidents?state=investigating&store=s2").text
    assert "No incidents investigating in Serrano" in empty and "Try another filter" in empty


def test_missing_things_are_a_page_not_a_traceback(admin: TestClient) -> None:
    for url in ("/incidents/" + "0" * 32, "/alerts/" + "0" * 32, "/no/such/page"):
        response = admin.get(url)
        assert response.status_code == 404 and "<h1>Not found</h1>" in response.text, url
    weird = admin.get("/incidents/%3Cscript%3E")
    assert weird.status_code == 422 and "<script>" not in weird.text


def test_a_guard_cannot_open_another_stores_pages(guard: TestClient, seeded: Seeded) -> None:
    assert guard.get(f"/incidents/{seeded.incidents['walkout']}").status_code == 404
    assert guard.get(f"/alerts/{seeded.alerts['walkout']}").status_code == 404
    assert "Gran Via" not in guard.get("/").text


def test_analytics_counts_the_users_stores_events_by_day_hour_kind_and_camera(app_client: TestClient) -> None:
    from tests.web.conftest import login
    from tests.web.seed import ADMIN, GUARD

    def stat(html: str, label: str) -> str:
        found = re.search(rf'<span class="stat-value">([^<]*)</span><span class="stat-label">{label}', html)
        assert found, label
        return found.group(1)

    page = login(app_client, ADMIN).get("/analytics").text
    assert stat(page, "behaviour events") == "4" and stat(page, "camera problems") == "2"
    assert re.search(r'title="s1/aisle-3: 2"><span class="bar-label">Aisle 3 electronics', page)
    assert 'title="loitering: 2"' in page and 'title="walk_out: 1"' in page
    only_s2 = login(app_client, ADMIN).get("/analytics?store=s2").text
    assert stat(only_s2, "behaviour events") == "1"
    app_client.post("/logout")
    guard = login(app_client, GUARD).get("/analytics").text  # stores: s2 only
    assert stat(guard, "behaviour events") == "1" and "Aisle 3" not in guard
    assert app_client.get("/analytics?store=s1").status_code == 404
    assert app_client.get("/analytics?days=0").status_code == 422
    assert app_client.get("/analytics?days=7").status_code == 200


@pytest.mark.parametrize(
    ("url", "kept"),
    [
        ("/alerts?status=waiting", '<input type="hidden" name="status" value="waiting">'),
        ("/incidents?state=open", '<input type="hidden" name="state" value="open">'),
        ("/analytics?days=30", '<input type="hidden" name="days" value="30">'),
    ],
)
def test_list_pages_filter_by_store_keeping_their_other_filters(admin: TestClient, url: str, kept: str) -> None:
    page = admin.get(url + "&store=s2").text
    form = page[page.index('<form method="get" action="' + url.split("?")[0]) :]
    form = form[: form.index("</form>")]
    assert kept in form and '<option value="s2" selected>Serrano</option>' in form
    assert '<option value="">All stores</option>' in form
