"""``storewatch hub``: the central service that every store's edge reports to.

``storewatch hub --database URL --nats nats://...`` ingests what the edges send (events, camera health,
incidents, alerts, thumbnails, configuration acknowledgements) into the hub's database, keeps the registry of
stores and cameras, and publishes configuration versions; ``--http-port`` also serves ``POST /api/v1/sync`` for
edges that sync over HTTPS. ``storewatch hub --database URL config STORE FILE.yaml`` pushes a new configuration
version to a store; ``storewatch hub --database URL status`` shows the registry (with each store's alerts and
thumbnails).
"""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from storewatch.errors import ConfigError

app = typer.Typer(
    help="The hub: ingests every store's events, health and incidents, keeps the registry of stores and cameras, "
    "and pushes configuration versions to the edges.",
    invoke_without_command=True,
    no_args_is_help=False,
)


@dataclass(frozen=True)
class HubOptions:
    database: str
    nats: str | None


@app.callback()
def hub(
    ctx: typer.Context,
    database: Annotated[
        str, typer.Option(help="The hub's database: postgresql+psycopg://user:password@host/db (or sqlite:///path).")
    ],
    nats: Annotated[
        str | None, typer.Option(help="NATS with JetStream the edges publish to: nats://host:4222.")
    ] = None,
    http_port: Annotated[
        int | None,
        typer.Option(min=0, max=65535, help="Also serve POST /api/v1/sync here (secret: $STOREWATCH_SYNC_SECRET)."),
    ] = None,
    http_host: Annotated[str, typer.Option(help="Address the sync endpoint binds to.")] = "127.0.0.1",
    web_port: Annotated[
        int | None,
        typer.Option(min=0, max=65535, help="Also serve the dashboard here: every store's alerts and incidents."),
    ] = None,
    web_host: Annotated[str, typer.Option(help="Address the dashboard listens on.")] = "127.0.0.1",
    data_dir: Annotated[
        Path, typer.Option(help="The hub's folder: the dashboard's session key (secrets/), evidence fetched (media/).")
    ] = Path("storewatch-hub"),
    media_bucket: Annotated[
        Path | None,
        typer.Option(
            help="YAML of the S3 bucket the stores archive evidence to (runtime.media kind s3): clips are "
            "served from it instead of being fetched from the stores."
        ),
    ] = None,
    retention: Annotated[
        Path | None,
        typer.Option(
            help="YAML of the hub's retention: days per kind of data, as a site file's retention: section "
            "(default: the same defaults). Purged daily at run_at_hour in --time-zone."
        ),
    ] = None,
    time_zone: Annotated[str, typer.Option(help="Time zone of the daily retention run (IANA name).")] = "UTC",
    seconds: Annotated[
        float | None, typer.Option(min=1.0, help="Stop after this long (default: until Ctrl-C).")
    ] = None,
) -> None:
    """Run the hub (unless a sub-command is given)."""
    ctx.obj = HubOptions(database, nats)
    if ctx.invoked_subcommand is not None:
        return
    if nats is None and http_port is None and web_port is None:
        raise ConfigError("the hub needs --nats nats://host:4222, --http-port PORT, --web-port PORT, or some of them")
    bucket = None if media_bucket is None else _read_bucket(media_bucket)
    web = None if web_port is None else WebOptions(web_host, web_port, data_dir, bucket)
    keep = HubRetention(_read_retention(retention), _time_zone(time_zone), data_dir)
    _serve(database, nats, http_port, http_host, seconds, web, keep)


@dataclass(frozen=True)
class WebOptions:
    host: str
    port: int
    data_dir: Path
    bucket: Any = None
    """``media.config.S3Media`` or None."""


@dataclass(frozen=True)
class HubRetention:
    config: Any
    """``retention.config.RetentionConfig``."""
    tz: Any
    """``zoneinfo.ZoneInfo`` of the daily run."""
    data_dir: Path


def _read_model(file: Path, validate: Callable[[Any], Any]) -> Any:
    """A YAML file's content through ``validate`` (a pydantic ``model_validate``); problems name file and key."""
    import yaml
    from pydantic import ValidationError

    from storewatch.config.loader import key_path

    try:
        data = yaml.safe_load(file.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"{file}: cannot read: {exc}") from None
    try:
        return validate(data)
    except ValidationError as exc:
        problems = "\n".join(f"{file}: {key_path(tuple(e['loc']))}: {e['msg']}" for e in exc.errors())
        raise ConfigError(problems) from None


