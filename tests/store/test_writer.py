"""The one event writer over a real EventBus: everything stored once, retries on transient errors, bad events
isolated, flush on stop."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from datetime import timedelta

import pytest
from sqlalchemy.exc import IntegrityError, OperationalError

from storewatch.core.events import Event, EventState
from storewatch.runtime.backoff import Backoff
from storewatch.runtime.bus import EventBus
from storewatch.store.db import Database
from storewatch.store.events import EventRepository, EventWriter
from tests.store.conftest import make_event

log = logging.getLogger(__name__)


def test_a_thousand_events_from_the_bus_are_all_stored_once(database: Database) -> None:
    bus = EventBus()
    writer = EventWriter(bus, database, queue_size=5000)
    writer.start()
    started = time.monotonic()
    events = [make_event(i, camera=f"s{i % 4}/c{i % 7}") for i in range(1000)]
    for e in events:
        bus.publish(e)
    for e in events[::4]:  # a quarter end, and a replay re-sends a tenth
        bus.publish(e.end(e.start_utc + timedelta(seconds=30)))
    for e in events[::10]:
        bus.publish(e)
    assert writer.stop(timeout_s=30)
    elapsed = time.monotonic() - started
    log.warning("writer: %d messages stored in %.2f s on %s", 1000 + 250 + 100, elapsed, database.backend)
    assert writer.stats() == {"written": 1350, "failed": 0, "retries": 0, "queued": 0, "dropped": 0}
    repo = EventRepository(database)
    assert repo.count() == 1000
    stored = {e.id: e for off in range(0, 1000, 1000) for e in repo.list(limit=1000, offset=off)}
    assert len(stored) == 1000
    assert sum(e.state is EventState.ENDED for e in stored.values()) == 250
    assert stored["e8"].duration_s == 30.0 and stored["e10"].end_utc is None
    assert elapsed < 20, f"1,350 messages took {elapsed:.1f} s"


class FlakyRepository(EventRepository):
    """Fails the first ``failures`` writes as a database that went away would, and refuses events by id."""

    def __init__(self, database: Database, failures: int, refused: set[str]) -> None:
        super().__init__(database)
        self.failures, self.refused = failures, refused

    def upsert_many(self, events: Iterable[Event]) -> int:
        batch = list(events)
        if self.failures > 0:
            self.failures -= 1
            raise OperationalError("INSERT", {}, ConnectionError("server closed the connection"))
        if any(e.id in self.refused for e in batch):
            raise IntegrityError("INSERT", {}, ValueError("refused"))
        return super().upsert_many(batch)


def _writer(database: Database, repo: EventRepository, bus: EventBus) -> EventWriter:
    writer = EventWriter(bus, database, backoff=Backoff(initial_s=0.01, max_s=0.05, jitter=0.0))
    writer.repository = repo
    return writer


def test_a_transient_error_is_retried_and_loses_nothing(database: Database) -> None:
    bus = EventBus()
    writer = _writer(database, FlakyRepository(database, failures=3, refused=set()), bus)
    writer.start()
    for i in range(20):
        bus.publish(make_event(i))
    assert writer.wait_idle(timeout_s=10)
    assert writer.stats()["written"] == 20 and writer.retries == 3 and writer.failed == 0
    assert EventRepository(database).count() == 20
    writer.stop()


def test_a_refused_event_is_counted_and_the_rest_of_its_batch_is_written(
    database: Database, caplog: pytest.LogCaptureFixture
) -> None:
    bus = EventBus()
    writer = _writer(database, FlakyRepository(database, failures=0, refused={"e7"}), bus)
    for i in range(20):
        bus.publish(make_event(i))
    writer.start()
    assert writer.stop(timeout_s=10)
    assert (writer.written, writer.failed) == (19, 1)
    assert EventRepository(database).get("e7") is None and EventRepository(database).count() == 19
    assert "event e7 (behaviour.loitering, s1/c1) refused" in caplog.text


def test_stop_gives_up_at_its_deadline_when_the_database_stays_down(database: Database) -> None:
    bus = EventBus()
    writer = _writer(database, FlakyRepository(database, failures=10**9, refused=set()), bus)
    writer.start()
    bus.publish(make_event(1))
    started = time.monotonic()
    writer.stop(timeout_s=0.5)
    assert time.monotonic() - started < 2
    assert writer.failed == 1 and writer.written == 0 and writer.retries > 0
    assert "events" not in bus.stats() and "store" not in bus.stats()


def test_the_writer_starts_once_and_its_name_is_taken(database: Database) -> None:
    bus = EventBus()
    writer = EventWriter(bus, database)
    with pytest.raises(ValueError, match="exists already"):
        EventWriter(bus, database)
    writer.start()
    with pytest.raises(RuntimeError, match="started already"):
        writer.start()
    bus.publish(make_event(1))
    assert writer.stop()
    assert writer.written == 1
