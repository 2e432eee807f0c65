"""E-mail against a real aiosmtpd server (STARTTLS with a self-signed certificate, AUTH) and ntfy against a local
HTTP endpoint that records the publish headers."""

from __future__ import annotations

import email
import email.policy
import ssl
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from storewatch.alerts import (
    Deliverer,
    DeliveryError,
    DeliveryStatus,
    EmailChannel,
    InMemoryDeliveryLog,
    NtfyChannel,
    Route,
)
from storewatch.alerts.mail import EmailSender
from storewatch.alerts.ntfy import NtfySender
from storewatch.core.events import Severity
from tests.alerts.conftest import FAST, make_event, make_message
from tests.alerts.servers import Receiver, free_port, make_certificate
from tests.helpers import wait_for

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(range(256)) + b"\xff\xd9"
USER, PASSWORD = "alerts", "smtp-password-42"


@dataclass
class Mailbox:
    port: int
    cert: Path
    received: list[tuple[EmailMessage, Envelope, bool, bool]] = field(default_factory=list)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802
        parsed = email.message_from_bytes(envelope.original_content or b"", policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        self.received.append((parsed, envelope, session.ssl is not None, bool(session.authenticated)))
        return "250 OK"


def _authenticate(server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any) -> AuthResult:
    ok = isinstance(data, LoginPassword) and data.login == USER.encode() and data.password == PASSWORD.encode()
    return AuthResult(success=ok, handled=False)


@pytest.fixture(scope="module")
def mailbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Mailbox]:
    cert, key = make_certificate(tmp_path_factory.mktemp("tls"))
    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls.load_cert_chain(cert, key)
    box = Mailbox(free_port(), cert)
    controller = Controller(
        box, hostname="127.0.0.1", port=box.port, tls_context=tls, require_starttls=True,
        authenticator=_authenticate, auth_required=True, auth_require_tls=True,
    )  # fmt: skip
    controller.start()
    yield box
    controller.stop()


def mail_channel(box: Mailbox, **over: Any) -> EmailChannel:
    base = {"name": "mail", "host": "127.0.0.1", "port": box.port, "ca_file": box.cert, "timeout_s": 5}
    creds = {"username": USER, "password": PASSWORD}
    return EmailChannel.model_validate(
        {**base, **creds, "from_addr": "cam@store.example", "to": ["ops@x.example"]} | over
    )


def test_email_over_starttls_with_login_and_the_snapshot(mailbox: Mailbox, tmp_path: Path) -> None:
    snapshot = tmp_path / "ev-1.jpg"
    snapshot.write_bytes(JPEG)
    alert = make_message(make_event(evidence={"snapshot": str(snapshot)}))
    log = InMemoryDeliveryLog()
    before = len(mailbox.received)
    with Deliverer([Route("mail", EmailSender(mail_channel(mailbox)), FAST)], log) as d:
        [did] = d.submit(alert)
        wait_for(lambda: getattr(log.get(did), "status", None) is DeliveryStatus.DELIVERED, timeout_s=10)
    mail, envelope, tls, authenticated = mailbox.received[before]
    assert tls and authenticated and envelope.rcpt_tos == ["ops@x.example"]
    assert mail["Subject"] == alert.title and mail["X-Storewatch-Event-Id"] == "ev-1"
    text = mail.get_body(("plain",))
    html = mail.get_body(("html",))
    assert text is not None and html is not None
    assert alert.explanation in text.get_content() and alert.links.clip in text.get_content()
    assert 'href="https://sw.example/ack/ev-1?sig=ghi"' in html.get_content()
    [attachment] = list(mail.iter_attachments())
    assert attachment.get_content_type() == "image/jpeg" and attachment.get_content() == JPEG
    assert attachment.get_filename() == "ev-1.jpg"


def test_email_without_a_readable_snapshot_still_goes(mailbox: Mailbox) -> None:
    alert = make_message(make_event(evidence={"snapshot": "/nonexistent/ev-1.jpg"}))
    before = len(mailbox.received)
    EmailSender(mail_channel(mailbox)).send(alert, "d1")
    mail = mailbox.received[before][0]
    assert list(mail.iter_attachments()) == []


@pytest.mark.parametrize(
    ("over", "expected"),
    [
        ({"password": "wrong-password"}, "SMTP login refused: 535"),
        ({"username": None, "password": None, "starttls": False}, "SMTP 530"),  # the server demands STARTTLS
        ({"ca_file": None}, "certificate"),  # self-signed: not trusted without the ca_file
    ],
    ids=["bad-password", "no-starttls", "untrusted-certificate"],
)
def test_email_configuration_failures_are_permanent(mailbox: Mailbox, over: dict[str, Any], expected: str) -> None:
    with pytest.raises(DeliveryError) as info:
        EmailSender(mail_channel(mailbox, **over)).send(make_message(), "d1")
    assert info.value.permanent and expected in str(info.value)
    assert "wrong-password" not in str(info.value) and PASSWORD not in str(info.value)


def test_email_server_down_is_retried() -> None:
    cfg = EmailChannel(name="mail", host="127.0.0.1", port=free_port(), from_addr="a@b.example", to=["c@d.example"])
    with pytest.raises(DeliveryError) as info:
        EmailSender(cfg).send(make_message(), "d1")
    assert not info.value.permanent and "ConnectionRefusedError" in str(info.value)


def test_ntfy_publish_headers(receiver: Receiver) -> None:
    receiver.start()
    cfg = NtfyChannel(name="phones", url=receiver.url, topic="store-1-alerts", token="tk_secret_123")
    alert = make_message(make_event(severity=Severity.CRITICAL))
    NtfySender(cfg).send(alert, "d1")
    [req] = receiver.requests
    h = req.headers
    assert req.path == "/store-1-alerts" and req.body.decode() == alert.text
    assert h["Title"] == alert.title and h["Priority"] == "5" and h["Authorization"] == "Bearer tk_secret_123"
    assert h["Tags"] == "rotating_light,storewatch,store-1,camera.tampering.blocked"
    assert h["Click"] == alert.links.ack and h["Attach"] == alert.links.snapshot
    assert h["Actions"] == f"view, Clip, {alert.links.clip}"


def test_ntfy_without_links_or_token_and_with_unicode_title(receiver: Receiver) -> None:
    receiver.respond = lambda r: 429
    receiver.start()
    cfg = NtfyChannel(name="phones", url=receiver.url, topic="t")
    alert = make_message(make_event(severity=Severity.LOW), snapshot="", clip="", ack="")
    alert = alert.model_copy(update={"title": "Caméra bloquée"})
    with pytest.raises(DeliveryError) as info:
        NtfySender(cfg).send(alert, "d1")
    assert not info.value.permanent
    h = receiver.requests[0].headers
    assert "Authorization" not in h and "Click" not in h and "Attach" not in h and h["Priority"] == "2"
    assert h["Title"] == "=?UTF-8?B?Q2Ftw6lyYSBibG9xdcOpZQ==?="