def _read_bucket(file: Path) -> Any:
    from storewatch.media.config import S3Media

    return _read_model(file, lambda d: S3Media.model_validate({"kind": "s3", **d} if isinstance(d, dict) else d))


def _read_retention(file: Path | None) -> Any:
    """The hub's retention settings: a file's ``retention:`` section (or the file itself), else the defaults."""
    from storewatch.retention.config import RetentionConfig

    if file is None:
        return RetentionConfig()

    def section(data: Any) -> Any:
        if isinstance(data, dict) and set(data) == {"retention"}:
            data = data["retention"] or {}
        return RetentionConfig.model_validate(data)

    return _read_model(file, section)


def _time_zone(name: str) -> Any:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"--time-zone: unknown time zone {name!r} (an IANA name, e.g. Europe/Berlin)") from None


def _serve(
    database: str,
    nats: str | None,
    http_port: int | None,
    http_host: str,
    seconds: float | None,
    web: WebOptions | None,
    keep: HubRetention | None = None,
) -> None:
    from storewatch.store.db import open_database
    from storewatch.store.migrate import upgrade
    from storewatch.sync.edge import SECRET_ENV
    from storewatch.sync.http import SyncEndpoint, SyncServer
    from storewatch.sync.hub import HubService

    console = Console(stderr=True)
    db = open_database(database)
    upgrade(db)
    service = server = dashboard = purge = None
    kept_for = None
    media_dir = keep.data_dir / "media" if keep is not None else None
    try:
        if keep is not None and keep.config.enabled:
            purge = _retention(db, keep)
            kept_for = f"retention daily at {keep.config.run_at_hour}:00 {keep.tz}"
        if web is not None:
            dashboard = _dashboard(database, web, nats, console)
        if nats is not None:
            service = HubService(db, nats, report=lambda line: console.print(f"{time.strftime('%H:%M:%S')} {line}"),
                                 media_dir=media_dir)  # fmt: skip
            service.start()
        if http_port is not None:
            secret = os.environ.get(SECRET_ENV, "")
            if len(secret) < 16:
                raise ConfigError(
                    f"--http-port: the sync endpoint checks signatures; set ${SECRET_ENV} (16+ characters)"
                )
            server = SyncServer(SyncEndpoint(db, secret, media_dir=media_dir), http_host, http_port)
            server.start()
        where = ", ".join(w for w in (nats and f"NATS {nats}", server and f"HTTPS sync at {server.url}",
                                      dashboard and f"dashboard at {dashboard.url}",
                                      kept_for) if w)  # fmt: skip
        console.print(f"[bold]storewatch hub[/]: database {db.url}; {where}")
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        deadline = None if seconds is None else time.monotonic() + seconds
        try:
            while not stop.wait(0.5) and (deadline is None or time.monotonic() < deadline):
                pass
        except KeyboardInterrupt:
            pass
        console.print("stopping ...")
    finally:
        if service is not None:
            service.stop()
        if server is not None:
            server.stop()
        if dashboard is not None:
            dashboard.stop()
        if purge is not None:
            purge.stop()
        db.close()


def _retention(db: Any, keep: HubRetention) -> Any:
    """The hub's own retention, on a thread: the stores purge their data, the hub its copies (events, alerts,
    incidents' events, thumbnails, the clips it fetched into ``media/``, its audit log), by the same rules."""
    from storewatch.retention.schedule import RetentionScheduler
    from storewatch.retention.service import RetentionService

    service = RetentionService(db, keep.config, keep.data_dir, keep.data_dir / "media")
    scheduler = RetentionScheduler(service.run, keep.config.run_at_hour, keep.tz)
    scheduler.start()
    return scheduler


