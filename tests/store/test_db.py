"""Opening databases: actionable errors, SQLite settings, UTC times and enforced foreign keys on both backends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError

from storewatch.store.db import Database, DatabaseError, default_url, open_database
from storewatch.store.events import EventRepository
from storewatch.store.models import IncidentEventRow, IncidentRow, IncidentState
from tests.store.conftest import make_event


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("not a url", "not a database URL"),
        ("mysql://u:hunter2@localhost/sw", "unsupported database 'mysql://u:***@localhost/sw'"),
        ("postgresql+psycopg://sw:hunter2@127.0.0.1:1/sw", "cannot connect to database 'postgresql+psycopg://sw:***@"),
        ("sqlite:////proc/no-such-dir/x.db", "cannot"),
    ],
)
def test_bad_urls_fail_with_the_url_named_and_the_password_hidden(url: str, expected: str) -> None:
    with pytest.raises(DatabaseError) as info:
        open_database(url)
    assert expected in str(info.value)
    assert "hunter2" not in str(info.value)


def test_default_url_is_a_wal_sqlite_file_in_the_data_dir(tmp_path: Path) -> None:
    url = default_url(tmp_path / "data")
    with open_database(url) as db, db.engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert conn.execute(text("PRAGMA busy_timeout")).scalar() == 10_000
    assert (tmp_path / "data" / "storewatch.db").exists()


def test_times_come_back_as_utc_whatever_zone_went_in(database: Database) -> None:
    cet = timezone(timedelta(hours=1))
    with database.session() as s:
        s.add(IncidentRow(id="i1", store="s1", created_utc=datetime(2026, 1, 1, 13, tzinfo=cet)))
    with database.session() as s:
        row = s.execute(select(IncidentRow)).scalar_one()
        assert row.created_utc == datetime(2026, 1, 1, 12, tzinfo=UTC)
        assert row.created_utc.tzinfo == UTC
        assert row.state is IncidentState.OPEN
        assert row.tags == [] and row.legal_hold is False
        with pytest.raises(Exception, match="time zone"):
            s.add(IncidentRow(id="i2", store="s1", created_utc=datetime(2026, 1, 1)))
            s.flush()


def test_foreign_keys_are_enforced_and_cascade(database: Database) -> None:
    with database.session() as s:
        s.add(IncidentRow(id="i1", store="s1", created_utc=datetime(2026, 1, 1, tzinfo=UTC)))
    with pytest.raises(IntegrityError), database.session() as s:
        s.add(IncidentEventRow(incident_id="i1", event_id="missing"))
    EventRepository(database).upsert(make_event(1))
    with database.session() as s:
        s.add(IncidentEventRow(incident_id="i1", event_id="e1"))
    with pytest.raises(IntegrityError), database.session() as s:  # linked once
        s.add(IncidentEventRow(incident_id="i1", event_id="e1"))
    with database.session() as s:
        s.execute(text("DELETE FROM events"))
    with database.session() as s:
        assert s.execute(select(IncidentEventRow)).first() is None


def test_read_then_write_transactions_from_many_threads_all_commit(database: Database) -> None:
    """A read-modify-write in ``write_session`` waits for the other writers instead of failing on SQLite."""
    import threading

    with database.session() as s:
        s.add(IncidentRow(id="i1", store="s1", tags=[], created_utc=datetime(2026, 1, 1, tzinfo=UTC)))
    errors: list[Exception] = []

    def bump() -> None:
        for _ in range(15):
            try:
                with database.write_session() as s:
                    row = s.get(IncidentRow, "i1", with_for_update=True)
                    assert row is not None
                    row.tags = [*row.tags, "x"]
            except Exception as exc:  # collected: the assertion below names it
                errors.append(exc)

    threads = [threading.Thread(target=bump) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with database.session() as s:
        assert len(s.get(IncidentRow, "i1").tags) == 60  # type: ignore[union-attr]
