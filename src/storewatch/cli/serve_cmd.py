"""``storewatch serve``: the dashboard and API of one site; ``storewatch openapi``: the API's OpenAPI document."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from storewatch.cli.database import DEFAULT_DATA_DIR
from storewatch.errors import StorewatchError


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
    app.command("openapi")(openapi)


def serve(
    data_dir: Annotated[
        Path, typer.Option(help="The data folder of `storewatch run` (database, media/, secrets/).")
    ] = DEFAULT_DATA_DIR,
    host: Annotated[str, typer.Option(help="Address to listen on (127.0.0.1: this machine only).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=0, max=65535, help="Port to listen on.")] = 8080,
    config: Annotated[
        Path | None,
        typer.Option(help="Site YAML: store names, time zones and cameras; the zone and rules editors save to it."),
    ] = None,
    database: Annotated[
        str | None, typer.Option(help="Database URL (default: the SQLite file in the data folder).")
    ] = None,
    timezone: Annotated[
        str | None, typer.Option(help="IANA time zone for stores the site file does not name (default: local).")
    ] = None,
    secure_cookies: Annotated[bool, typer.Option(help="Session cookie over HTTPS only (behind TLS).")] = False,
    max_body_mb: Annotated[
        float, typer.Option(min=0.001, max=1024.0, help="Largest request body accepted, in MB (larger: 413).")
    ] = 2.0,
    tls_cert: Annotated[
        Path | None, typer.Option(help="Serve HTTPS with this PEM certificate (chain); needs --tls-key.")
    ] = None,
    tls_key: Annotated[
        Path | None, typer.Option(help="The PEM private key of --tls-cert; with both, cookies are HTTPS only.")
    ] = None,
) -> None:
    """Serve the dashboard (overview, live alerts, incidents) and its API for one site. When no user exists yet, an
    administrator `admin` is made and its password printed once."""
    import uvicorn
    from pydantic import ValidationError

    from storewatch.config.loader import load_site_config
    from storewatch.web import WebSettings, create_app
    from storewatch.web.background import listen

    _check_zone(timezone)
    tls = _check_tls(tls_cert, tls_key)
    site = load_site_config(config) if config is not None else None
    try:
        settings = WebSettings(
            data_dir=data_dir,
            database_url=database,
            site=site,
            site_path=config,
            timezone=timezone,
            secure_cookies=secure_cookies or tls is not None,
            max_body_bytes=int(max_body_mb * 1024 * 1024),
        )
    except ValidationError as exc:
        raise StorewatchError(f"bad serve options: {exc.errors()[0]['msg']}") from exc

    def first_admin(name: str, password: str) -> None:
        typer.secho(
            f"created the first user: {name}, password {password}  (shown once: note it, then change it)",
            fg=typer.colors.YELLOW,
            bold=True,
        )

    sock = listen(host, port)
    app = create_app(settings, on_first_admin=first_admin)
    bound_host, bound_port = sock.getsockname()[:2]
    scheme = "https" if tls is not None else "http"
    typer.echo(f"storewatch serve: {scheme}://{bound_host}:{bound_port}/ (data in {data_dir})")
    # Streams (the live feed) end within the graceful timeout on Ctrl-C / SIGTERM.
    cert, key = (str(tls[0]), str(tls[1])) if tls is not None else (None, None)
    server = uvicorn.Server(
        uvicorn.Config(app, log_level="warning", timeout_graceful_shutdown=3, ssl_certfile=cert, ssl_keyfile=key)
    )
    server.run(sockets=[sock])


def openapi() -> None:
    """Print the OpenAPI document of the web API (JSON)."""
    from storewatch.web import WebSettings, create_app

    app = create_app(WebSettings(data_dir=DEFAULT_DATA_DIR))
    typer.echo(json.dumps(app.openapi(), indent=2))


def _check_tls(cert: Path | None, key: Path | None) -> tuple[Path, Path] | None:
    """Both or neither; each a readable PEM file that loads as a pair (a wrong key fails here, not at the first
    connection)."""
    import ssl

    if cert is None and key is None:
        return None
    if cert is None or key is None:
        given, missing = ("--tls-cert", "--tls-key") if key is None else ("--tls-key", "--tls-cert")
        raise StorewatchError(f"{given} needs {missing} as well", fix="give both the certificate and its key")
    for flag, path in (("--tls-cert", cert), ("--tls-key", key)):
        try:
            with path.open("rb") as handle:
                handle.read(1)
        except OSError as exc:
            raise StorewatchError(f"{flag} {path}: cannot read it ({exc.strerror or exc})") from exc
    try:
        ssl.create_default_context(ssl.Purpose.CLIENT_AUTH).load_cert_chain(cert, key)
    except (ssl.SSLError, ValueError) as exc:
        raise StorewatchError(
            f"--tls-cert {cert} / --tls-key {key}: not a PEM certificate and its private key ({exc})"
        ) from exc
    return cert, key


def _check_zone(name: str | None) -> None:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    if name is None:
        return
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise StorewatchError(f"--timezone {name!r} is not an IANA time zone", fix="e.g. Europe/Madrid") from exc
