"""The audit log's hash chain on both backends: intact, edited, removed, moved, cut short, purged, and appended
to from many threads at once without forking."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import delete, func, select, update

from storewatch.audit.chain import GENESIS, ActorKind, AuditAction, AuditRecord, ProblemKind
from storewatch.store.audit import AuditFilter, AuditLog, parse_anchor
from storewatch.store.audit_models import AuditRow
from storewatch.store.db import Database, open_database

T0 = datetime(2026, 3, 1, 12, tzinfo=UTC)


def _fill(log: AuditLog, n: int, start: datetime = T0) -> None:
    for i in range(n):
        action = AuditAction.VIEW if i % 2 else AuditAction.SEARCH
        log.append(AuditRecord(start + timedelta(minutes=i), f"user{i % 3}", ActorKind.USER, action, "s1",
                               f"incident:i{i}", {"i": i, "via": "test"}))  # fmt: skip


def test_an_untouched_chain_verifies_and_reports_its_head(database: Database) -> None:
    log = AuditLog(database)
    assert log.verify().ok and log.verify().head is None
    _fill(log, 12)
    report = log.verify()
    assert report.ok and report.rows == 12 and report.head is not None and report.head.seq == 12
    first = log.list(newest_first=False, limit=1)[0]
    assert first.prev_hash == GENESIS and first.details == {"i": 0, "via": "test"}
    assert log.verify(anchor=(report.head.seq, report.head.hash)).ok


def test_an_edited_detail_is_named(database: Database) -> None:
    log = AuditLog(database)
    _fill(log, 10)
    with database.session() as s:
        s.execute(update(AuditRow).where(AuditRow.seq == 6).values(detail='{"i":6,"via":"someone else"}'))
    report = log.verify()
    assert not report.ok and report.problem is not None
    assert (report.problem.kind, report.problem.seq) == (ProblemKind.EDITED, 6)
    assert report.rows == 5 and "row 6 was edited" in report.problem.describe()


def test_an_edited_actor_or_time_is_named(database: Database) -> None:
    log = AuditLog(database)
    _fill(log, 5)
    with database.session() as s:
        s.execute(update(AuditRow).where(AuditRow.seq == 3).values(at_utc=T0 + timedelta(days=1)))
    assert log.verify().problem is not None and log.verify().problem.seq == 3  # type: ignore[union-attr]


def test_a_removed_middle_row_is_named(database: Database) -> None:
    log = AuditLog(database)
    _fill(log, 10)
    with database.session() as s:
        s.execute(delete(AuditRow).where(AuditRow.seq == 4))
    problem = log.verify().problem
    assert problem is not None and (problem.kind, problem.seq) == (ProblemKind.REMOVED, 4)
    assert problem.describe() == "row 4 is missing (removed)"


def test_removed_first_rows_are_named(database: Database) -> None:
    log = AuditLog(database)
    _fill(log, 6)
    with database.session() as s:
        s.execute(delete(AuditRow).where(AuditRow.seq <= 2))
    problem = log.verify().problem
    assert problem is not None and problem.kind == ProblemKind.REMOVED and problem.seq == 1


def test_moved_rows_are_named(database: Database) -> None:
    log = AuditLog(database)
    _fill(log, 8)
    with database.session() as s:  # swap rows 5 and 6 (through a free number: seq is the key)
        s.execute(update(AuditRow).where(AuditRow.seq == 5).values(seq=1000))
        s.execute(update(AuditRow).where(AuditRow.seq == 6).values(seq=5))
        s.execute(update(AuditRow).where(AuditRow.seq == 1000).values(seq=6))
    problem = log.verify().problem
    assert problem is not None and (problem.kind, problem.seq) == (ProblemKind.REORDERED, 5)
    assert problem.describe() == "row 5 was moved: it was written as row 6"


def test_a_renumbered_removal_breaks_the_link(database: Database) -> None:
    log = AuditLog(database)
    _fill(log, 6)
    with database.session() as s:  # remove row 3 and close the gap, as someone covering their tracks would
        s.execute(delete(AuditRow).where(AuditRow.seq == 3))
        for seq in (4, 5, 6):
            s.execute(update(AuditRow).where(AuditRow.seq == seq).values(seq=seq - 1))
    problem = log.verify().problem
    assert problem is not None and problem.seq == 3 and problem.kind in (ProblemKind.REORDERED, ProblemKind.EDITED)


def test_an_anchor_catches_the_newest_rows_cut_off(database: Database) -> None:
    log = AuditLog(database)
    _fill(log, 6)
    head = log.head()
    assert head is not None
    with database.session() as s:
        s.execute(delete(AuditRow).where(AuditRow.seq >= 5))
    assert log.verify().ok  # the chain itself is intact: only the anchor can tell
    problem = log.verify(anchor=(head.seq, head.hash)).problem
    assert problem is not None and problem.kind == ProblemKind.ANCHOR and "row 6 is gone" in problem.describe()


def test_appends_from_many_threads_never_fork(db_url: str) -> None:
    from storewatch.store.migrate import upgrade

    upgrade(db_url)
    threads, per_thread = 8, 15
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            with open_database(db_url) as db:  # its own engine: a separate process would do the same
                log = AuditLog(db)
                for i in range(per_thread):
                    log.append(AuditRecord(datetime.now(UTC), f"t{n}", ActorKind.SYSTEM, AuditAction.VIEW,
                                           detail={"n": n, "i": i}))  # fmt: skip
        except BaseException as exc:  # reported below
            errors.append(exc)

    workers = [threading.Thread(target=work, args=(n,)) for n in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(120)
    assert not errors, errors
    with open_database(db_url) as db:
        log = AuditLog(db)
        report = log.verify()
        assert report.ok and report.rows == threads * per_thread
        with db.session() as s:
            assert s.scalar(select(func.count(func.distinct(AuditRow.prev_hash)))) == threads * per_thread


def test_purge_removes_the_oldest_rows_and_the_chain_still_verifies(database: Database) -> None:
    log = AuditLog(database)
    _fill(log, 10)  # minutes 0..9
    cutoff = T0 + timedelta(minutes=4)
    record = AuditRecord(T0 + timedelta(days=1), "storewatch", ActorKind.SYSTEM, AuditAction.RETENTION_PURGE,
                         detail={"kinds": {}})  # fmt: skip
    assert log.purge(cutoff, record, dry_run=True) == (4, None) and log.count() == 10
    removed, entry = log.purge(cutoff, record)
    assert removed == 4 and entry is not None and entry.seq == 11
    assert entry.details["audit"]["through_seq"] == 4 and log.count() == 7
    report = log.verify()
    assert report.ok and report.start.seq == 5 and report.start.purged and report.rows == 7
    with database.session() as s:  # now remove one more from the start: the purge row does not cover it
        s.execute(delete(AuditRow).where(AuditRow.seq == 5))
    problem = log.verify().problem
    assert problem is not None and problem.kind == ProblemKind.REMOVED and problem.seq == 5


def test_list_filters_and_scan(database: Database) -> None:
    log = AuditLog(database)
    _fill(log, 9)
    assert [e.seq for e in log.list(AuditFilter(actor="user1"), limit=10)] == [8, 5, 2]
    assert {e.action for e in log.list(AuditFilter(action="view"))} == {"view"}
    assert log.count(AuditFilter(since=T0 + timedelta(minutes=7))) == 2
    assert [e.seq for e in log.scan(AuditFilter(until=T0 + timedelta(minutes=2)))] == [1, 2]
    with pytest.raises(ValueError, match="limit"):
        log.list(limit=0)


def test_anchor_text_is_checked() -> None:
    assert parse_anchor("7:" + "A" * 64) == (7, "a" * 64)
    with pytest.raises(ValueError, match="SEQ:HASH"):
        parse_anchor("7:abc")
