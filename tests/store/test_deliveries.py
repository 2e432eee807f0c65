"""``SqlDeliveryLog`` on SQLite and PostgreSQL: the ``DeliveryLog`` contract (the in-memory log's behaviour), and
what only a persistent log can do: pending deliveries sent by the next ``Deliverer`` after a restart, dead letters
still listed after reopening, a re-send marked by another process (the ``storewatch alerts`` command) picked up by
a running ``Deliverer``; retention; the command's errors."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from storewatch.alerts import Attempt, Deliverer, DeliveryLog, DeliveryStatus, RetryPolicy, Route
from storewatch.alerts.delivery import POLL_S
from storewatch.cli.app import main
from storewatch.store import Database, SqlDeliveryLog, open_database
from storewatch.store.migrate import upgrade
from storewatch.store.models import DeliveryAttemptRow
from tests.alerts.conftest import make_event, make_message
from tests.alerts.log_contract import DeliveryLogContract, Flaky, at, delivery, fail
from tests.helpers import wait_for

SLOW = RetryPolicy(max_attempts=10, initial_delay_s=0.5, max_delay_s=1.0, jitter=0.0)


class TestSqlDeliveryLog(DeliveryLogContract):
    @pytest.fixture
    def log(self, database: Database) -> Iterator[DeliveryLog]:
        yield SqlDeliveryLog(database)


@pytest.fixture
def migrated(db_url: str) -> str:
    """The URL of a migrated, empty database (each test opens and closes its own connections to it)."""
    upgrade(db_url)
    return db_url


def delivered(log: DeliveryLog, *ids: str) -> bool:
    return all(getattr(log.get(i), "status", None) == DeliveryStatus.DELIVERED for i in ids)


def test_a_new_deliverer_on_the_reopened_database_sends_what_the_stopped_one_left(migrated: str) -> None:
    with open_database(migrated) as db:  # the first run: the receiver is down, then the process stops
        log = SqlDeliveryLog(db)
        down = Flaky(failures=1000)
        first = Deliverer([Route("hook", down, SLOW)], log).start()
        ids = [first.submit(make_message(make_event(id=f"ev-{i}")))[0] for i in range(3)]
        wait_for(lambda: all(len(log.attempts(i)) >= 1 for i in ids), timeout_s=10)
        first.stop(timeout_s=0.2)
        left = [log.get(i) for i in ids]
        assert all(d is not None and d.status is DeliveryStatus.PENDING for d in left) and down.sent == []
    with open_database(migrated) as db:  # the next run, in a new process as far as the log can tell
        log = SqlDeliveryLog(db)
        up = Flaky()
        with Deliverer([Route("hook", up, SLOW)], log):
            wait_for(lambda: delivered(log, *ids), timeout_s=10)
        assert sorted(up.sent) == sorted(ids)  # each exactly once
        for i in ids:
            tries = log.attempts(i)
            assert [a.ok for a in tries] == [False] * (len(tries) - 1) + [True]
            assert [a.number for a in tries] == list(range(1, len(tries) + 1))  # the count carried on


def test_a_stopped_deliverer_that_never_ran_keeps_what_was_submitted(migrated: str) -> None:
    with open_database(migrated) as db:
        idle = Deliverer([Route("hook", Flaky(), SLOW)], SqlDeliveryLog(db))
        [did] = idle.submit(make_message())
        idle.stop()
    with open_database(migrated) as db:
        log, sender = SqlDeliveryLog(db), Flaky()
        with Deliverer([Route("hook", sender, SLOW)], log):
            wait_for(lambda: delivered(log, did), timeout_s=10)
        assert sender.sent == [did]


def test_dead_letters_are_listed_after_reopening_with_their_message_and_attempts(migrated: str) -> None:
    with open_database(migrated) as db:
        log = SqlDeliveryLog(db)
        message = make_message(make_event(id="ev-dead", values={"changed": float("nan"), "n": 3}))
        with Deliverer([Route("hook", Flaky(failures=1, permanent=True), SLOW)], log) as d:
            [did] = d.submit(message)
            wait_for(lambda: [x.id for x in log.dead()] == [did], timeout_s=10)
    with open_database(migrated) as db:
        log = SqlDeliveryLog(db)
        [dead] = log.dead("hook")
        assert (dead.id, dead.attempts, dead.last_error) == (did, 1, "HTTP 503")
        assert dead.message.event_id == "ev-dead" and dead.message.values == {"changed": "nan", "n": 3}
        assert dead.message.model_dump(exclude={"values"}) == message.model_dump(exclude={"values"})
        assert [(a.number, a.ok, a.error) for a in log.attempts(did)] == [(1, False, "HTTP 503")]


def test_a_resend_marked_by_another_process_is_sent_by_the_running_deliverer(migrated: str) -> None:
    with open_database(migrated) as db:
        log = SqlDeliveryLog(db)
        sender = Flaky(failures=1, permanent=True)
        with Deliverer([Route("hook", sender, SLOW)], log) as d:
            [did] = d.submit(make_message())
            wait_for(lambda: [x.id for x in log.dead()] == [did], timeout_s=10)
            cli = [sys.executable, "-m", "storewatch", "alerts"]
            listed = subprocess.run([*cli, "dead", "--database", migrated, "--json"], capture_output=True, text=True)
            assert listed.returncode == 0, listed.stderr
            assert [r["id"] for r in json.loads(listed.stdout)] == [did]
            done = subprocess.run([*cli, "resend", did, "--database", migrated], capture_output=True, text=True)
            assert done.returncode == 0, done.stderr
            assert f"{did}: hook <- event ev-1: pending again" in done.stdout
            wait_for(lambda: sender.sent == [did], timeout_s=POLL_S + 5)  # the worker polls the log
        assert log.dead() == [] and [(a.number, a.ok) for a in log.attempts(did)] == [(1, False), (1, True)]


def test_purge_finished_removes_old_delivered_ones_and_dead_ones_only_when_asked(migrated: str) -> None:
    clock = [at(0)]
    with open_database(migrated) as db:
        log = SqlDeliveryLog(db, now=lambda: clock[0])
        for id_ in ("old", "new", "dead", "pending"):
            log.add(delivery(id_))
        log.record_attempt("old", Attempt(1, at(1), ok=True), DeliveryStatus.DELIVERED, None)
        fail(log, "dead", 1, dead=True)
        fail(log, "pending", 1)
        clock[0] = at(100)
        log.record_attempt("new", Attempt(1, at(100), ok=True), DeliveryStatus.DELIVERED, None)
        assert log.purge_finished(older_than=at(50)) == 1
        assert log.get("old") is None and log.attempts("old") == []
        assert {i for i in ("new", "dead", "pending") if log.get(i) is not None} == {"new", "dead", "pending"}
        assert log.purge_finished(older_than=at(50)) == 0  # dead letters stay until re-sent or purged explicitly
        assert log.purge_finished(older_than=at(200), dead=True) == 2
        assert [i for i in ("new", "dead", "pending") if log.get(i) is not None] == ["pending"]
        with db.session() as session:  # no orphaned attempts
            assert session.scalar(select(func.count()).select_from(DeliveryAttemptRow)) == 1


def test_pending_due_reads_the_channel_status_due_index(migrated: str) -> None:
    with open_database(migrated) as db:
        log = SqlDeliveryLog(db)
        log.pending_due("hook", at(0))  # compiles the query once
        now = datetime(2026, 1, 1, tzinfo=UTC)
        query = f"EXPLAIN {_pending_due_sql(db, now)}"
        if db.backend == "sqlite":
            query = query.replace("EXPLAIN", "EXPLAIN QUERY PLAN")
        with db.engine.connect() as conn:
            if db.backend == "postgresql":
                conn.exec_driver_sql("SET enable_seqscan = off")  # an empty table: make the planner show its choice
            plan = " ".join(str(r) for r in conn.exec_driver_sql(query))
        assert "ix_deliveries_channel_status_due_utc" in plan, plan


def _pending_due_sql(db: Database, now: datetime) -> str:
    from storewatch.store.models import DeliveryRow

    query = (
        select(DeliveryRow)
        .where(DeliveryRow.channel == "hook", DeliveryRow.status == DeliveryStatus.PENDING, DeliveryRow.due_utc <= now)
        .order_by(DeliveryRow.due_utc, DeliveryRow.created_utc, DeliveryRow.id)
        .limit(100)
    )
    return str(query.compile(db.engine, compile_kwargs={"literal_binds": True}))


def test_alerts_dead_lists_a_table_and_resend_names_what_it_cannot_do(
    migrated: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    long_id = "0123456789abcdef" * 2
    with open_database(migrated) as db:
        log = SqlDeliveryLog(db)
        for id_ in ("d-dead", long_id):
            log.add(delivery(id_))
            fail(log, id_, 1, dead=True)
        log.add(delivery("d-pending"))
        log.mark_resend(long_id, at(5))
    monkeypatch.setenv("COLUMNS", "80")
    assert main(["alerts", "dead", "--database", migrated]) == 0
    out = capsys.readouterr().out
    assert "1 dead letter(s)" in out and "d-dead" in out and "camera.tampering.blocked" in out and "HTTP 501" in out
    assert "d-pending" not in out and long_id[:8] not in out and max(len(line) for line in out.splitlines()) <= 80
    monkeypatch.setenv("COLUMNS", "200")  # wide: the event's id gets a column too
    assert main(["alerts", "dead", "--database", migrated]) == 0
    assert "ev-d-dead" in capsys.readouterr().out
    monkeypatch.setenv("COLUMNS", "80")
    with open_database(migrated) as db:  # a 32-character id stays whole (it is copied into `resend`)
        fail(SqlDeliveryLog(db), long_id, 1, dead=True)
    assert main(["alerts", "dead", "--database", migrated]) == 0
    assert long_id in capsys.readouterr().out
    with open_database(migrated) as db:
        SqlDeliveryLog(db).mark_resend(long_id, at(5))
    assert main(["alerts", "resend", "d-dead", "d-pending", "nope", "--database", migrated]) == 2
    captured = capsys.readouterr()
    assert "d-dead: hook <- event ev-d-dead: pending again" in captured.out
    assert "2 of 3 not re-sent" in captured.err and "delivery d-pending is pending" in captured.err
    assert "no delivery has the id 'nope'" in captured.err
    assert main(["alerts", "dead", "--database", migrated, "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == []
    assert main(["alerts", "dead", "--database", migrated]) == 0
    assert "no dead letters" in capsys.readouterr().out


def test_alerts_commands_refuse_a_folder_without_a_store_or_two_places(tmp_path, capsys) -> None:
    assert main(["alerts", "dead", "--data-dir", str(tmp_path)]) == 2
    assert "no event store here" in capsys.readouterr().err and not (tmp_path / "storewatch.db").exists()
    url = f"sqlite:///{tmp_path / 'other.db'}"
    assert main(["alerts", "resend", "x", "--data-dir", str(tmp_path), "--database", url]) == 2
    assert "not both" in capsys.readouterr().err
    assert main(["alerts", "dead", "--database", url]) == 2  # a database storewatch never set up
    assert "no storewatch tables" in capsys.readouterr().err


def test_alerts_dead_reads_the_data_folder_of_storewatch_run(tmp_path, capsys) -> None:
    from storewatch.store import default_url

    upgrade(default_url(tmp_path))
    with open_database(default_url(tmp_path)) as db:
        log = SqlDeliveryLog(db)
        log.add(delivery("d1", "lp-desk"))
        fail(log, "d1", 1, dead=True)
    assert main(["alerts", "dead", "--data-dir", str(tmp_path), "--json"]) == 0
    [row] = json.loads(capsys.readouterr().out)
    assert (row["id"], row["channel"], row["attempts"], row["last_error"]) == ("d1", "lp-desk", 1, "HTTP 501")
    assert datetime.fromisoformat(row["gave_up_utc"]) == at(1) and row["event_type"] == "camera.tampering.blocked"
    assert datetime.fromisoformat(row["created_utc"]) - at(0) == timedelta(0)
