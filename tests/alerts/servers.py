"""Real servers on 127.0.0.1 for the alert tests: a recording HTTP receiver and a Mosquitto broker."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

MOSQUITTO = Path("/usr/sbin/mosquitto")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_port(port: int, timeout_s: float = 5.0) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise AssertionError(f"nothing listens on 127.0.0.1:{port} after {timeout_s}s") from None
            time.sleep(0.02)


@dataclass(frozen=True)
class Recorded:
    path: str
    headers: dict[str, str]
    body: bytes


class Receiver:
    """An HTTP server that records each POST and answers with ``respond(request)`` (a status code, or a status and
    extra headers). It can be stopped and started again on the same port, like a receiver that restarts."""

    def __init__(self, respond: Callable[[Recorded], int | tuple[int, dict[str, str]]] = lambda r: 200) -> None:
        self.port = free_port()
        self.respond = respond
        self.requests: list[Recorded] = []
        self._server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                rec = Recorded(self.path, dict(self.headers.items()), body)
                receiver.requests.append(rec)
                answer = receiver.respond(rec)
                status, extra = answer if isinstance(answer, tuple) else (answer, {})
                self.send_response(status)
                for k, v in extra.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, format: str, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self._server.serve_forever, args=(0.05,), name="test-receiver", daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


def require_mosquitto() -> Path:
    """The broker binary; skip naming the Debian package (or, as root, fail: the set-up should have installed it)."""
    if MOSQUITTO.exists():
        return MOSQUITTO
    message = "the MQTT tests need the Debian package mosquitto (tools/system-packages.sh installs it)"
    if os.geteuid() == 0:
        pytest.fail(f"{message}; as root, run tools/system-packages.sh", pytrace=False)
    pytest.skip(message)


class Broker:
    """Mosquitto on 127.0.0.1:<port>; ``start()`` / ``stop()`` keep the port, like a broker restarting."""

    def __init__(self, workdir: Path, *, anonymous: bool = True) -> None:
        self.binary = require_mosquitto()
        self.port = free_port()
        self.conf = workdir / f"mosquitto-{self.port}.conf"
        self.conf.write_text(
            f"listener {self.port} 127.0.0.1\nallow_anonymous {'true' if anonymous else 'false'}\n"
            "persistence false\nlog_dest stderr\n"
        )
        self.log = workdir / f"mosquitto-{self.port}.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> Broker:
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen([str(self.binary), "-c", str(self.conf)], stdout=log, stderr=log)
        try:
            wait_port(self.port)
        except AssertionError:
            self.stop()
            raise AssertionError(f"mosquitto did not start: {self.log.read_text()[-2000:]}") from None
        return self

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
            self.proc = None


def make_certificate(workdir: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (cert, key), made with the openssl command; skips without it."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("the STARTTLS test needs the `openssl` command to make a certificate (Debian package openssl)")
    cert, key = workdir / "cert.pem", workdir / "key.pem"
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    return cert, key
