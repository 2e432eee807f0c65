"""``storewatch alerts dead|resend``: the dead-letter list of alert deliveries, and sending them again.

Both read the delivery log in the event store: the data folder's SQLite file (``--data-dir``, as ``storewatch
run`` writes it) or the database at ``--database`` (a hub's PostgreSQL). ``resend`` only marks a dead letter
pending again, due now; the ``Deliverer`` of a running ``storewatch run`` looks at the log every few seconds
(``alerts.delivery.POLL_S``) and sends it, or the next ``storewatch run`` does.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich import box
from rich.console import Console
from rich.table import Table

from storewatch.cli.database import DatabaseOpt, DataDirOpt, open_store
from storewatch.errors import StorewatchError

if TYPE_CHECKING:
    from storewatch.alerts.log import Delivery
    from storewatch.store import Database, SqlDeliveryLog

WIDE_COLUMNS = 150
"""From this terminal width on, the table also shows each event's id."""

app = typer.Typer(help="Alert deliveries: the dead-letter list, and sending dead letters again.", no_args_is_help=True)


@app.command("dead")
def dead(
    data_dir: DataDirOpt = None,
    database: DatabaseOpt = None,
    channel: Annotated[str | None, typer.Option(help="Only this channel's dead letters.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON: one object per dead letter.")] = False,
) -> None:
    """List the alerts that could not be delivered, oldest first.

    Each with its delivery id (for `storewatch alerts resend`), channel, event, attempts, last error and when
    the last attempt gave up."""
    with _delivery_log(data_dir, database) as (db, log):
        letters = [(d, log.attempts(d.id)) for d in log.dead(channel)]
        where = db.url
    rows = [_row(d, attempts[-1].at if attempts else None) for d, attempts in letters]
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    console = Console()
    if not rows:
        console.print(f"no dead letters in {where}", highlight=False, markup=False)
        return
    console.print(render_dead(rows, wide=console.width >= WIDE_COLUMNS, where=where))


def render_dead(rows: list[dict[str, Any]], *, wide: bool, where: str) -> Table:
    """The dead letters as a table. A wide terminal gets a column each, the event's own id too; a narrow one
    (80 columns) stacks the event under the delivery id and the time under the channel, so that the delivery
    id (copied into ``resend``) stays whole and the last error keeps room to be read."""
    table = Table(
        title=f"{len(rows)} dead letter(s) in {where}",
        title_justify="left",
        caption="send them again with: storewatch alerts resend ID...",
        caption_justify="left",
        box=box.SIMPLE_HEAD,
        collapse_padding=True,
        pad_edge=False,
    )
    if wide:
        for header in ("id", "channel", "event id", "event", "tries", "gave up", "last error"):
            whole = header in ("id", "event id", "tries", "gave up")
            table.add_column(header, justify="right" if header == "tries" else "left", no_wrap=whole, overflow="fold")
    else:
        table.add_column("id / event", min_width=32, overflow="fold")
        table.add_column("channel / gave up", overflow="fold")
        table.add_column("tries", justify="right", no_wrap=True)
        table.add_column("last error", overflow="fold", min_width=12)
    for r in rows:
        what, tries, error = f"{r['event_type']} at {r['camera']}", str(r["attempts"]), r["last_error"] or ""
        gave_up = _local(r["gave_up_utc"])
        if wide:
            table.add_row(r["id"], r["channel"], r["event_id"], what, tries, gave_up, error)
        else:
            table.add_row(f"{r['id']}\n{what}", f"{r['channel']}\n{gave_up}", tries, error)
    return table


@app.command("resend")
def resend(
    ids: Annotated[list[str], typer.Argument(help="Ids of dead deliveries (from `storewatch alerts dead`).")],
    data_dir: DataDirOpt = None,
    database: DatabaseOpt = None,
) -> None:
    """Mark dead letters for sending again, each with a fresh round of attempts.

    A running `storewatch run` sends them within seconds (or the next one does). Every id is tried; any that
    cannot be re-sent is named, and the exit status is then 2."""
    problems: list[str] = []
    now = datetime.now(UTC)
    with _delivery_log(data_dir, database) as (_db, log):
        for delivery_id in ids:
            try:
                d = log.mark_resend(delivery_id, now)
            except KeyError:
                problems.append(f"no delivery has the id {delivery_id!r}")
            except ValueError as exc:
                problems.append(str(exc))
            else:
                typer.echo(f"{d.id}: {d.channel} <- event {d.message.event_id}: pending again, due now")
    if problems:
        raise StorewatchError(
            f"{len(problems)} of {len(ids)} not re-sent: " + "; ".join(problems),
            fix="`storewatch alerts dead` lists the dead letters and their ids",
        )


@contextmanager
def _delivery_log(data_dir: Path | None, url: str | None) -> Iterator[tuple[Database, SqlDeliveryLog]]:
    """The store (``--data-dir`` or ``--database``) and its delivery log, closed at the end."""
    from storewatch.store import SqlDeliveryLog

    with open_store(data_dir, url) as db:
        yield db, SqlDeliveryLog(db, retry_s=2.0)


def _row(d: Delivery, gave_up: datetime | None) -> dict[str, Any]:
    m = d.message
    return {
        "id": d.id,
        "channel": d.channel,
        "event_id": m.event_id,
        "event_type": m.type,
        "camera": m.camera,
        "severity": m.severity.value,
        "attempts": d.attempts,
        "last_error": d.last_error,
        "created_utc": d.created_at.isoformat(),
        "gave_up_utc": None if gave_up is None else gave_up.isoformat(),
    }


def _local(iso: str | None) -> str:
    """An ISO UTC time as local month, day and time to the second (the table is for people at the store)."""
    return "" if iso is None else datetime.fromisoformat(iso).astimezone().strftime("%m-%d %H:%M:%S")