def _dashboard(database: str, web: WebOptions, nats: str | None, console: Console) -> Any:
    """The dashboard on the hub's database, on a thread of this process (its own connection pool); with NATS it
    fetches clips from the stores and sends them acknowledgements."""
    from storewatch.web import WebSettings, create_app
    from storewatch.web.background import WebServerThread, listen

    def first_admin(name: str, password: str) -> None:
        console.print(f"[bold yellow]created the first user: {name}, password {password}[/]  (shown once)")

    settings = WebSettings(data_dir=web.data_dir, database_url=database, hub=True, nats_url=nats,
                           media_bucket=web.bucket)  # fmt: skip
    thread = WebServerThread(create_app(settings, on_first_admin=first_admin), listen(web.host, web.port))
    thread.start()
    return thread


@app.command("config")
def push_config(
    ctx: typer.Context,
    store: Annotated[str, typer.Argument(help="The store the version is for.")],
    file: Annotated[Path, typer.Argument(help="YAML: rules, cameras (zones, lines, rules by camera id), routes.")],
    by: Annotated[str, typer.Option(help="Who pushes it (kept with the version).")] = "",
) -> None:
    """Push a new configuration version to a store: the edge applies it without a restart and acknowledges it."""
    from storewatch.store.db import open_database
    from storewatch.store.migrate import upgrade
    from storewatch.sync.registry import ConfigVersions

    opts: HubOptions = ctx.obj
    live = _read_live_config(file)
    with open_database(opts.database) as db:
        upgrade(db)
        version = ConfigVersions(db).push(store, live, by or os.environ.get("USER", ""))
    note = "the hub publishes it when NATS is reachable"
    if opts.nats is not None and _publish(opts.nats, version):
        note = "published"
    typer.echo(f"store {store}: configuration version {version.version} stored; {note}")


def _read_live_config(file: Path) -> Any:
    from storewatch.sync.live_config import LiveConfig

    return _read_model(file, LiveConfig.model_validate)


def _publish(url: str, version: Any) -> bool:
    from storewatch.sync.hub import publish_config
    from storewatch.sync.jetstream import NatsLink, ensure_streams

    link = NatsLink(url, name="storewatch-hub-config")
    try:
        if not link.wait_connected(5.0):
            return False

        async def send() -> None:
            await ensure_streams(link.js)
            await publish_config(link.js, version)

        link.run(send)
        return True
    except (ConnectionError, TimeoutError, OSError):
        return False
    finally:
        link.close()


@app.command("status")
def status(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """The stores and cameras the hub has heard from: configuration versions, health, sync streams."""
    from storewatch.store.db import open_database
    from storewatch.store.migrate import upgrade
    from storewatch.sync.registry import Registry

    opts: HubOptions = ctx.obj
    with open_database(opts.database) as db:
        upgrade(db)
        registry = Registry(db)
        stores, cameras, streams = registry.stores(), registry.cameras(), registry.streams()
        alerts, thumbnails = registry.alerts(), registry.thumbnails()
    if as_json:
        out = {"stores": [{**asdict(s), "alerts": alerts.get(s.id, (0, 0))[0],
                           "alerts_waiting": alerts.get(s.id, (0, 0))[1], "thumbnails": thumbnails.get(s.id, 0)}
                          for s in stores],
               "cameras": [asdict(c) for c in cameras], "streams": [asdict(s) for s in streams]}  # fmt: skip
        typer.echo(json.dumps(out, default=str, indent=2))
        return
    if not stores:
        typer.echo("no store has reported to this hub yet")
    for s in stores:
        running = "?" if s.config_running is None else s.config_running
        state = "" if s.config_ok else f" (refused the newest: {s.config_error})"
        typer.echo(f"store {s.id}: last heard {s.last_seen_utc:%Y-%m-%d %H:%M:%S}Z; configuration {running} "
                   f"running, {s.config_latest or 0} newest{state}")  # fmt: skip
        n, waiting = alerts.get(s.id, (0, 0))
        typer.echo(f"  alerts: {n} ({waiting} waiting); thumbnails: {thumbnails.get(s.id, 0)}")
        for c in (c for c in cameras if c.store == s.id):
            typer.echo(f"  {c.camera}: {c.health}{f' ({c.health_reason})' if c.health != 'ok' else ''}")
        for st in (st for st in streams if st.store == s.id):
            typer.echo(f"  stream {st.camera or '(store)'}: #{st.last_seq}, {st.gaps} gaps, {st.late} late")
