"""``storewatch cameras probe``: read a camera's stream addresses over ONVIF."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Annotated

import typer

app = typer.Typer(help="Camera helpers.", no_args_is_help=True)


@app.command("probe")
def probe(
    address: Annotated[str, typer.Argument(help="Camera address (host:port) or its device service URL.")],
    user: Annotated[str | None, typer.Option(help="ONVIF user name.")] = None,
    password: Annotated[str | None, typer.Option(help="ONVIF password.", envvar="STOREWATCH_ONVIF_PASSWORD")] = None,
    timeout_s: Annotated[float, typer.Option(min=0.5, max=60.0, help="Per-request timeout, seconds.")] = 5.0,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List the camera's media profiles with resolution, encoding and RTSP stream URI."""
    from storewatch.cameras.onvif import OnvifClient

    profiles = OnvifClient(address, user, password, timeout_s).profiles()
    if as_json:
        print(json.dumps([asdict(p) for p in profiles]))
        return
    for p in profiles:
        typer.echo(f"{p.token:<16} {p.name:<20} {p.encoding:<6} {p.width}x{p.height:<6} {p.stream_uri}")
