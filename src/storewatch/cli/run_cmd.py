"""``storewatch run SITE.yaml``: run a site's cameras live until interrupted (or for ``--seconds``)."""

from __future__ import annotations

import queue
import signal
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import typer
from rich.console import Console

from storewatch.cli.options import BackendOpt, DataDirOpt, RunSecondsOpt, SiteArg, StatusPortOpt, ThreadsOpt

if TYPE_CHECKING:
    from storewatch.config.schema import SiteConfig
    from storewatch.detect.config import BackendKind
    from storewatch.runtime.runner import SiteRunner


def register(app: typer.Typer) -> None:
    app.command("run")(run)


def run(
    config: SiteArg,
    data_dir: DataDirOpt = None,
    status_port: StatusPortOpt = None,
    seconds: RunSecondsOpt = None,
    backend: BackendOpt = None,
    threads: ThreadsOpt = None,
) -> None:
    """Capture every enabled camera, detect and track people, watch for tampering and offline cameras, keep
    event snapshots and clips, record if asked, and serve the status at /metrics and /status."""
    run_site(config, data_dir=data_dir, status_port=status_port, seconds=seconds, backend=backend, threads=threads)


class RunHooks(Protocol):
    """What a command built on ``storewatch run`` adds around the runner (``storewatch edge``: hub sync)."""

    def site(self, site: SiteConfig) -> SiteConfig:
        """The site to run, from the one the file describes."""
        ...

    def before_start(self, runner: SiteRunner) -> None: ...

    def after_start(self, runner: SiteRunner) -> None: ...

    def after_stop(self, runner: SiteRunner) -> None: ...

    def describe(self) -> str:
        """One line for the start-up message."""
        ...


def run_site(
    config: Path,
    *,
    data_dir: Path | None,
    status_port: int | None,
    seconds: float | None,
    backend: BackendKind | None = None,
    threads: int | None = None,
    hooks: RunHooks | None = None,
    name: str = "run",
) -> None:
    """Run the site of ``config`` until SIGTERM, Ctrl-C or ``seconds``, printing its events."""
    from storewatch.analysis.tracking import open_detector
    from storewatch.config.loader import load_site_config
    from storewatch.runtime.runner import SiteRunner

    console = Console(stderr=True)
    site = load_site_config(config)
    if hooks is not None:
        site = hooks.site(site)
    det_cfg = site.detector.model_copy(
        update={k: v for k, v in (("backend", backend), ("threads", threads)) if v is not None}
    )
    runner = SiteRunner(site, open_detector(det_cfg), data_dir=data_dir, status_port=status_port)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    if hooks is not None:
        hooks.before_start(runner)
    runner.start()
    if hooks is not None:
        hooks.after_start(runner)
    inbox = runner.bus.subscribe("console", maxsize=1000)
    console.print(
        f"[bold]storewatch {name}[/]: {site.summary()}; {len(runner.cameras)} camera(s) running; "
        f"status at {runner.status.url}/status and /metrics; data in {runner.data_dir}"
        + (f"; {hooks.describe()}" if hooks is not None else "")
    )
    deadline = None if seconds is None else time.monotonic() + seconds
    try:
        while not stop.is_set() and (deadline is None or time.monotonic() < deadline):
            try:
                event = inbox.get(timeout=0.5)
            except queue.Empty:
                continue
            console.print(f"{event.start_utc:%H:%M:%S} [bold]{event.type}[/] {event.state.value} {event.camera}: "
                          f"{event.explanation}")  # fmt: skip
    except KeyboardInterrupt:
        pass
    finally:
        console.print("stopping ...")
        runner.stop()
        if hooks is not None:
            hooks.after_stop(runner)
