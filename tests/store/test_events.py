"""Event upserts are idempotent and order-safe; listing filters and pages; on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from storewatch.core.events import Event, EventState, Severity
from storewatch.store.db import Database
from storewatch.store.events import EventRepository
from storewatch.store.merge import merge_events
from storewatch.store.models import EventRow
from tests.store.conftest import T0, make_event

STARTED = make_event(1, values={"n": 1}, track_ids=("s1/c1/1",))
UPDATED = STARTED.model_copy(
    update={"state": EventState.UPDATED, "values": {"n": 2}, "track_ids": ("s1/c1/2",), "severity": Severity.HIGH}
)
ENDED = UPDATED.end(T0 + timedelta(seconds=61), "left", at_s=70.0, n=3)


@pytest.mark.parametrize(
    ("order", "state", "n", "end_s", "severity"),
    [
        ((STARTED, UPDATED, ENDED), "ended", 3, 70.0, "high"),
        ((ENDED, STARTED), "ended", 3, 70.0, "high"),
        ((UPDATED, STARTED), "updated", 2, None, "high"),
        ((ENDED, UPDATED, STARTED), "ended", 3, 70.0, "high"),
        ((STARTED, UPDATED), "updated", 2, None, "high"),
        ((STARTED,), "started", 1, None, "medium"),
    ],
)
def test_merge_keeps_the_furthest_state_whatever_the_order(
    order: tuple[Event, ...], state: str, n: int, end_s: float | None, severity: str
) -> None:
    merged = order[0]
    for message in order[1:]:
        merged = merge_events(merged, message)
    assert (merged.state.value, merged.values["n"], merged.end_s, merged.severity.value) == (state, n, end_s, severity)
    assert merged.start_utc == STARTED.start_utc
    assert set(merged.track_ids) == {t for m in order for t in m.track_ids}
    assert merge_events(merged, order[-1]) == merged  # idempotent


def test_merge_unites_evidence_and_the_newer_path_wins_a_kind() -> None:
    a = STARTED.with_evidence(snapshot="a.jpg")
    b = ENDED.with_evidence(snapshot="b.jpg", clip="b.mp4")
    assert merge_events(a, b).evidence == {"snapshot": "b.jpg", "clip": "b.mp4"}
    assert merge_events(b, a).evidence == {"snapshot": "b.jpg", "clip": "b.mp4"}  # a is older: never overwrites


def _rows(db: Database) -> int:
    with db.session() as s:
        return int(s.scalar(select(func.count()).select_from(EventRow)) or 0)


def test_the_same_events_twice_give_the_same_rows(database: Database) -> None:
    repo = EventRepository(database)
    events = [make_event(i, values={"i": i}).with_evidence(snapshot=f"{i}.jpg") for i in range(50)]
    assert repo.upsert_many(events) == 50
    first = repo.list(limit=1000)
    with database.session() as s:
        updated = {r.id: r.updated_utc for r in s.scalars(select(EventRow))}
    assert repo.upsert_many(events) == 0
    assert repo.upsert_many(reversed(events)) == 0
    assert _rows(database) == 50
    assert repo.list(limit=1000) == first
    with database.session() as s:
        assert {r.id: r.updated_utc for r in s.scalars(select(EventRow))} == updated  # no write when nothing changed


def test_started_then_ended_is_one_row_with_its_end_time(database: Database) -> None:
    repo = EventRepository(database)
    repo.upsert(STARTED)
    repo.upsert(ENDED)
    assert _rows(database) == 1
    got = repo.get(STARTED.id)
    assert got is not None
    assert (got.state, got.end_utc, got.end_s, got.duration_s) == (EventState.ENDED, ENDED.end_utc, 70.0, 60.0)
    assert got.explanation == "left" and got.values == {"n": 3}
    assert got.end_utc is not None and got.end_utc.utcoffset() == timedelta(0)


def test_evidence_written_later_is_merged_into_the_event(database: Database) -> None:
    repo = EventRepository(database)
    repo.upsert(STARTED.with_evidence(snapshot="1.jpg"))
    repo.upsert(ENDED)
    repo.upsert(ENDED.with_evidence(clip="1.mp4"))
    got = repo.get(STARTED.id)
    assert got is not None and got.evidence == {"snapshot": "1.jpg", "clip": "1.mp4"}


def test_a_late_older_message_never_overwrites_a_newer_state(database: Database) -> None:
    repo = EventRepository(database)
    repo.upsert(ENDED)
    repo.upsert(UPDATED)
    repo.upsert_many([STARTED.with_evidence(snapshot="late.jpg"), UPDATED])
    got = repo.get(STARTED.id)
    assert got is not None
    assert (got.state, got.values, got.end_s, got.evidence) == (
        EventState.ENDED,
        {"n": 3},
        70.0,
        {"snapshot": "late.jpg"},
    )
    assert set(got.track_ids) == {"s1/c1/1", "s1/c1/2"}


def test_messages_of_one_event_in_one_batch_fold_into_one_row(database: Database) -> None:
    repo = EventRepository(database)
    assert repo.upsert_many([ENDED, STARTED, UPDATED, ENDED]) == 1
    got = repo.get(STARTED.id)
    assert got is not None and got.state is EventState.ENDED and _rows(database) == 1


def test_get_unknown_id_is_none(database: Database) -> None:
    assert EventRepository(database).get("nope") is None


def test_list_filters_by_store_camera_type_and_time(database: Database) -> None:
    repo = EventRepository(database)
    cameras = ["s1/c1", "s1/c2", "s2/c1"]
    types = ["behaviour.loitering", "camera.offline"]
    repo.upsert_many(make_event(i, camera=cameras[i % 3], type_=types[i % 2]) for i in range(60))
    assert [e.id for e in repo.list(limit=3)] == ["e59", "e58", "e57"]  # newest first
    assert {e.camera for e in repo.list(store="s1", limit=1000)} == {"s1/c1", "s1/c2"}
    assert repo.count(store="s1") == 40 and repo.count(store="s2") == 20
    assert repo.count(camera="s1/c2", type="camera.offline") == 10
    since, until = T0 + timedelta(seconds=10), T0 + timedelta(seconds=20)
    assert [e.id for e in repo.list(since=since, until=until)] == [f"e{i}" for i in range(19, 9, -1)]
    assert repo.list(store="s3") == []
    pages = [e.id for off in range(0, 60, 25) for e in repo.list(limit=25, offset=off)]
    assert pages == [f"e{i}" for i in range(59, -1, -1)]


@pytest.mark.parametrize(("limit", "offset"), [(0, 0), (1001, 0), (10, -1)])
def test_list_refuses_bad_pages(database: Database, limit: int, offset: int) -> None:
    with pytest.raises(ValueError, match="limit"):
        EventRepository(database).list(limit=limit, offset=offset)


def test_values_that_are_not_json_are_stored_as_text(database: Database) -> None:
    repo = EventRepository(database)
    repo.upsert(make_event(1, values={"ratio": float("nan"), "top": float("inf"), "n": 2, "ok": True}))
    got = repo.get("e1")
    assert got is not None and got.values == {"ratio": "nan", "top": "inf", "n": 2, "ok": True}
