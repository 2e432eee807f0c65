"""Alerts in the database (SQLite and PostgreSQL): raised once per event and route, acknowledged exactly once."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from storewatch.errors import StorewatchError
from storewatch.store.alerts import AlertNotFoundError, AlertNotWaitingError, AlertRepository
from storewatch.store.db import Database
from storewatch.store.models import AlertStatus
from tests.store.conftest import T0, make_event


def test_an_alert_is_raised_once_per_event_and_route(database: Database) -> None:
    repo = AlertRepository(database)
    e = make_event(1, camera="s1/door")
    assert repo.raise_alert("a1", e, "guards", T0) == "a1"
    assert repo.raise_alert("a2", e, "guards", T0) == "a1"  # a replayed event
    assert repo.raise_alert("a3", e, "managers", T0) == "a3"
    record = repo.get("a1")
    assert record is not None and (record.store, record.camera, record.status) == ("s1", "s1/door", AlertStatus.WAITING)
    repo.escalated("a1", 1, T0 + timedelta(seconds=60))
    assert repo.get("a1").level == 1  # type: ignore[union-attr]
    assert sorted(a.id for a in repo.waiting(T0 - timedelta(hours=1))) == ["a1", "a3"]


def test_exactly_one_of_many_acknowledgements_wins(database: Database) -> None:
    repo = AlertRepository(database)
    repo.raise_alert("a1", make_event(1), "guards", T0)
    wins: list[str] = []
    losses: list[str] = []

    def ack(who: str) -> None:
        try:
            repo.acknowledge("a1", who, T0 + timedelta(seconds=30))
            wins.append(who)
        except AlertNotWaitingError as exc:
            losses.append(str(exc))

    threads = [threading.Thread(target=ack, args=(f"guard-{i}",)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(wins) == 1 and len(losses) == 5 and f"by {wins[0]}" in losses[0]
    record = repo.get("a1")
    assert record is not None and record.status == AlertStatus.ACKNOWLEDGED and record.time_to_ack_s == 30.0
    assert repo.statuses(["a1", "nope"]) == {"a1": AlertStatus.ACKNOWLEDGED}


def test_a_false_alarm_needs_a_reason_and_unknown_alerts_are_named(database: Database) -> None:
    repo = AlertRepository(database)
    repo.raise_alert("a1", make_event(1), "guards", T0)
    with pytest.raises(StorewatchError, match="needs a reason"):
        repo.acknowledge("a1", "ana", T0, false_alarm_reason="  ")
    done = repo.acknowledge("a1", "ana", T0, false_alarm_reason="staff restocking")
    assert done.status == AlertStatus.FALSE_ALARM and done.false_alarm_reason == "staff restocking"
    with pytest.raises(AlertNotWaitingError, match="called a false alarm already"):
        repo.acknowledge("a1", "bo", T0)
    with pytest.raises(AlertNotFoundError):
        repo.acknowledge("nope", "bo", T0)
    assert [a.id for a in repo.list(status=AlertStatus.FALSE_ALARM)] == ["a1"]
