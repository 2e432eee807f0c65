"""The deliverer with in-process channels: retries, dead letters, re-send, routing, overflow, stop and resume."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from storewatch.alerts import (
    AlertMessage,
    Attempt,
    Deliverer,
    Delivery,
    DeliveryError,
    DeliveryStatus,
    InMemoryDeliveryLog,
    RetryPolicy,
    Route,
)
from storewatch.core.events import Severity
from tests.alerts.conftest import FAST, make_event, make_message
from tests.helpers import wait_for


class Scripted:
    """A channel that fails with the scripted errors first, then delivers."""

    def __init__(self, *failures: Exception) -> None:
        self.failures = list(failures)
        self.sent: list[tuple[str, str]] = []
        self.calls = 0
        self.closed = False

    def send(self, message: AlertMessage, delivery_id: str) -> None:
        self.calls += 1
        if self.failures:
            raise self.failures.pop(0)
        self.sent.append((message.event_id, delivery_id))

    def close(self) -> None:
        self.closed = True


def status(log: InMemoryDeliveryLog, delivery_id: str) -> DeliveryStatus | None:
    d = log.get(delivery_id)
    return None if d is None else d.status


@pytest.fixture
def log() -> InMemoryDeliveryLog:
    return InMemoryDeliveryLog()


@pytest.fixture
def running(log: InMemoryDeliveryLog) -> Iterator[list[Deliverer]]:
    made: list[Deliverer] = []
    yield made
    for d in made:
        d.stop(timeout_s=1.0)


def start(running: list[Deliverer], log: InMemoryDeliveryLog, *routes: Route, **kw: int) -> Deliverer:
    d = Deliverer(list(routes), log, **kw).start()  # type: ignore[arg-type]
    running.append(d)
    return d


def test_retries_until_delivered_and_records_every_attempt(log: InMemoryDeliveryLog, running: list[Deliverer]) -> None:
    sender = Scripted(DeliveryError("HTTP 503"), ConnectionRefusedError("refused"), RuntimeError("bug"))
    d = start(running, log, Route("hook", sender, FAST))
    [did] = d.submit(make_message())
    wait_for(lambda: status(log, did) is DeliveryStatus.DELIVERED)
    attempts = log.attempts(did)
    assert [a.number for a in attempts] == [1, 2, 3, 4] and [a.ok for a in attempts] == [False] * 3 + [True]
    assert attempts[0].error == "HTTP 503" and "ConnectionRefusedError" in (attempts[1].error or "")
    assert all(b.at > a.at for a, b in itertools.pairwise(attempts))
    assert sender.sent == [("ev-1", did)]
    counts = d.counts()["hook"]
    assert (counts.submitted, counts.delivered, counts.failed_attempts, counts.dead) == (1, 1, 3, 0)


def test_dead_after_max_attempts_then_resend(log: InMemoryDeliveryLog, running: list[Deliverer]) -> None:
    policy = RetryPolicy(max_attempts=3, initial_delay_s=0.01, max_delay_s=0.02, jitter=0.0)
    sender = Scripted(*[DeliveryError("HTTP 500")] * 3)
    d = start(running, log, Route("hook", sender, policy))
    [did] = d.submit(make_message())
    wait_for(lambda: status(log, did) is DeliveryStatus.DEAD)
    assert [x.id for x in d.dead()] == [did] and d.dead("other") == []
    assert sender.calls == 3 and d.counts()["hook"].dead == 1
    resent = d.resend(did)
    assert resent.status is DeliveryStatus.PENDING and resent.attempts == 0
    wait_for(lambda: status(log, did) is DeliveryStatus.DELIVERED)
    assert d.dead() == [] and [a.number for a in log.attempts(did)] == [1, 2, 3, 1]
    with pytest.raises(ValueError, match="only dead deliveries are re-sent"):
        d.resend(did)
    with pytest.raises(KeyError, match="no delivery"):
        d.resend("nope")


def test_permanent_failure_is_dead_at_once(log: InMemoryDeliveryLog, running: list[Deliverer]) -> None:
    sender = Scripted(DeliveryError("HTTP 404", permanent=True))
    d = start(running, log, Route("hook", sender, FAST))
    [did] = d.submit(make_message())
    wait_for(lambda: status(log, did) is DeliveryStatus.DEAD)
    assert sender.calls == 1 and log.get(did).last_error == "HTTP 404"  # type: ignore[union-attr]


def test_routes_by_min_severity(log: InMemoryDeliveryLog, running: list[Deliverer]) -> None:
    every, urgent = Scripted(), Scripted()
    d = start(running, log, Route("all", every, FAST), Route("urgent", urgent, FAST, Severity.HIGH))
    low_ids = d.submit(make_message(make_event(severity=Severity.LOW)))
    high_ids = d.submit(make_message(make_event(severity=Severity.CRITICAL)))
    assert len(low_ids) == 1 and len(high_ids) == 2
    wait_for(lambda: len(every.sent) == 2 and len(urgent.sent) == 1)


def test_a_stuck_channel_does_not_delay_another(log: InMemoryDeliveryLog, running: list[Deliverer]) -> None:
    release = threading.Event()

    class Stuck(Scripted):
        def send(self, message: AlertMessage, delivery_id: str) -> None:
            release.wait(5)
            super().send(message, delivery_id)

    stuck, quick = Stuck(), Scripted()
    d = start(running, log, Route("slow", stuck, FAST), Route("fast", quick, FAST))
    d.submit(make_message())
    wait_for(lambda: len(quick.sent) == 1)
    assert stuck.sent == []
    release.set()
    wait_for(lambda: len(stuck.sent) == 1)


def test_inbox_overflow_drops_oldest_and_stop_keeps_the_rest_for_the_next_run(log: InMemoryDeliveryLog) -> None:
    idle = Deliverer([Route("hook", Scripted(), FAST)], log, inbox_size=2)  # never started: nothing drains it
    ids = [idle.submit(make_message(make_event(id=f"ev-{i}")))[0] for i in range(3)]
    assert idle.counts()["hook"].dropped == 1
    idle.stop()
    assert log.get(ids[0]) is None and [status(log, i) for i in ids[1:]] == [DeliveryStatus.PENDING] * 2
    sender = Scripted()
    with Deliverer([Route("hook", sender, FAST)], log):
        wait_for(lambda: len(sender.sent) == 2)
    assert [e for e, _ in sender.sent] == ["ev-1", "ev-2"] and sender.closed
    with pytest.raises(RuntimeError, match="stopped"):
        idle.submit(make_message())


def test_stop_flushes_what_is_due_and_leaves_retries_pending(log: InMemoryDeliveryLog) -> None:
    slow_retry = RetryPolicy(initial_delay_s=60, max_delay_s=60)
    ok, failing = Scripted(), Scripted(*[DeliveryError("HTTP 503")] * 5)
    d = Deliverer([Route("ok", ok, slow_retry), Route("down", failing, slow_retry)], log).start()
    ids = d.submit(make_message())
    wait_for(lambda: failing.calls == 1)
    d.stop(timeout_s=1.0)
    assert ok.sent and status(log, ids[0]) is DeliveryStatus.DELIVERED
    pending = log.get(ids[1])
    assert pending is not None and pending.status is DeliveryStatus.PENDING and pending.attempts == 1
    assert pending.due_at is not None and pending.due_at > datetime.now(UTC)


def test_in_memory_log_keeps_a_bounded_history() -> None:
    log = InMemoryDeliveryLog(keep_delivered=2, keep_dead=1)
    msg, t = make_message(), datetime(2026, 1, 1, tzinfo=UTC)
    for i in range(5):
        log.add(Delivery(f"d{i}", "hook", msg, t, due_at=t))
    for i in range(3):
        log.record_attempt(f"d{i}", Attempt(1, t, True), DeliveryStatus.DELIVERED, None)
    for i in (3, 4):
        log.record_attempt(f"d{i}", Attempt(1, t, False, "x"), DeliveryStatus.DEAD, None)
    assert log.get("d0") is None and log.get("d1") is not None and [d.id for d in log.dead()] == ["d4"]
    assert log.evicted == 2 and log.attempts("d0") == []
