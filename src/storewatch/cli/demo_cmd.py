"""``storewatch demo``: the whole store demo in one process: the sample camera with default zones and rules, the
dashboard on 127.0.0.1:8080, a first administrator whose password is printed once."""

from __future__ import annotations

import signal
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from storewatch.cli.options import BackendOpt, ThreadsOpt
from storewatch.errors import StorewatchError

SAMPLE = Path("../shared/data/pets09-s2l1/vtest.avi")
"""The sample camera, relative to the project root (``make demo`` runs there; ``VIDEO=...`` or --video: another)."""


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)


def demo(
    video: Annotated[
        str | None,
        typer.Option(help=f"Video file or stream URL for the demo camera (default: the sample, {SAMPLE})."),
    ] = None,
    port: Annotated[int, typer.Option(min=0, max=65535, help="Port of the dashboard.")] = 8080,
    host: Annotated[str, typer.Option(help="Address of the dashboard (127.0.0.1: this machine only).")] = "127.0.0.1",
    data_dir: Annotated[
        Path, typer.Option(help="Where the demo keeps its site file, database, snapshots and clips.")
    ] = Path("storewatch-demo"),
    backend: BackendOpt = None,
    threads: ThreadsOpt = None,
) -> None:
    """Run the store demo until Ctrl-C: the camera detected and tracked live, zones and rules raising alerts, and
    the dashboard (live alerts, incidents, the camera view, the zone and rules editors) at the printed address.
    The site file is written into the data folder on the first run and is the demo's from then on."""
    from storewatch.analysis.tracking import open_detector
    from storewatch.config.loader import load_site_config
    from storewatch.demo.run import DemoRun
    from storewatch.web.background import listen

    site_path = _site_file(data_dir, video)
    site = load_site_config(site_path)
    det_cfg = site.detector.model_copy(
        update={k: v for k, v in (("backend", backend), ("threads", threads)) if v is not None}
    )
    detector = open_detector(det_cfg)  # a missing model is a message with its fix, before anything starts
    sock = listen(host, port)
    bound_host, bound_port = sock.getsockname()[:2]
    alerts = _AlertPrinter()
    run = DemoRun(site, site_path, data_dir, detector, sock, on_alert=alerts)
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):  # Ctrl-C too, even where a shell started it with SIGINT ignored
        signal.signal(signum, lambda *_: stop.set())
    run.start()
    url = f"http://{bound_host}:{bound_port}/"
    typer.secho(f"storewatch demo: dashboard at {url}", bold=True)
    typer.echo(f"  {site.summary()}; site file {site_path} (the editors save to it); data in {data_dir}")
    if run.password is not None:
        typer.secho(
            f"  log in as admin, password {run.password}  (shown once: note it)", fg=typer.colors.YELLOW, bold=True
        )
    else:
        typer.echo("  log in with the account made on the first run (its password was printed then)")
    typer.echo("  alerts are printed below as they are sent; Ctrl-C stops the demo")
    alerts.start_printing()
    try:
        while not stop.wait(0.5) and run.alive:
            pass
    finally:
        typer.echo("stopping ...")
        run.stop()
        typer.echo("stopped")


def _site_file(data_dir: Path, video: str | None) -> Path:
    """The demo's site file: written on the first run (with ``video`` or the sample), kept after; a ``video`` given
    to a later run replaces the camera's source in it (the file before is kept as a backup)."""
    from storewatch.demo.site import CAMERA, SITE_FILE, STORE, write_demo_site
    from storewatch.web.directory import local_zone_name

    path = data_dir / SITE_FILE
    if path.exists() and video is None:
        return path
    source = _source(video or str(SAMPLE))
    if not path.exists():
        return write_demo_site(data_dir, source, timezone=local_zone_name())
    if _camera_source(path) == source:
        return path
    from storewatch.web.site_file import SiteFile, camera_node

    def new_source(doc: Any) -> None:
        camera_node(doc, STORE, CAMERA)["source"] = source

    try:
        SiteFile(path).change(None, new_source)
    except StorewatchError as exc:
        raise StorewatchError(
            f"{path}: cannot set the camera's video ({exc.message})", fix="delete the file to start afresh"
        ) from exc
    return path


def _camera_source(path: Path) -> str | None:
    from storewatch.config.loader import load_site_config
    from storewatch.demo.site import CAMERA, STORE

    site = load_site_config(path)
    return next((c.source for s in site.stores if s.id == STORE for c in s.cameras if c.id == CAMERA), None)


def _source(video: str) -> str:
    if "://" in video:
        return video
    path = Path(video)
    if not path.exists():
        raise StorewatchError(
            f"the demo camera's video {video} is not here",
            fix="give one: storewatch demo --video PATH-or-URL (make demo VIDEO=PATH-or-URL)",
        )
    return str(path.resolve())


class _AlertPrinter:
    """Prints each alert the demo's inbox receives, once the start-up lines are out (earlier ones wait)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._waiting: list[str] | None = []

    def __call__(self, message: dict[str, Any]) -> None:
        when = datetime.now(UTC).astimezone().strftime("%H:%M:%S")
        line = f"{when} alert {message.get('title', '?')} - {message.get('explanation', '')}"
        with self._lock:
            if self._waiting is not None:
                self._waiting.append(line)
                return
        typer.echo(line)

    def start_printing(self) -> None:
        with self._lock:
            waiting, self._waiting = self._waiting or [], None
        for line in waiting:
            typer.echo(line)
