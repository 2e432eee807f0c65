"""The demo's one process: the site's cameras (``SiteRunner``) and the dashboard (uvicorn in a thread) side by side.

The dashboard reads the same database the runner writes, shows each camera's live frame with its tracks (through
``web.runner_view.RunnerCameras``), and when an editor saves the site file the runner takes the new zones, lines
and rule settings at once (``SiteRunner.reconfigure``). Stopping ends the dashboard first (its live streams close
within the graceful timeout), then the runner (open events end, clips are written), then the alert inbox.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from storewatch.config.schema import SiteConfig
from storewatch.demo.inbox import AlertInbox
from storewatch.detect.gated import WindowDetector
from storewatch.errors import StorewatchError

log = logging.getLogger(__name__)

START_TIMEOUT_S = 60.0


@dataclass
class DemoRun:
    """``start()`` then ``stop()``; ``password`` is set when this run made the first administrator."""

    site: SiteConfig
    site_path: Path
    data_dir: Path
    detector: WindowDetector
    sock: socket.socket
    on_alert: Callable[[dict[str, Any]], None]
    password: str | None = None
    _threads: list[threading.Thread] = field(default_factory=list)

    def start(self) -> None:
        import uvicorn

        from storewatch.runtime.runner import SiteRunner
        from storewatch.web import WebSettings, create_app
        from storewatch.web.runner_view import RunnerCameras

        self.inbox = AlertInbox(self.on_alert)
        self.inbox.start()
        self.runner = SiteRunner(self.inbox.add_to(self.site), self.detector, data_dir=self.data_dir, status_port=0)
        cameras = RunnerCameras(self.runner)  # before start: it taps the detector's results
        settings = WebSettings(
            data_dir=self.data_dir,
            database_url=self.site.runtime.database_url,
            site=self.site,
            site_path=self.site_path,
        )
        app = create_app(settings, live=cameras, on_site_saved=self._apply, on_first_admin=self._first_admin)
        self.runner.start()
        self.server = uvicorn.Server(uvicorn.Config(app, log_level="warning", timeout_graceful_shutdown=3))
        thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, name="web", daemon=True)
        thread.start()
        self._threads.append(thread)
        deadline = time.monotonic() + START_TIMEOUT_S
        while not self.server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise StorewatchError("the dashboard did not start (see the messages above)")
            time.sleep(0.05)

    @property
    def alive(self) -> bool:
        return all(t.is_alive() for t in self._threads)

    def stop(self) -> None:
        server = getattr(self, "server", None)
        if server is not None:
            server.should_exit = True
        for thread in self._threads:
            thread.join(10)
        runner = getattr(self, "runner", None)
        if runner is not None:
            runner.stop()
        inbox = getattr(self, "inbox", None)
        if inbox is not None:
            inbox.stop()

    def _apply(self, site: SiteConfig) -> None:
        """A save in the dashboard: the runner takes it live (with the inbox kept as its alert channel)."""
        self.runner.reconfigure(self.inbox.add_to(site))

    def _first_admin(self, name: str, password: str) -> None:
        self.password = password
