"""``storewatch status``: each camera's health, rates, drops, queue and latency, read from a running pipeline.

The numbers come from the ``/status`` route that ``StatusServer`` serves beside ``/metrics``; the standard
library's ``urllib`` fetches it (one GET, no client library needed).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated
from urllib.error import HTTPError, URLError
from urllib.parse import urlsplit
from urllib.request import ProxyHandler, build_opener

import typer
from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from storewatch.errors import StorewatchError

if TYPE_CHECKING:
    from storewatch.runtime.metrics import CameraStatus, PipelineStatus

DEFAULT_STATUS_URL = "http://127.0.0.1:9108"
WIDE_COLUMNS = 110
HEALTH_STYLE = {"ok": "green", "degraded": "yellow", "offline": "bold red"}


def register(app: typer.Typer) -> None:
    app.command("status")(status)


def status(
    url: Annotated[
        str,
        typer.Option(envvar="STOREWATCH_STATUS_URL", help="Status address of `storewatch run` (host and port)."),
    ] = DEFAULT_STATUS_URL,
    as_json: Annotated[bool, typer.Option("--json", help="Print the /status JSON as served.")] = False,
    timeout_s: Annotated[float, typer.Option(min=0.1, max=60.0, help="Request timeout, seconds.")] = 3.0,
) -> None:
    """Show each camera's health (since when, why), input and detect fps, drops, queue, p95 latency, reconnects."""
    from storewatch.runtime.metrics import parse_status_json

    body, source = fetch_status(url, timeout_s)
    report = parse_status_json(body, source)
    if as_json:
        typer.echo(body.decode())
        return
    render_status(report, Console())


def fetch_status(url: str, timeout_s: float = 3.0) -> tuple[bytes, str]:
    """The body of ``{url}/status`` and the address asked; ``StorewatchError`` naming it when nothing answers."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise StorewatchError(f"not an http URL: {url!r}", fix=f"pass the address as in {DEFAULT_STATUS_URL}")
    target = f"{url.rstrip('/')}/status"
    fix = (
        f"is `storewatch run` running? It serves status on {DEFAULT_STATUS_URL} unless told otherwise; "
        "point --url (or STOREWATCH_STATUS_URL) at its address"
    )
    try:
        # No proxy: the status address is on this machine or its LAN, never worth sending through http_proxy.
        with build_opener(ProxyHandler({})).open(target, timeout=timeout_s) as response:
            body: bytes = response.read()
    except HTTPError as exc:
        raise StorewatchError(f"{target} answered HTTP {exc.code} {exc.reason}", fix=fix) from None
    except URLError as exc:
        raise StorewatchError(f"nothing answers at {target} ({exc.reason})", fix=fix) from None
    except OSError as exc:  # timeouts and resets while reading
        raise StorewatchError(f"no answer from {target} ({exc})", fix=fix) from None
    return body, target


def render_status(report: PipelineStatus, console: Console) -> None:
    """A table with one row per camera, then a line for the detector, the process and each ingest source.

    In a terminal narrower than ``WIDE_COLUMNS`` the reasons go below the table (for cameras that are not ok)
    instead of into a column, so the numbers stay readable at 80 columns.
    """
    wide = console.width >= WIDE_COLUMNS
    table = Table(
        title=f"storewatch {report.version}: {len(report.cameras)} camera(s)",
        title_justify="left",
        box=box.SIMPLE_HEAD,
        collapse_padding=True,
        pad_edge=False,
    )
    table.add_column("camera", no_wrap=True)
    table.add_column("health", no_wrap=True)
    table.add_column("since", no_wrap=True)
    if wide:
        table.add_column("reason", overflow="fold", min_width=12)
    for header in ("in\nfps", "det\nfps", "drop-\nped", "queue", "p95\nms", "recon-\nnects"):
        table.add_column(header, justify="right", no_wrap=True)
    for cam in report.cameras:
        table.add_row(*_camera_cells(cam, report.taken_utc, with_reason=wide))
    console.print(table)
    if not wide:
        for cam in report.cameras:
            if cam.health.value != "ok":
                console.print(Text.assemble((cam.camera, "bold"), f": {cam.reason}"))
    d, p = report.detector, report.process
    busy = "?" if d.busy_ratio is None else f"{d.busy_ratio:.0%}"
    rss = "?" if p.rss_bytes is None else f"{p.rss_bytes / 2**20:.0f} MB"
    mean = "?" if d.detect_mean_s is None else f"{d.detect_mean_s * 1000:.1f} ms"
    console.print(
        f"detector: {_num(d.detect_fps)} fps, busy {busy}, {mean}/frame, {d.frames_detected} frames "
        f"(rates over {report.rate_window_s:g} s)",
        highlight=False,
        markup=False,
    )
    console.print(f"process: up {_duration(p.uptime_s)}, CPU {p.cpu_s:.1f} s, RSS {rss}", highlight=False, markup=False)
    for s in report.sources:  # the integrations' drop folders and subjects
        line = Text.assemble(
            (s.source, "bold"), " ", (s.health.value, HEALTH_STYLE.get(s.health.value, "")),
            f": {s.done} done, {s.quarantined} quarantined ({s.records_accepted} records accepted, "
            f"{s.records_quarantined} quarantined), {s.failures} failures",
            "" if s.health.value == "ok" else f"; {s.reason}",
        )  # fmt: skip
        console.print(line)


def _camera_cells(cam: CameraStatus, now_utc: datetime, *, with_reason: bool) -> list[Text]:
    since = cam.since_utc.astimezone().strftime("%H:%M:%S")
    age = _duration((now_utc - cam.since_utc).total_seconds())
    p95 = "?" if cam.frame_latency_p95_s is None else f"{cam.frame_latency_p95_s * 1000:.0f}"
    cells = [cam.camera, cam.health.value, f"{since} ({age})"]
    cells += [cam.reason] if with_reason else []
    cells += [
        _num(cam.input_fps),
        _num(cam.detect_fps),
        str(cam.frames_dropped),
        f"{cam.queue_depth}/{cam.queue_capacity}",
        p95,
        str(cam.reconnects),
    ]
    texts = [Text(c) for c in cells]
    texts[1].stylize(HEALTH_STYLE.get(cam.health.value, ""))
    return texts


def _num(value: float | None) -> str:
    return "?" if value is None else f"{value:.1f}"


def _duration(seconds: float) -> str:
    """Short human duration.

    >>> [_duration(s) for s in (4.2, 200, 7500, 3 * 86400 + 4 * 3600)]
    ['4s', '3m20s', '2h05m', '3d04h']
    """
    s = max(0, int(seconds))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    if s < 86400:
        return f"{s // 3600}h{s % 3600 // 60:02d}m"
    return f"{s // 86400}d{s % 86400 // 3600:02d}h"
