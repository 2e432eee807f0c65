"""The dashboard under load: N concurrent clients with live feeds while M cameras run (``storewatch bench dashboard``).

Three processes, as a site is deployed: ``storewatch run`` (M cameras replaying the sample video at real time with
the real detector, plus the blinking camera of ``bench alerts``, whose darkening raises a tampering event every
seven seconds with its alert and incident), ``storewatch serve`` on the same data folder (its live feed polls the
database), and this one, whose clients (``load_clients.DashboardLoad``) log in, hold their live feeds and browse.
The server has its own process and interpreter, so nothing of the clients or cameras shares its GIL; they do share
the machine's cores, as they would on a store's small box (clients on phones elsewhere would cost it less).

After ``seconds`` the cameras stop, every client's feed is given time to bring what was raised last, and what each
client saw is compared with the database. The figures: latency p50/p95/max per kind of request and overall
(logins apart), errors, live events raised and missed per client, feed delivery delay, each camera's detection
rate over the window (the cameras kept up), and the CPU used by each process.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import or_, select

from storewatch.bench.alerts import HookReceiver, bench_site
from storewatch.bench.load_clients import DashboardLoad, Expected
from storewatch.config.schema import SiteConfig
from storewatch.store.db import Database, default_url, open_database
from storewatch.store.migrate import upgrade
from storewatch.store.models import AlertRow, EventRow
from storewatch.web.auth import hash_password
from storewatch.web.users import Role, UserRepository

TARGET_P95_MS = 300.0
WARM_UP_S = 5.0


class _Process:
    """A storewatch command as a child process, its output in a log file."""

    def __init__(self, name: str, args: list[str], log_dir: Path, nice: int = 0) -> None:
        self.name, self.log = name, log_dir / f"{name}.log"
        with self.log.open("wb") as out:
            self.popen = subprocess.Popen([sys.executable, "-m", "storewatch", *args], stdout=out,
                                          stderr=subprocess.STDOUT, preexec_fn=_niced(nice))  # fmt: skip

    def cpu_s(self) -> float:
        """CPU time (user and system) the process used so far (Linux /proc)."""
        fields = Path(f"/proc/{self.popen.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def wait_for(self, url: str, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while True:
            if self.popen.poll() is not None:
                raise RuntimeError(f"storewatch {self.name} exited with {self.popen.returncode}:\n{self.output()}")
            try:
                with urllib.request.urlopen(url, timeout=1) as response:
                    if response.status == 200:
                        return
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"storewatch {self.name} did not answer within {timeout_s} s:\n{self.output()}")
            time.sleep(0.2)

    def stop(self, timeout_s: float = 30.0) -> None:
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout_s)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(5)

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-4000:]


def make_users(db: Database, count: int) -> list[tuple[str, str]]:
    """``count`` dashboard users of every store (one per client: each has its own session and custody trail),
    with one password (hashed once: argon2 is slow on purpose)."""
    repo, password = UserRepository(db), secrets.token_urlsafe(12)
    hashed = hash_password(password)
    for i in range(count):
        repo.create(f"bench-{i + 1}", hashed, Role.GUARD, ["*"])
    return [(f"bench-{i + 1}", password) for i in range(count)]


def raised(db: Database, since: datetime | None = None) -> Expected:
    """Every event (its newest change) and alert (its status) in the database; with ``since``, those written or
    changed since then (a live feed publishes what changes while it runs)."""
    events_q = select(EventRow.id, EventRow.updated_utc)
    alerts_q = select(AlertRow.id, AlertRow.status)
    if since is not None:
        events_q = events_q.where(EventRow.updated_utc >= since)
        alerts_q = alerts_q.where(
            or_(AlertRow.raised_utc >= since, AlertRow.last_sent_utc >= since, AlertRow.acknowledged_utc >= since)
        )
    with db.session() as session:
        events = {i: _utc(t) for i, t in session.execute(events_q)}
        alerts = {i: s.value for i, s in session.execute(alerts_q)}
    return Expected(events, alerts)


def detected_frames(status_url: str) -> dict[str, int]:
    with urllib.request.urlopen(status_url, timeout=5) as response:
        status = json.loads(response.read())
    return {c["camera"]: int(c["frames_detected"]) for c in status["cameras"]}


def run_dashboard_benchmark(
    video: Path,
    cameras: int,
    clients: int,
    seconds: float,
    work_dir: Path,
    think_s: tuple[float, float] = (2.0, 4.0),
    run_nice: int = 0,
) -> dict[str, Any]:
    """``run_nice``: the niceness `storewatch run` gets (0: as started; 10: the cameras yield the CPU to the
    dashboard when both want it)."""
    load_before = os.getloadavg()[0]  # other work on the machine skews every figure: said in the result
    receiver = HookReceiver()
    site = bench_site(video, cameras, work_dir, receiver.url)
    site["incidents"] = {"exclude": ["alert_*"], "window_s": 0}  # each tampering opens an incident to look at
    SiteConfig.model_validate(site)  # a mistake here is this benchmark's, said before anything starts
    site_file = work_dir / "site.yaml"
    site_file.write_text(yaml.safe_dump(site))
    data_dir = work_dir / "data"
    data_dir.mkdir(parents=True, exist_ok=True)
    db = open_database(default_url(data_dir))
    upgrade(db)
    users = make_users(db, clients)
    web_port, status_port = _free_port(), _free_port()
    serve = _Process("serve", ["serve", "--data-dir", str(data_dir), "--config", str(site_file),
                               "--port", str(web_port)], work_dir)  # fmt: skip
    run: _Process | None = None
    try:
        serve.wait_for(f"http://127.0.0.1:{web_port}/healthz", 60)
        run = _Process("run", ["run", str(site_file), "--data-dir", str(data_dir),
                               "--status-port", str(status_port)], work_dir, nice=run_nice)  # fmt: skip
        status_url = f"http://127.0.0.1:{status_port}/status"
        run.wait_for(status_url, 120)
        time.sleep(WARM_UP_S)
        result = asyncio.run(_measure(f"http://127.0.0.1:{web_port}", users, clients, seconds, think_s, db, run,
                                      serve, status_url))  # fmt: skip
    finally:
        for proc in (run, serve):
            if proc is not None:
                proc.stop()
        receiver.close()
        db.close()
    return {
        "clients": clients,
        "cameras": cameras,
        "seconds": seconds,
        "think_s": list(think_s),
        "run_nice": run_nice,
        **result,
        "target": {"p95_ms": TARGET_P95_MS, "met": _met(result)},
        "machine": {"cpus": os.cpu_count(), "load_avg_1m_before": round(load_before, 2)},
    }


async def _measure(
    url: str,
    users: list[tuple[str, str]],
    clients: int,
    seconds: float,
    think_s: tuple[float, float],
    db: Database,
    run: _Process,
    serve: _Process,
    status_url: str,
) -> dict[str, Any]:
    load = DashboardLoad(url, users, clients, think_s=think_s)
    try:
        await load.start()
        frames0, cpu0 = detected_frames(status_url), (run.cpu_s(), serve.cpu_s(), time.process_time())
        started = time.monotonic()
        await load.drive(seconds)
        elapsed = time.monotonic() - started
        frames1, cpu1 = detected_frames(status_url), (run.cpu_s(), serve.cpu_s(), time.process_time())
        await asyncio.to_thread(run.stop)  # the cameras stop: what they raised last must still reach everyone
        expected, settle_s = await load.settle(lambda: raised(db))
        result = load.report(expected)
    finally:
        await load.close()
    fps = {c: round((frames1[c] - frames0.get(c, 0)) / elapsed, 2) for c in frames1 if not c.endswith("/blink")}
    result["live"]["settle_s"] = round(settle_s, 2)
    result["per_camera_detect_fps"] = list(fps.values())
    result["cpu_percent_of_one_core"] = {
        name: round(100.0 * (b - a) / elapsed, 1)
        for name, a, b in zip(("run", "serve", "clients"), cpu0, cpu1, strict=True)
    }
    return result


def _niced(nice: int) -> Any:
    """What the child runs before the command: lower its priority by ``nice`` (None: nothing)."""
    return None if nice == 0 else lambda: os.nice(nice)


def _met(result: dict[str, Any]) -> bool:
    """p95 under the target, no dropped live events, no errors."""
    p95 = result["overall"]["p95_ms"]
    live, errors = result["live"]["missed_total"], result["overall"]["errors"]
    return p95 is not None and p95 < TARGET_P95_MS and live == 0 and errors == 0


def _utc(t: datetime) -> datetime:
    return t if t.tzinfo is not None else t.replace(tzinfo=UTC)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
