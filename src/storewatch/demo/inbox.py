"""The demo's alert receiver: a webhook on 127.0.0.1 that prints each alert it gets.

Alerts are raised (and kept in the database, where the dashboard shows them) only for a site with an alert channel.
The demo has no phone or mail server to send to, so it sends to itself: a webhook channel added to the running site
(not to the file) whose receiver prints one line per alert, showing the delivery working end to end.
"""

from __future__ import annotations

import json
import logging
import secrets
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from storewatch.alerts.config import WebhookChannel
from storewatch.config.schema import SiteConfig

log = logging.getLogger(__name__)

CHANNEL = "demo-inbox"
MAX_BODY = 1 << 20


class AlertInbox:
    """``start()`` / ``stop()``; ``channel`` is the webhook to add; ``on_alert(message)`` is told each alert."""

    def __init__(self, on_alert: Callable[[dict[str, Any]], None]) -> None:
        self.on_alert = on_alert
        self.received = 0
        inbox = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = min(int(self.headers.get("Content-Length") or 0), MAX_BODY)
                try:
                    message = json.loads(self.rfile.read(length) or b"{}")
                except json.JSONDecodeError:
                    self.send_response(400)
                    self.end_headers()
                    return
                self.send_response(204)
                self.end_headers()
                inbox.received += 1
                try:
                    inbox.on_alert(message if isinstance(message, dict) else {})
                except Exception:  # printing must never make the sender retry
                    log.exception("demo inbox: alert not shown")

            def log_message(self, format: str, *args: Any) -> None:
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="demo-inbox", daemon=True)
        port = self._server.server_address[1]
        self.channel = WebhookChannel(name=CHANNEL, url=f"http://127.0.0.1:{port}/alerts", secret=secrets.token_hex(16))

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)

    def add_to(self, site: SiteConfig) -> SiteConfig:
        """``site`` with this inbox as its alert channel when it has none (a site with channels is left as it is)."""
        if site.alerts.channels:
            return site
        alerts = site.alerts.model_copy(update={"channels": [self.channel]})
        return site.model_copy(update={"alerts": alerts})
