"""Secrets (passwords, API tokens, the site's webhook and SMTP keys) never appear in the logs (every logger, at
DEBUG), in the audit log, or in any page or API answer, except the one "shown once" answer that hands them out."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from httpx import Response

from storewatch.store.db import default_url, open_database
from storewatch.web import create_app
from tests.web.conftest import login, login_form, settings_for
from tests.web.seed import ADMIN, GUARD, Seeded

WEBHOOK_SECRET = "hook-key-7f3a9c2e41d05b68"
SMTP_PASSWORD = "smtp-pass-Q4v8Lm2x"
TYPED_PASSWORD = "typed-pass-Kx81-long"
WRONG_PASSWORD = "wrong-pass-Zq9-nope"
CHANNELS = f"""\
alerts:
  channels:
    - {{name: hook, kind: webhook, url: "http://127.0.0.1:9/hook", secret: "{WEBHOOK_SECRET}"}}
    - {{name: mail, kind: email, host: 127.0.0.1, username: ops, password: "{SMTP_PASSWORD}",
       from_addr: sw@example.com, to: [lp@example.com]}}
"""


@pytest.fixture
def client(seeded: Seeded) -> Iterator[TestClient]:
    site = seeded.data_dir / "site.yaml"
    site.write_text(site.read_text() + CHANNELS)
    with TestClient(create_app(settings_for(seeded.data_dir)), follow_redirects=False) as client:
        yield client


def _every_get(client: TestClient, seeded: Seeded) -> list[Response]:
    """Every GET operation, path parameters filled with the seeded ids (live streams left out)."""
    fill = {
        "alert_id": seeded.alerts["walkout"],
        "incident_id": seeded.incidents["walkout"],
        "event_id": seeded.events["walkout"].id,
        "camera_id": str(seeded.events["walkout"].camera),
        "store_id": "s1",
    }
    answers = []
    for path, item in client.app.openapi()["paths"].items():  # type: ignore[attr-defined]
        if "get" not in item or "stream" in path or "{key" in path:
            continue
        url = re.sub(r"\{(\w+)(:path)?\}", lambda m: fill.get(m.group(1), "x"), path)
        answers.append(client.get(url))
    return answers


def test_secrets_never_leak_into_logs_audit_or_answers(
    client: TestClient, seeded: Seeded, caplog: pytest.LogCaptureFixture
) -> None:
    shown_once: list[Response] = []  # the only answers allowed to carry a new secret
    seen: list[Response] = []
    with caplog.at_level(logging.DEBUG):
        seen.append(login_form(client, {"username": GUARD[0], "password": WRONG_PASSWORD}))
        seen.append(login_form(client, {"username": "nobody", "password": WRONG_PASSWORD}))
        login(client, ADMIN)
        typed = client.post(
            "/users",
            data={"username": "cy", "role": "guard", "stores": ["s1"], "password_mode": "typed",
                  "password": TYPED_PASSWORD},
        )  # fmt: skip
        made = client.post("/users", data={"username": "di", "role": "guard", "stores": ["s2"]})
        token_page = client.post("/tokens", data={"name": "tickets", "capabilities": ["alerts.view"], "stores": ["s2"]})
        assert typed.status_code in (200, 303), typed.text[-500:]
        seen.append(typed)  # a typed password is not shown back
        shown_once += [made, token_page]
        random_password = re.search(r'id="secret" class="secret" value="([^"]+)"', made.text)
        token = re.search(r'value="(swt_[^"]+)"', token_page.text)
        assert random_password and token, (made.text[-500:], token_page.text[-500:])
        api = TestClient(client.app, headers={"Authorization": f"Bearer {token.group(1)}"}, follow_redirects=False)
        seen += [api.get("/api/v1/me"), api.get("/api/v1/alerts"), api.get("/alerts")]
        seen.append(client.get("/api/v1/alerts", headers={"Authorization": f"Bearer {token.group(1)}x"}))
        fresh = TestClient(client.app, follow_redirects=False)
        login(fresh, ("di", random_password.group(1)))
        login(TestClient(client.app, follow_redirects=False), ("cy", TYPED_PASSWORD))
        seen += _every_get(client, seeded) + _every_get(login(client, GUARD), seeded)
    secrets = {
        "webhook secret": WEBHOOK_SECRET,
        "SMTP password": SMTP_PASSWORD,
        "typed password": TYPED_PASSWORD,
        "wrong password": WRONG_PASSWORD,
        "admin password": ADMIN[1],
        "guard password": GUARD[1],
        "random password": random_password.group(1),
        "API token": token.group(1),
    }
    assert len(seen) > 30 and any(r.status_code == 200 and "Settings" in r.text for r in seen)
    logged = "\n".join(f"{r.name} {r.getMessage()} {r.exc_text or ''}" for r in caplog.records)
    with open_database(default_url(seeded.data_dir)) as db, db.engine.connect() as conn:
        audit = str(conn.exec_driver_sql("SELECT * FROM audit_log").fetchall())
        tokens = str(conn.exec_driver_sql("SELECT * FROM api_tokens").fetchall())
        users = str(conn.exec_driver_sql("SELECT * FROM users").fetchall())
    assert "tickets" in tokens and "cy" in users and "login" in audit  # the places looked at are the right ones
    for what, value in secrets.items():
        assert value not in logged, f"the {what} is in the logs"
        assert value not in audit + tokens + users, f"the {what} is stored in clear"
        for response in seen:
            where = f"{response.request.method} {response.request.url.path}"
            assert value not in response.text, f"the {what} is in the answer to {where}"
            assert value not in str(response.headers), f"the {what} is in the headers of {where}"
    # Shown once: each new secret on its own page only, never cached.
    assert random_password.group(1) in made.text and token.group(1) in token_page.text
    assert all(r.headers["cache-control"] == "no-store" for r in shown_once)
    assert token.group(1) not in made.text and random_password.group(1) not in token_page.text
