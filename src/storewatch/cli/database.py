"""The ``--data-dir`` / ``--database`` options of commands that read the store, and opening it safely."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from storewatch.errors import StorewatchError

if TYPE_CHECKING:
    from storewatch.store import Database

DEFAULT_DATA_DIR = Path("storewatch-data")
DataDirOpt = Annotated[
    Path | None,
    typer.Option(help=f"The data folder of storewatch run (default {DEFAULT_DATA_DIR}); not with --database."),
]
DatabaseOpt = Annotated[
    str | None,
    typer.Option("--database", help="Database URL (postgresql+psycopg://..., sqlite:///...), as runtime.database_url."),
]


@contextmanager
def open_store(data_dir: Path | None, url: str | None) -> Iterator[Database]:
    """The database of ``--data-dir`` or ``--database``, closed at the end; a clear error when there is no store
    there (opening a missing SQLite file would make an empty one) or its schema is not this storewatch's."""
    from storewatch.store import current, default_url, open_database
    from storewatch.store.migrate import head

    if data_dir is not None and url is not None:
        raise StorewatchError("give --data-dir or --database, not both")
    if url is None:
        folder = data_dir or DEFAULT_DATA_DIR
        if not (folder / "storewatch.db").is_file():
            raise StorewatchError(
                f"{folder}: no event store here",
                fix="give the data folder of `storewatch run` (--data-dir) or its database URL (--database)",
            )
        url = default_url(folder)
    with open_database(url) as db:
        revision, newest = current(db), head()
        if revision != newest:
            found = "no storewatch tables" if revision is None else f"schema revision {revision}"
            raise StorewatchError(
                f"database {db.url} has {found}; this storewatch needs revision {newest}",
                fix="point at the database of `storewatch run` (which upgrades it when it starts)",
            )
        yield db


def record_audit(db: Database, actor: str, action: str, store: str | None, target: str, **detail: object) -> None:
    """Record a look at or a taking out of data in the audit log (``storewatch audit``), as done from the shell."""
    from storewatch.audit.chain import ActorKind, AuditAction
    from storewatch.store.audit import AuditLog

    AuditLog(db).record(actor, ActorKind.CLI, AuditAction(action), store=store, target=target,
                        detail={"via": "cli", **detail})  # fmt: skip
