"""Database fixtures: every store test runs on SQLite (a temp file) and on a real PostgreSQL.

PostgreSQL comes from the ``pgserver`` wheel: one server per test session in a temp directory, listening only on a
unix socket (no TCP port), removed at the end; each test gets a fresh database. Without pgserver the PostgreSQL
variants are skipped, naming the package.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from storewatch.core.events import Event
from storewatch.core.ids import CameraId
from storewatch.store.db import Database, open_database
from storewatch.store.migrate import upgrade

log = logging.getLogger(__name__)

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def make_event(n: int, camera: str = "s1/c1", type_: str = "behaviour.loitering", **fields: object) -> Event:
    """Event number ``n``: starts ``n`` seconds after T0, id ``e<n>``."""
    return Event(
        id=f"e{n}",
        type=type_,
        camera=CameraId(camera),
        start_utc=T0 + timedelta(seconds=n),
        explanation=f"event {n}",
        **fields,
    )


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[tuple[str, Engine]]:
    """A PostgreSQL server for the session: its admin URL (psycopg driver) and an autocommit engine.

    Its data lives in a ``mkdtemp`` folder, not pytest's ``tmp_path``: pytest deletes all but its three newest
    base folders, so another pytest run started meanwhile would delete a running server's data and socket."""
    pgserver = pytest.importorskip("pgserver", reason="PostgreSQL tests need the pgserver package (dev extra)")
    started = time.monotonic()
    root = Path(tempfile.mkdtemp(prefix="storewatch-pg-"))
    server = pgserver.get_server(root / "data", cleanup_mode="delete")
    url = make_url(server.get_uri()).set(drivername="postgresql+psycopg")
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text("SELECT 1"))
    log.warning("PostgreSQL (pgserver) ready in %.2f s", time.monotonic() - started)
    yield url.render_as_string(hide_password=False), admin
    admin.dispose()
    server.cleanup()
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of a fresh, empty database on each backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'storewatch.db'}"
        return
    base, admin = request.getfixturevalue("postgres_server")
    name = f"t_{uuid.uuid4().hex[:16]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield make_url(base).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
def database(db_url: str) -> Iterator[Database]:
    """An open database on each backend, migrated to the newest revision."""
    upgrade(db_url)
    db = open_database(db_url)
    yield db
    db.close()
