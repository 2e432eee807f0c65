"""Storage: events, alerts, incidents and their logs in SQLite (embedded default) or PostgreSQL (hub).

SQLAlchemy 2 ORM models (``models``), Alembic migrations run in code (``migrate``: the same revisions on both
backends), an idempotent event repository and the single writer thread that drains the event bus (``events``),
and the alert delivery log that outlives a restart (``deliveries``).

Start-up order: ``db = open_database(url or default_url(data_dir))``, ``upgrade(db)``,
``EventWriter(bus, db).start()``; at shut-down ``writer.stop()`` flushes, then ``db.close()``.
"""

from storewatch.store.db import Database, DatabaseError, default_url, open_database
from storewatch.store.deliveries import SqlDeliveryLog
from storewatch.store.events import EventRepository, EventWriter
from storewatch.store.migrate import current, upgrade

__all__ = [
    "Database",
    "DatabaseError",
    "EventRepository",
    "EventWriter",
    "SqlDeliveryLog",
    "current",
    "default_url",
    "open_database",
    "upgrade",
]
