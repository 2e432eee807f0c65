"""Fixtures for the action tests: a site with schedules, real devices on 127.0.0.1 (an HTTP device, Mosquitto), a fake
audio player that records its arguments, the action log in a SQLite file and a running action service."""

from __future__ import annotations

import json
import stat
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from storewatch.actions.executor import build_executors
from storewatch.actions.service import ActionService
from storewatch.config.schema import SiteConfig
from storewatch.core.events import Event, Severity
from storewatch.core.ids import CameraId
from storewatch.runtime.bus import EventBus
from storewatch.runtime.pvm import MonitorSpec, PublicViewMonitors
from storewatch.store import open_database, upgrade
from storewatch.store.actions import ActionLogRepository, ActionRecord, ActionStatus
from tests.alerts.servers import Broker
from tests.helpers import wait_for

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
T0 = datetime(2026, 3, 2, 21, 5, tzinfo=UTC)


def site_config(actions: list[dict[str, Any]], **extra: Any) -> SiteConfig:
    """Store s1 (Berlin time) with cameras door and office (zone safe), schedules ``always`` and ``never`` (so tests
    do not depend on the time of day) and ``night`` (22:00-06:00 local), and ``actions``."""
    return SiteConfig.model_validate(
        {
            "site": {"id": "t"},
            "stores": [
                {
                    "id": "s1",
                    "timezone": "Europe/Berlin",
                    "schedule": {"schedules": {"always": {d: ["00:00-24:00"] for d in DAYS}, "never": {},
                                               "night": {d: ["22:00-06:00"] for d in DAYS}}},
                    "cameras": [
                        {"id": "door", "source": "door.mp4"},
                        {"id": "office", "source": "office.mp4",
                         "zones": [{"id": "safe", "kind": "cash_office", "polygon": [[0, 0], [1, 0], [1, 1]]}]},
                    ],
                }
            ],
            "actions": actions,
            **extra,
        }
    )  # fmt: skip


def event(type_: str = "restricted_area", camera: str = "s1/office", **fields: Any) -> Event:
    defaults: dict[str, Any] = {"severity": Severity.HIGH, "zone": "safe"}
    return Event.start(type_, CameraId(camera), T0, "person in cash-office zone safe for 2 s", **{**defaults, **fields})


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


class Device:
    """An HTTP device on 127.0.0.1 that records every request and answers ``status`` after ``delay_s``."""

    def __init__(self, status: int = 200, delay_s: float = 0.0) -> None:
        self.status, self.delay_s = status, delay_s
        self.requests: list[Request] = []
        device = self

        class Handler(BaseHTTPRequestHandler):
            def _any(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                device.requests.append(Request(self.command, self.path, dict(self.headers.items()), body))
                time.sleep(device.delay_s)  # a device that is slow to answer
                self.send_response(device.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def do_GET(self) -> None:
                self._any()

            def do_POST(self) -> None:
                self._any()

            def do_PUT(self) -> None:
                self._any()

            def log_message(self, format: str, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def device() -> Iterator[Callable[..., Device]]:
    made: list[Device] = []

    def make(status: int = 200, delay_s: float = 0.0) -> Device:
        made.append(Device(status, delay_s))
        return made[-1]

    yield make
    for d in made:
        d.stop()


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Broker]:
    b = Broker(tmp_path).start()
    yield b
    b.stop()


@dataclass(frozen=True)
class FakePlayer:
    command: Path
    calls_file: Path

    def calls(self) -> list[dict[str, Any]]:
        """Each run: ``{"args": [...], "pid": ...}``."""
        if not self.calls_file.exists():
            return []
        return [json.loads(line) for line in self.calls_file.read_text().splitlines()]


@pytest.fixture
def fake_player(tmp_path: Path) -> FakePlayer:
    """An executable that appends its arguments and pid to a file as a JSON line; ``--sleep S`` then waits S
    seconds, ``--fail`` exits 3 with a message on stderr."""
    calls = tmp_path / "player-calls.jsonl"
    script = tmp_path / "fake-player"
    script.write_text(
        f"#!{sys.executable}\n"
        "import json, os, sys, time\n"
        "args = sys.argv[1:]\n"
        f"with open({str(calls)!r}, 'a') as out:\n"
        "    out.write(json.dumps({'args': args, 'pid': os.getpid()}) + '\\n')\n"
        "if '--sleep' in args:\n"
        "    time.sleep(float(args[args.index('--sleep') + 1]))\n"
        "if '--fail' in args:\n"
        "    sys.stderr.write('cannot open audio device default\\n')\n"
        "    sys.exit(3)\n"
    )
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return FakePlayer(script, calls)


@pytest.fixture
def sound(tmp_path: Path) -> Path:
    path = tmp_path / "monitored.wav"
    path.write_bytes(b"RIFF\x24\x00\x00\x00WAVEfmt ")  # the fake player never decodes it
    return path


class Harness:
    """A running ``ActionService`` on a bus, logging to a SQLite file; ``records(action)`` reads the log."""

    def __init__(self, site: SiteConfig, db_path: Path, *, utcnow: Callable[[], datetime] | None = None,
                 **service: Any) -> None:  # fmt: skip
        self.bus = EventBus()
        self.db = open_database(f"sqlite:///{db_path}")
        upgrade(self.db)
        self.repo = ActionLogRepository(self.db)
        cams = {CameraId(f"{s.id}/{c.id}"): MonitorSpec(c.name) for s in site.stores for c in s.cameras}
        self.monitors = PublicViewMonitors(cams)
        executors = build_executors(site.actions, site.alerts, self.monitors)
        extra = {"utcnow": utcnow} if utcnow is not None else {}
        self.service = ActionService(site, self.bus, self.repo, executors, **extra, **service)
        self.service.start()

    def records(self, action: str | None = None) -> list[ActionRecord]:
        return list(reversed(self.repo.list(action=action)))  # oldest first

    def wait_records(self, action: str, n: int, timeout_s: float = 10.0) -> list[ActionRecord]:
        wait_for(lambda: len(self.records(action)) >= n, timeout_s)
        return self.records(action)

    def statuses(self, action: str) -> list[ActionStatus]:
        return [r.status for r in self.records(action)]

    def close(self) -> None:
        self.service.stop()
        self.db.close()


@pytest.fixture
def harness(tmp_path: Path) -> Iterator[Callable[..., Harness]]:
    made: list[Harness] = []

    def make(site: SiteConfig, **kwargs: Any) -> Harness:
        made.append(Harness(site, tmp_path / f"actions-{uuid.uuid4().hex[:6]}.db", **kwargs))
        return made[-1]

    yield make
    for h in made:
        h.close()
