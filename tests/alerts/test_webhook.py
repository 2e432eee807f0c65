"""Webhooks against a real HTTP receiver on 127.0.0.1: signature, outage then recovery, 4xx dead letter, re-send."""

from __future__ import annotations

import json
import logging
import socket
import time
from collections.abc import Iterator

import pytest

from storewatch.alerts import Deliverer, DeliveryError, DeliveryStatus, InMemoryDeliveryLog, Route, WebhookChannel
from storewatch.alerts.webhook import (
    DELIVERY_HEADER,
    EVENT_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    WebhookSender,
    sign,
    verify_signature,
)
from tests.alerts.conftest import FAST, make_message
from tests.alerts.servers import Receiver, Recorded, free_port
from tests.helpers import wait_for

SECRET = "webhook-secret-0123456789"


def channel(receiver: Receiver, **over: object) -> WebhookChannel:
    return WebhookChannel.model_validate(
        {"name": "hook", "url": f"{receiver.url}/alerts", "secret": SECRET, "retry": FAST, **over}
    )


def signed_ok(r: Recorded) -> bool:
    return verify_signature(r.body, r.headers.get(SIGNATURE_HEADER), SECRET, r.headers.get(TIMESTAMP_HEADER))


@pytest.fixture
def deliverer_for(receiver: Receiver) -> Iterator[tuple[Deliverer, InMemoryDeliveryLog]]:
    log = InMemoryDeliveryLog()
    d = Deliverer([Route("hook", WebhookSender(channel(receiver)), FAST)], log).start()
    yield d, log
    d.stop(timeout_s=1.0)


def test_delivers_signed_json(receiver: Receiver, deliverer_for: tuple[Deliverer, InMemoryDeliveryLog]) -> None:
    receiver.start()
    d, log = deliverer_for
    [did] = d.submit(make_message())
    wait_for(lambda: len(receiver.requests) == 1)
    req = receiver.requests[0]
    assert req.path == "/alerts" and signed_ok(req)
    assert req.headers[EVENT_HEADER] == "ev-1" and req.headers[DELIVERY_HEADER] == did
    assert req.headers["Content-Type"].startswith("application/json")
    assert abs(int(req.headers[TIMESTAMP_HEADER]) - time.time()) < 5
    body = json.loads(req.body)
    assert body["schema"] == "storewatch.alert/1" and body["event_id"] == "ev-1"
    wait_for(lambda: getattr(log.get(did), "status", None) is DeliveryStatus.DELIVERED)


def test_receiver_down_then_back_loses_nothing(
    receiver: Receiver, deliverer_for: tuple[Deliverer, InMemoryDeliveryLog]
) -> None:
    """The outage is shortened with the backoff (FAST); the default schedule's span is checked in
    test_message_config.test_default_retry_schedule_outlasts_a_30_s_outage."""
    d, log = deliverer_for
    [did] = d.submit(make_message())  # nothing listens on the receiver's port yet: connection refused
    wait_for(lambda: len(log.attempts(did)) >= 4)
    receiver.start()
    wait_for(lambda: getattr(log.get(did), "status", None) is DeliveryStatus.DELIVERED)
    attempts = log.attempts(did)
    assert all(not a.ok and "cannot reach" in (a.error or "") for a in attempts[:-1]) and attempts[-1].ok
    assert len(receiver.requests) == 1 and signed_ok(receiver.requests[0])
    assert receiver.requests[0].headers[DELIVERY_HEADER] == did


def test_client_error_is_a_dead_letter_and_resend_delivers(
    receiver: Receiver, deliverer_for: tuple[Deliverer, InMemoryDeliveryLog]
) -> None:
    answers = [404]
    receiver.respond = lambda r: answers.pop(0) if answers else 204
    receiver.start()
    d, log = deliverer_for
    [did] = d.submit(make_message())
    wait_for(lambda: getattr(log.get(did), "status", None) is DeliveryStatus.DEAD)
    assert [x.id for x in d.dead()] == [did] and log.get(did).last_error == "HTTP 404"  # type: ignore[union-attr]
    assert len(receiver.requests) == 1
    d.resend(did)
    wait_for(lambda: getattr(log.get(did), "status", None) is DeliveryStatus.DELIVERED)
    assert len(receiver.requests) == 2 and d.dead() == []
    first, second = receiver.requests
    assert first.body == second.body and first.headers[DELIVERY_HEADER] == second.headers[DELIVERY_HEADER]


OUTCOMES = [(500, False), (503, False), (408, False), (429, False), (400, True), (401, True), (410, True)]


@pytest.mark.parametrize(("code", "permanent"), [*OUTCOMES, (302, True)])
def test_status_codes(receiver: Receiver, code: int, permanent: bool) -> None:
    receiver.respond = lambda r: (code, {"Location": f"{receiver.url}/elsewhere", "Retry-After": "7"})
    receiver.start()
    with pytest.raises(DeliveryError) as info:
        WebhookSender(channel(receiver)).send(make_message(), "d1")
    assert info.value.permanent is permanent and f"HTTP {code}" in str(info.value)
    assert len(receiver.requests) == 1  # the redirect was not followed
    if not permanent:
        assert info.value.retry_after_s == 7.0


def test_timeout_is_retried_not_dead() -> None:
    with socket.socket() as silent:  # accepts connections (the kernel does) and never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        port = silent.getsockname()[1]
        cfg = WebhookChannel(name="hook", url=f"http://127.0.0.1:{port}/", secret=SECRET, timeout_s=0.3)
        started = time.monotonic()
        with pytest.raises(DeliveryError) as info:
            WebhookSender(cfg).send(make_message(), "d1")
    assert not info.value.permanent and time.monotonic() - started < 3


def test_proxy_settings_are_ignored(receiver: Receiver, monkeypatch: pytest.MonkeyPatch) -> None:
    dead_proxy = f"http://127.0.0.1:{free_port()}"
    for var in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY"):
        monkeypatch.setenv(var, dead_proxy)
    monkeypatch.delenv("no_proxy", raising=False)
    monkeypatch.delenv("NO_PROXY", raising=False)
    receiver.start()
    WebhookSender(channel(receiver)).send(make_message(), "d1")
    assert len(receiver.requests) == 1


def test_secret_never_logged(receiver: Receiver, caplog: pytest.LogCaptureFixture) -> None:
    receiver.respond = lambda r: 400
    receiver.start()
    log = InMemoryDeliveryLog()
    cfg = channel(receiver)
    with caplog.at_level(logging.DEBUG), Deliverer([Route("hook", WebhookSender(cfg), FAST)], log) as d:
        [did] = d.submit(make_message())
        wait_for(lambda: getattr(log.get(did), "status", None) is DeliveryStatus.DEAD)
    assert "dead" in caplog.text and SECRET not in caplog.text and SECRET not in repr(cfg)


def test_verify_signature_rejects_tampering() -> None:
    body, ts = b'{"event_id":"ev-1"}', 1_767_225_600
    header = sign(body, SECRET, ts)
    assert verify_signature(body, header, SECRET, str(ts), now=ts + 299)
    assert not verify_signature(body.replace(b"1", b"2"), header, SECRET, str(ts), now=ts)  # body changed
    assert not verify_signature(body, header, SECRET, str(ts + 1), now=ts)  # timestamp changed
    assert not verify_signature(body, header, "another-secret-0123456789", str(ts), now=ts)
    assert not verify_signature(body, header, SECRET, str(ts), now=ts + 301)  # too old: a replay
    assert not verify_signature(body, None, SECRET, str(ts), now=ts)
    assert not verify_signature(body, header, SECRET, "soon", now=ts)
