"""The demo's one process: the site's cameras (``SiteRunner``) and the dashboard (uvicorn in a thread) side by side.

The dashboard reads the same database the runner writes, shows each camera's live frame with its tracks (through
``web.runner_view.RunnerCameras``), and when an editor saves the site file the runner takes the new zones, lines
and rule settings at once (``SiteRunner.reconfigure``). Stopping ends the dashboard first (its live streams close
within the graceful timeout), then the runner (open events end, clips are written), then the alert inbox.
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Callable
from dataclasses import dataclass
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

    def start(self) -> None:
        from storewatch.runtime.runner import SiteRunner
        from storewatch.web import WebSettings, create_app
        from storewatch.web.background import WebServerThread
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
        self.web = WebServerThread(app, self.sock)
        try:
            self.web.start(START_TIMEOUT_S)
        except (RuntimeError, TimeoutError) as exc:
            self.stop()
            raise StorewatchError(f"the dashboard did not start ({exc}; see the messages above)") from exc

    @property
    def alive(self) -> bool:
        web = getattr(self, "web", None)
        return web is not None and web.alive

    def stop(self) -> None:
        web = getattr(self, "web", None)
        if web is not None:
            web.stop()
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
