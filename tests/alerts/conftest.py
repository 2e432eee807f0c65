"""Fixtures for the alert tests: events and messages, fast retry policies and a receiver that is stopped at the end."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from storewatch.alerts import AlertMessage, RetryPolicy
from storewatch.core.events import Event, EventState, Severity
from storewatch.core.ids import CameraId
from tests.alerts.servers import Receiver

T0 = datetime(2026, 3, 1, 14, 5, 9, tzinfo=UTC)
FAST = RetryPolicy(max_attempts=40, initial_delay_s=0.02, factor=2.0, max_delay_s=0.1, jitter=0.1)
"""Backoff in tens of milliseconds, so retry tests take well under a second."""


def make_event(
    type_: str = "camera.tampering.blocked",
    severity: Severity = Severity.HIGH,
    state: EventState = EventState.STARTED,
    **fields: object,
) -> Event:
    defaults: dict[str, object] = {
        "id": "ev-1",
        "camera": CameraId("store-1/door"),
        "zone": "exit",
        "start_utc": T0,
        "explanation": "view blocked: 92% of the image changed for 5 s",
        "values": {"changed": 0.92},
    }
    event = Event.model_validate({**defaults, "type": type_, "severity": severity, **fields})
    return event if state is EventState.STARTED else event.end(datetime(2026, 3, 1, 14, 6, tzinfo=UTC))


def make_message(event: Event | None = None, **links: str) -> AlertMessage:
    return AlertMessage.from_event(
        event or make_event(),
        snapshot_url=links.get("snapshot", "https://sw.example/s/ev-1.jpg?sig=abc&exp=1"),
        clip_url=links.get("clip", "https://sw.example/c/ev-1.mp4?sig=def&exp=1"),
        ack_url=links.get("ack", "https://sw.example/ack/ev-1?sig=ghi"),
    )


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.stop()
