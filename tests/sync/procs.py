"""Processes of the sync tests: a NATS server and the product's commands, each with its output in a log file."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


class Proc:
    """A process of the test: its output in a log file, stopped with SIGTERM (then killed) by its fixture."""

    def __init__(self, name: str, args: list[str], log_dir: Path, env: dict[str, str] | None = None) -> None:
        self.name, self.args, self.log = name, args, log_dir / f"{name}.log"
        self.env = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
        self.popen: subprocess.Popen[bytes] | None = None

    def start(self) -> Proc:
        out = self.log.open("ab")
        self.popen = subprocess.Popen(self.args, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT, env=self.env)
        out.close()
        return self

    def stop(self, timeout_s: float = 20.0) -> int | None:
        if self.popen is None or self.popen.poll() is not None:
            return None if self.popen is None else self.popen.returncode
        self.popen.send_signal(signal.SIGTERM)
        try:
            return self.popen.wait(timeout_s)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            return self.popen.wait(5)

    @property
    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


class NatsServer(Proc):
    """nats-server with JetStream, file storage in ``store_dir``; stop and start again on the same port and data."""

    def __init__(self, binary: str, root: Path) -> None:
        self.port = free_port()
        super().__init__("nats", [binary, "-a", "127.0.0.1", "-p", str(self.port), "-js", "-sd", str(root / "js")],
                         root)  # fmt: skip

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    def start(self) -> NatsServer:
        super().start()
        deadline = time.monotonic() + 15
        while not _listening(self.port):
            if not self.alive or time.monotonic() > deadline:
                raise AssertionError(f"nats-server did not start:\n{self.output()}")
            time.sleep(0.05)
        return self
