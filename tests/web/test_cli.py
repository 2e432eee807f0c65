"""``storewatch serve`` and ``storewatch openapi`` as a person runs them."""

from __future__ import annotations

import json
import re
import subprocess
import urllib.error
import urllib.parse
import urllib.request
from http.cookiejar import CookieJar
from pathlib import Path

from tests.web.server import STOREWATCH, serve


def test_openapi_tags_the_operations_that_need_no_login_public() -> None:
    result = subprocess.run([str(STOREWATCH), "openapi"], capture_output=True, text=True, timeout=60, check=True)
    document = json.loads(result.stdout)
    operations = {(path, method): op for path, item in document["paths"].items() for method, op in item.items()}
    public = sorted(k for k, op in operations.items() if "public" in op["tags"])
    assert public == [
        ("/api/v1/access/events", "post"),
        ("/api/v1/pos/transactions", "post"),
        ("/healthz", "get"),
        ("/login", "get"),
        ("/login", "post"),
    ]
    assert all(op.get("tags") for op in operations.values())
    assert ("/api/v1/alerts/{alert_id}/acknowledge", "post") in operations


def test_serve_on_a_new_data_folder_makes_the_first_admin_with_a_password_shown_once(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    with serve(data_dir) as server:
        found = re.search(r"created the first user: admin, password (\S+)", server.output())
        assert found, server.output()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))
        with opener.open(f"{server.url}/login", timeout=10) as page:  # the form's CSRF token and its cookie
            token = re.search(r'name="csrf_token" value="([^"]+)"', page.read().decode())
        assert token is not None
        body = urllib.parse.urlencode({"username": "admin", "password": found.group(1), "csrf_token": token.group(1)})
        with opener.open(f"{server.url}/login", body.encode(), timeout=10) as response:  # follows the redirect to /
            assert response.status == 200 and "Overview" in response.read().decode()
        with opener.open(f"{server.url}/api/v1/me", timeout=10) as response:
            assert json.load(response)["username"] == "admin"
    with serve(data_dir) as again:
        assert "created the first user" not in again.output()


def test_serve_on_a_busy_port_says_so(tmp_path: Path) -> None:
    with serve(tmp_path / "data") as server:
        port = server.url.rsplit(":", 1)[1]
        result = subprocess.run(
            [str(STOREWATCH), "serve", "--data-dir", str(tmp_path / "other"), "--port", port],
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert result.returncode == 2
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr and "Traceback" not in result.stderr


def test_serve_refuses_an_unknown_time_zone(tmp_path: Path) -> None:
    result = subprocess.run(
        [str(STOREWATCH), "serve", "--data-dir", str(tmp_path), "--timezone", "Mars/Olympus"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2 and "not an IANA time zone" in result.stderr
