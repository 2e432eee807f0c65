"""``storewatch serve`` as a real subprocess on 127.0.0.1 and a free port, for the browser and CLI tests."""

from __future__ import annotations

import socket
import ssl
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

STOREWATCH = Path(sys.executable).parent / "storewatch"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    url: str
    process: subprocess.Popen[str]
    log: Path

    def output(self) -> str:
        return self.log.read_text()


@contextmanager
def serve(data_dir: Path, *args: str, timeout_s: float = 30.0, https: bool = False) -> Iterator[Server]:
    """Start the server, wait until /healthz answers (or fail with its output), stop it at the end. ``https``: the
    server was given --tls-cert/--tls-key (its certificate is not checked: the tests make a self-signed one)."""
    port = free_port()
    log = data_dir.parent / f"serve-{port}.log"
    cmd = [str(STOREWATCH), "serve", "--data-dir", str(data_dir), "--port", str(port), *args]
    with log.open("w") as out:
        process = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, text=True)
    server = Server(f"{'https' if https else 'http'}://127.0.0.1:{port}", process, log)
    context = ssl._create_unverified_context() if https else None
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            if process.poll() is not None:
                raise AssertionError(f"storewatch serve exited with {process.returncode}:\n{server.output()}")
            try:
                with urllib.request.urlopen(f"{server.url}/healthz", timeout=1, context=context) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError(f"storewatch serve did not answer within {timeout_s} s:\n{server.output()}")
            time.sleep(0.1)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)
