"""``storewatch demo`` as a person runs it: one process with the sample camera, the real detector, default zones and
rules, and the dashboard; the printed password logs in, alerts appear, the camera view is live, a zone saved in the
editor reaches the running camera, and Ctrl-C stops everything cleanly. Needs the models (``make setup``) and the
sample video (``../shared``); skips naming what is missing."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.cookiejar import CookieJar
from pathlib import Path
from typing import Any

import pytest

from storewatch.config.loader import load_site_config
from tests.web.server import STOREWATCH, free_port

START_S = 120.0
ALERT_S = 120.0


@dataclass
class Demo:
    url: str
    process: subprocess.Popen[str]
    log: Path

    def output(self) -> str:
        return self.log.read_text()


def _need_models() -> None:
    from storewatch.analysis.tracking import open_detector
    from storewatch.detect.config import DetectorConfig
    from storewatch.errors import ModelError

    try:
        open_detector(DetectorConfig())
    except ModelError as exc:
        pytest.skip(f"the demo needs the models: {exc}")


@contextmanager
def _demo(data_dir: Path, video: Path) -> Iterator[Demo]:
    port = free_port()
    log = data_dir.parent / f"demo-{port}.log"
    cmd = [str(STOREWATCH), "demo", "--data-dir", str(data_dir), "--port", str(port), "--video", str(video)]
    with log.open("w") as out:
        process = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, text=True)
    demo = Demo(f"http://127.0.0.1:{port}", process, log)
    try:
        deadline = time.monotonic() + START_S
        while "dashboard at" not in demo.output():
            assert process.poll() is None, f"storewatch demo exited with {process.returncode}:\n{demo.output()}"
            assert time.monotonic() < deadline, f"storewatch demo did not start within {START_S} s:\n{demo.output()}"
            time.sleep(0.2)
        yield demo
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)  # Ctrl-C
            try:
                process.wait(60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(5)


def _client() -> urllib.request.OpenerDirector:
    return urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))


def _json(
    opener: urllib.request.OpenerDirector, url: str, body: Any = None, method: str = "GET", csrf: str = ""
) -> Any:
    data = None if body is None else json.dumps(body).encode()
    headers = {"Content-Type": "application/json", "X-CSRF-Token": csrf}  # as zones.js sends it
    request = urllib.request.Request(url, data, headers, method=method)
    with opener.open(request, timeout=30) as response:
        return json.load(response)


@pytest.mark.models
@pytest.mark.shared
def test_demo_runs_the_store_with_its_dashboard_and_stops_cleanly(tmp_path: Path, pets_video: Path) -> None:
    _need_models()
    data_dir = tmp_path / "demo"
    with _demo(data_dir, pets_video) as demo:
        found = re.search(r"log in as admin, password (\S+)", demo.output())
        assert found, demo.output()
        opener = _client()
        with opener.open(f"{demo.url}/login", timeout=30) as form:  # sets the pre-session cookie the token is for
            token = re.search(r'name="csrf_token" value="([^"]+)"', form.read().decode())
        assert token, "the login form carries no CSRF token"
        fields = {"username": "admin", "password": found.group(1), "csrf_token": token.group(1)}
        login = urllib.parse.urlencode(fields).encode()
        with opener.open(f"{demo.url}/login", login, timeout=30) as response:
            page = response.read().decode()
            assert response.status == 200 and "Overview" in page
        csrf = re.search(r'<meta name="csrf-token" content="([^"]+)">', page)
        assert csrf, page

        deadline = time.monotonic() + ALERT_S
        while not (alerts := _json(opener, f"{demo.url}/api/v1/alerts")):
            assert time.monotonic() < deadline, f"no alert within {ALERT_S} s:\n{demo.output()}"
            time.sleep(1.0)
        assert alerts[0]["camera"] == "shop/floor" and alerts[0]["status"] == "waiting"
        while " alert " not in demo.output():  # the demo's inbox got it too, and printed it
            assert time.monotonic() < deadline, demo.output()
            time.sleep(0.2)

        view = _json(opener, f"{demo.url}/api/v1/cameras/shop/floor/live")
        assert view["mode"] == "live" and [z["id"] for z in view["zones"]] == ["phones", "stock-room"]
        with opener.open(f"{demo.url}{view['frame_url']}", timeout=30) as response:
            assert response.headers["Content-Type"] == "image/jpeg" and response.read(2) == b"\xff\xd8"

        geometry = _json(opener, f"{demo.url}/api/v1/cameras/shop/floor/geometry")
        zones = [{"was": z["id"], "data": z} for z in geometry["zones"]]
        new = {"id": "tills", "name": "Tills", "kind": "checkout", "polygon": [[0.05, 0.7], [0.3, 0.7], [0.3, 0.95]]}
        zones.append({"was": None, "data": new})
        lines = [{"was": ln["id"], "data": ln} for ln in geometry["lines"]]
        body = {"version": geometry["version"], "zones": zones, "lines": lines}
        saved = _json(opener, f"{demo.url}/api/v1/cameras/shop/floor/geometry", body, "PUT", csrf.group(1))
        assert saved["applied_live"] is True, saved
        site = load_site_config(data_dir / "site.yaml")
        assert [z.id for z in site.stores[0].cameras[0].zones] == ["phones", "stock-room", "tills"]
        assert (data_dir / saved["backup"]).exists()
        time.sleep(1.0)  # a few detections with the new zones: the rebuilt engine must not fail
    assert demo.process.returncode == 0, demo.output()
    assert demo.output().rstrip().endswith("stopped") and "Traceback" not in demo.output(), demo.output()

    with _demo(data_dir, pets_video) as again:  # the next run keeps the site file and the account
        assert "made on the first run" in again.output() and "password" not in again.output().split("made on")[0]
    assert again.process.returncode == 0, again.output()
    assert [z.id for z in load_site_config(data_dir / "site.yaml").stores[0].cameras[0].zones][-1] == "tills"


def test_demo_without_its_video_says_what_to_give(tmp_path: Path) -> None:
    result = subprocess.run(
        [str(STOREWATCH), "demo", "--data-dir", str(tmp_path / "d"), "--video", str(tmp_path / "missing.avi")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2, result
    assert "missing.avi is not here" in result.stderr and "--video PATH-or-URL" in result.stderr
    assert "Traceback" not in result.stderr and not (tmp_path / "d" / "site.yaml").exists()
