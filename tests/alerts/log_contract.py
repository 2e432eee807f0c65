"""What every ``DeliveryLog`` must do, as a test class to subclass: ``InMemoryDeliveryLog`` (tests/alerts) and
``SqlDeliveryLog`` on SQLite and PostgreSQL (tests/store) run the same tests, so the database log can replace the
in-memory one without the ``Deliverer`` noticing.

A subclass provides the ``log`` fixture (a fresh, empty log). Times are fixed, so nothing here waits on a clock,
except the two tests that run a real ``Deliverer`` on the log.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from storewatch.alerts import (
    AlertMessage,
    Attempt,
    Deliverer,
    Delivery,
    DeliveryError,
    DeliveryLog,
    DeliveryStatus,
    Route,
)
from storewatch.alerts.config import RetryPolicy
from tests.alerts.conftest import FAST, make_event, make_message
from tests.helpers import wait_for

T = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T + timedelta(seconds=seconds)


def delivery(id_: str, channel: str = "hook", *, created_s: float = 0.0, due_s: float | None = 0.0) -> Delivery:
    message = make_message(make_event(id=f"ev-{id_}"))
    return Delivery(id_, channel, message, created_at=at(created_s), due_at=None if due_s is None else at(due_s))


def fail(log: DeliveryLog, id_: str, number: int, *, dead: bool = False, retry_s: float = 10.0) -> Delivery:
    """A failed attempt at ``at(number)``: pending again (due ``retry_s`` later) or dead."""
    attempt = Attempt(number, at(number), ok=False, error=f"HTTP 50{number}")
    status = DeliveryStatus.DEAD if dead else DeliveryStatus.PENDING
    return log.record_attempt(id_, attempt, status, None if dead else at(number + retry_s))


class Flaky:
    """A channel that fails its first ``failures`` calls with a retryable error, then delivers."""

    def __init__(self, failures: int = 0, *, permanent: bool = False) -> None:
        self.failures, self.permanent = failures, permanent
        self.sent: list[str] = []
        self.lock = threading.Lock()

    def send(self, message: AlertMessage, delivery_id: str) -> None:
        with self.lock:
            if self.failures > 0:
                self.failures -= 1
                raise DeliveryError("HTTP 503", permanent=self.permanent)
            self.sent.append(delivery_id)

    def close(self) -> None:
        pass


class DeliveryLogContract:
    """The behaviour of ``InMemoryDeliveryLog``, which every ``DeliveryLog`` shares."""

    @pytest.fixture
    def log(self) -> Iterator[DeliveryLog]:
        raise NotImplementedError("a subclass provides the log under test")

    def test_add_then_get_gives_the_same_delivery_back(self, log: DeliveryLog) -> None:
        d = delivery("d1")
        log.add(d)
        got = log.get("d1")
        assert got == d and got is not None and got.message == d.message and got.created_at.tzinfo is not None
        assert log.get("nope") is None and log.attempts("d1") == [] and log.attempts("nope") == []

    def test_pending_due_filters_by_channel_and_due_time_and_orders_by_due_then_age(self, log: DeliveryLog) -> None:
        log.add(delivery("late", due_s=30))
        log.add(delivery("b", created_s=2, due_s=5))
        log.add(delivery("a", created_s=1, due_s=5))
        log.add(delivery("first", created_s=3, due_s=1))
        log.add(delivery("other", "mail", due_s=0))
        log.add(delivery("undue", due_s=None))
        assert [d.id for d in log.pending_due("hook", at(10))] == ["first", "a", "b"]
        assert [d.id for d in log.pending_due("hook", at(10), limit=2)] == ["first", "a"]
        assert [d.id for d in log.pending_due("hook", at(5))] == ["first", "a", "b"]  # due at `now` is due
        assert [d.id for d in log.pending_due("hook", at(0))] == []
        assert [d.id for d in log.pending_due("mail", at(0))] == ["other"]
        assert log.pending_due("nobody", at(100)) == []

    def test_next_due_is_the_earliest_pending_due_time_of_the_channel(self, log: DeliveryLog) -> None:
        assert log.next_due("hook") is None
        log.add(delivery("a", due_s=7))
        log.add(delivery("b", due_s=3))
        log.add(delivery("m", "mail", due_s=1))
        assert log.next_due("hook") == at(3) and log.next_due("mail") == at(1)
        log.record_attempt("b", Attempt(1, at(3), ok=True), DeliveryStatus.DELIVERED, None)
        assert log.next_due("hook") == at(7)
        fail(log, "a", 1, dead=True)
        assert log.next_due("hook") is None

    def test_record_attempt_updates_the_delivery_and_keeps_every_attempt(self, log: DeliveryLog) -> None:
        log.add(delivery("d1"))
        pending = fail(log, "d1", 1, retry_s=4)
        assert (pending.status, pending.attempts, pending.due_at, pending.last_error) == (
            DeliveryStatus.PENDING, 1, at(5), "HTTP 501",
        )  # fmt: skip
        assert log.get("d1") == pending
        assert [d.id for d in log.pending_due("hook", at(4))] == [] and log.next_due("hook") == at(5)
        done = log.record_attempt("d1", Attempt(2, at(6), ok=True), DeliveryStatus.DELIVERED, None)
        assert (done.status, done.attempts, done.due_at, done.last_error) == (DeliveryStatus.DELIVERED, 2, None, None)
        assert log.get("d1") == done and log.pending_due("hook", at(100)) == [] and log.dead() == []
        assert log.attempts("d1") == [Attempt(1, at(1), False, "HTTP 501"), Attempt(2, at(6), True, None)]
        with pytest.raises(KeyError):
            log.record_attempt("nope", Attempt(1, at(1), ok=True), DeliveryStatus.DELIVERED, None)

    def test_dead_lists_dead_letters_in_the_order_they_died_by_channel(self, log: DeliveryLog) -> None:
        for id_, channel in (("x", "hook"), ("y", "mail"), ("z", "hook"), ("ok", "hook")):
            log.add(delivery(id_, channel))
        fail(log, "z", 1, dead=True)
        fail(log, "y", 1, dead=True)
        fail(log, "x", 1)
        fail(log, "x", 2, dead=True)
        log.record_attempt("ok", Attempt(1, at(1), ok=True), DeliveryStatus.DELIVERED, None)
        assert [d.id for d in log.dead()] == ["z", "y", "x"]
        assert [d.id for d in log.dead("hook")] == ["z", "x"] and [d.id for d in log.dead("sms")] == []
        x = log.dead("hook")[1]
        assert (x.status, x.attempts, x.due_at, x.last_error) == (DeliveryStatus.DEAD, 2, None, "HTTP 502")

    def test_mark_resend_gives_a_dead_letter_a_fresh_round_and_keeps_its_history(self, log: DeliveryLog) -> None:
        log.add(delivery("d1"))
        fail(log, "d1", 1)
        fail(log, "d1", 2, dead=True)
        again = log.mark_resend("d1", at(60))
        assert (again.status, again.attempts, again.due_at) == (DeliveryStatus.PENDING, 0, at(60))
        assert again.last_error == "HTTP 502" and log.get("d1") == again and log.dead() == []
        assert [d.id for d in log.pending_due("hook", at(60))] == ["d1"] and log.next_due("hook") == at(60)
        log.record_attempt("d1", Attempt(1, at(61), ok=True), DeliveryStatus.DELIVERED, None)
        assert [(a.number, a.ok) for a in log.attempts("d1")] == [(1, False), (2, False), (1, True)]

    def test_mark_resend_refuses_unknown_and_not_dead_deliveries(self, log: DeliveryLog) -> None:
        log.add(delivery("pending"))
        log.add(delivery("done"))
        log.record_attempt("done", Attempt(1, at(1), ok=True), DeliveryStatus.DELIVERED, None)
        with pytest.raises(KeyError, match="no delivery 'nope'"):
            log.mark_resend("nope", at(1))
        with pytest.raises(ValueError, match="delivery pending is pending; only dead deliveries are re-sent"):
            log.mark_resend("pending", at(1))
        with pytest.raises(ValueError, match="delivery done is delivered; only dead deliveries are re-sent"):
            log.mark_resend("done", at(1))
        assert log.get("pending") == delivery("pending")  # a refused re-send changes nothing

    def test_adding_an_id_again_overwrites_the_delivery_and_keeps_its_attempts(self, log: DeliveryLog) -> None:
        log.add(delivery("d1"))
        fail(log, "d1", 1)
        log.add(delivery("d1", due_s=50))
        got = log.get("d1")
        assert got is not None and got.due_at == at(50) and got.attempts == 0 and len(log.attempts("d1")) == 1

    def test_many_threads_at_once_lose_nothing(self, log: DeliveryLog) -> None:
        def work(n: int) -> None:
            for i in range(10):
                id_ = f"t{n}-{i}"
                log.add(delivery(id_, f"ch{n}", created_s=i, due_s=i))
                log.pending_due(f"ch{n}", at(100))
                fail(log, id_, 1)
                log.record_attempt(id_, Attempt(2, at(2), ok=True), DeliveryStatus.DELIVERED, None)

        threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        for n in range(4):
            for i in range(10):
                got = log.get(f"t{n}-{i}")
                assert got is not None and got.status is DeliveryStatus.DELIVERED
                assert [a.ok for a in log.attempts(f"t{n}-{i}")] == [False, True]
            assert log.next_due(f"ch{n}") is None

    def test_a_deliverer_on_this_log_retries_then_delivers(self, log: DeliveryLog) -> None:
        sender = Flaky(failures=2)
        with Deliverer([Route("hook", sender, FAST)], log) as deliverer:
            ids = [deliverer.submit(make_message(make_event(id=f"ev-{i}")))[0] for i in range(3)]
            wait_for(lambda: all(getattr(log.get(i), "status", None) == "delivered" for i in ids), timeout_s=10)
        assert sorted(sender.sent) == sorted(ids)  # each once
        assert sum(len(log.attempts(i)) for i in ids) == 5 and deliverer.counts()["hook"].failed_attempts == 2

    def test_a_deliverer_on_this_log_kills_then_resends(self, log: DeliveryLog) -> None:
        sender = Flaky(failures=1, permanent=True)
        with Deliverer([Route("hook", sender, RetryPolicy(max_attempts=2, initial_delay_s=0.01))], log) as d:
            [did] = d.submit(make_message())
            wait_for(lambda: [x.id for x in d.dead()] == [did], timeout_s=10)
            assert d.resend(did).status is DeliveryStatus.PENDING
            wait_for(lambda: sender.sent == [did], timeout_s=10)
        assert [(a.number, a.ok) for a in log.attempts(did)] == [(1, False), (1, True)] and d.dead() == []
