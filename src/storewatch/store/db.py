"""Opening the database: an engine and a session factory for SQLite (embedded) or PostgreSQL (hub).

SQLite connections get WAL (readers never block the one writer), foreign keys on and a busy timeout; SQLAlchemy's
recipe for pysqlite's transaction handling is applied so ``BEGIN`` and savepoints behave as on PostgreSQL.
PostgreSQL goes through psycopg 3 (``postgresql+psycopg://user:password@host/db``; a bare ``postgresql://`` is
taken to mean psycopg too). The first connection is made at once, so a wrong URL or an unreachable server fails
here with a ``StorewatchError`` naming the URL (password hidden), not later inside a worker.

>>> db = open_database("sqlite://")
>>> db.backend, db.url
('sqlite', 'sqlite://')
>>> db.close()
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool

from storewatch.errors import StorewatchError

DB_FILE = "storewatch.db"
SQLITE_BUSY_TIMEOUT_MS = 10_000
WRITE_OPTION = "storewatch_write"
"""Execution option marking a connection of ``Database.write_session`` (SQLite: ``BEGIN IMMEDIATE``)."""


class DatabaseError(StorewatchError):
    """The database URL is wrong or the database cannot be reached."""


def default_url(data_dir: Path | str) -> str:
    """The embedded default: a SQLite file in the data directory.

    >>> default_url("/var/lib/storewatch")
    'sqlite:////var/lib/storewatch/storewatch.db'
    """
    return f"sqlite:///{Path(data_dir) / DB_FILE}"


def safe_url(url: str | URL) -> str:
    """``url`` with its password hidden, for messages and logs.

    >>> safe_url("postgresql+psycopg://sw:secret@db.local/sw")
    'postgresql+psycopg://sw:***@db.local/sw'
    """
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<unparseable database URL>"


class Database:
    """An engine and its session factory; ``session()`` is a unit of work that commits or rolls back."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.sessions = sessionmaker(engine, expire_on_commit=False)
        self.write_sessions = sessionmaker(engine.execution_options(**{WRITE_OPTION: True}), expire_on_commit=False)

    @property
    def backend(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self.engine.dialect.name

    @property
    def url(self) -> str:
        """The URL with its password hidden."""
        return safe_url(self.engine.url)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session in a transaction: committed when the block ends, rolled back if it raises."""
        with self.sessions.begin() as session:
            yield session

    @contextmanager
    def write_session(self) -> Iterator[Session]:
        """A session for a transaction that reads and then writes. On SQLite it takes the write lock at its start
        (``BEGIN IMMEDIATE``), waiting for another writer up to the busy timeout: a plain ``BEGIN`` that read
        first would fail at once with "database is locked" if another connection wrote meanwhile (SQLite cannot
        upgrade a stale read snapshot). On PostgreSQL it is an ordinary session (lock rows with FOR UPDATE)."""
        with self.write_sessions.begin() as session:
            yield session

    def close(self) -> None:
        """Close all pooled connections."""
        self.engine.dispose()

    def __enter__(self) -> Database:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_database(url: str, *, echo: bool = False) -> Database:
    """Open (and connect once to) the database at ``url``; raises ``DatabaseError`` naming the URL."""
    parsed = _parse(url)
    try:
        if parsed.get_backend_name() == "sqlite":
            engine = _sqlite_engine(parsed, echo)
        elif parsed.get_backend_name() == "postgresql":
            engine = create_engine(parsed.set(drivername="postgresql+psycopg"), echo=echo, pool_pre_ping=True)
        else:
            raise DatabaseError(
                f"unsupported database {safe_url(parsed)!r}: use sqlite:///path or postgresql+psycopg://...",
            )
    except (ArgumentError, NoSuchModuleError) as exc:
        raise DatabaseError(f"cannot use database URL {safe_url(parsed)!r}: {exc}") from exc
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except DBAPIError as exc:
        engine.dispose()
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else type(exc).__name__
        raise DatabaseError(
            f"cannot connect to database {safe_url(parsed)!r}: {reason}",
            fix="check the host, port, database name and credentials, and that the server is running",
        ) from exc
    return Database(engine)


def _parse(url: str) -> URL:
    try:
        return make_url(url)
    except ArgumentError as exc:
        raise DatabaseError(
            f"not a database URL: {safe_url(url)!r}",
            fix="use sqlite:////path/to/storewatch.db or postgresql+psycopg://user:password@host:5432/dbname",
        ) from exc


def _sqlite_engine(url: URL, echo: bool) -> Engine:
    memory = url.database in (None, "", ":memory:")
    if memory:
        # One shared connection, so every session sees the same in-memory database.
        engine = create_engine(url, echo=echo, poolclass=StaticPool, connect_args={"check_same_thread": False})
    else:
        folder = Path(url.database or "").expanduser().parent
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise DatabaseError(f"cannot create the folder {folder} for database {safe_url(url)!r}: {exc}") from exc
        engine = create_engine(url, echo=echo)
    event.listen(engine, "connect", _sqlite_on_connect(wal=not memory))
    event.listen(engine, "begin", _sqlite_on_begin)
    return engine


def _sqlite_on_connect(wal: bool) -> Any:
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # let SQLAlchemy emit BEGIN itself (pysqlite recipe)
        cursor = dbapi_connection.cursor()
        try:
            if wal:
                cursor.execute("PRAGMA journal_mode=WAL")
                cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        finally:
            cursor.close()

    return on_connect


def _sqlite_on_begin(conn: Any) -> None:
    conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get(WRITE_OPTION) else "BEGIN")
