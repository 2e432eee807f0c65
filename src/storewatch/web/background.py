"""The web application on a thread of another command's process (``storewatch hub --web-port``, ``storewatch
demo``), and the listening socket every command that serves it binds first.

uvicorn runs its own event loop on the thread, on a socket the caller bound (so a port in use is the caller's
clear message); signals stay with the main thread, which calls ``stop``: open live streams end within
``grace_s``.
"""

from __future__ import annotations

import socket
import threading
import time

import uvicorn
from fastapi import FastAPI

from storewatch.errors import StorewatchError


class WebServerThread:
    def __init__(self, app: FastAPI, sock: socket.socket, *, grace_s: float = 3.0) -> None:
        self.sock = sock
        config = uvicorn.Config(app, log_level="warning", timeout_graceful_shutdown=int(grace_s))
        self.server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._run, name="web", daemon=True)
        self._failed: BaseException | None = None

    @property
    def url(self) -> str:
        host, port = self.sock.getsockname()[:2]
        return f"http://{host}:{port}/"

    def start(self, timeout_s: float = 30.0) -> None:
        """Start serving; returns once the app's start-up (database, first user, live feed) is done."""
        self._thread.start()
        deadline = time.monotonic() + timeout_s
        while not self.server.started:
            if self._failed is not None or not self._thread.is_alive():
                raise RuntimeError(f"the web server did not start: {self._failed!r}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"the web server did not start within {timeout_s} s")
            time.sleep(0.05)

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def stop(self, timeout_s: float = 10.0) -> None:
        self.server.should_exit = True
        self._thread.join(timeout_s)
        self.sock.close()

    def _run(self) -> None:
        try:
            self.server.run(sockets=[self.sock])
        except BaseException as exc:  # reported by start(); the hub's ingest goes on without the dashboard
            self._failed = exc


def listen(host: str, port: int) -> socket.socket:
    """The listening socket, made here so a port in use is a clear message, not a server's traceback."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise StorewatchError(
            f"cannot listen on {host}:{port}: {exc.strerror or exc}", fix="choose another --port or --host"
        ) from exc
    sock.listen(128)
    return sock
