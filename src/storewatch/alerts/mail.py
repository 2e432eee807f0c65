"""E-mail alerts over SMTP: STARTTLS and login when configured, a plain-text and an HTML body, the snapshot attached.

The standard library's smtplib and email packages do all of it. One connection per alert: alerts are rare enough,
and it leaves no idle connection for the server to drop.

Outcomes: a refused login, refused recipients, a server without STARTTLS when it is required, a certificate that
does not verify, and any 5xx reply are permanent (dead at once: retrying cannot fix configuration); 4xx replies,
refused connections and timeouts are retried.

>>> from datetime import UTC, datetime
>>> from storewatch.core.events import Event
>>> cfg = EmailChannel(name="mail", host="smtp.example", from_addr="cam@example.com", to=["ops@example.com"])
>>> alert = AlertMessage.from_event(Event(id="e1", type="demo", camera="s1/c1", explanation="door open",
...                                       start_utc=datetime(2026, 1, 1, tzinfo=UTC)), clip_url="https://x/c.mp4")
>>> mail = build_email(cfg, alert, "d1")
>>> mail["Subject"], mail["To"], mail.get_content_type()
('MEDIUM: Demo at s1/c1', 'ops@example.com', 'multipart/alternative')
"""

from __future__ import annotations

import html
import logging
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path

from storewatch.alerts.config import EmailChannel
from storewatch.alerts.delivery import DeliveryError
from storewatch.alerts.message import AlertMessage

logger = logging.getLogger(__name__)

MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024
"""A larger snapshot is not attached (the link still is)."""


def _facts(message: AlertMessage) -> list[tuple[str, str]]:
    facts = [
        ("Severity", message.severity.value),
        ("Event", message.type),
        ("State", message.state.value),
        ("Camera", message.camera),
        ("Zone", message.zone or "-"),
        ("Started", message.start_utc.isoformat()),
    ]
    if message.end_utc is not None:
        facts.append(("Ended", message.end_utc.isoformat()))
    links = message.links
    named = (("Snapshot", links.snapshot), ("Clip", links.clip), ("Acknowledge", links.ack))
    facts += [(name, url) for name, url in named if url]
    return facts


def _text_body(message: AlertMessage) -> str:
    lines = [message.title, "", message.explanation, ""]
    lines += [f"{name}: {value}" for name, value in _facts(message)]
    return "\n".join(lines) + "\n"


def _html_body(message: AlertMessage) -> str:
    def cell(name: str, value: str) -> str:
        shown = html.escape(value)
        if value.startswith(("http://", "https://")):
            shown = f'<a href="{html.escape(value, quote=True)}">{shown}</a>'
        return f"<tr><th align=left>{html.escape(name)}</th><td>{shown}</td></tr>"

    rows = "".join(cell(n, v) for n, v in _facts(message))
    return (
        f"<html><body><h2>{html.escape(message.title)}</h2><p>{html.escape(message.explanation)}</p>"
        f"<table>{rows}</table></body></html>"
    )


def build_email(config: EmailChannel, message: AlertMessage, delivery_id: str) -> EmailMessage:
    """The e-mail for ``message``: text and HTML alternatives, plus the snapshot as a JPEG when its file exists."""
    mail = EmailMessage()
    mail["Subject"] = message.title
    mail["From"] = config.from_addr
    mail["To"] = ", ".join(config.to)
    mail["Date"] = formatdate(localtime=False, usegmt=True)
    mail["Message-ID"] = make_msgid(idstring=delivery_id, domain=config.from_addr.rsplit("@", 1)[-1])
    mail["X-Storewatch-Event-Id"] = message.event_id
    mail.set_content(_text_body(message))
    mail.add_alternative(_html_body(message), subtype="html")
    snapshot = _snapshot_bytes(message.snapshot_path)
    if snapshot is not None:
        mail.make_mixed()
        mail.add_attachment(snapshot, maintype="image", subtype="jpeg", filename=f"{message.event_id}.jpg")
    return mail


def _snapshot_bytes(path: str | None) -> bytes | None:
    if not path:
        return None
    p = Path(path)
    try:
        if p.stat().st_size > MAX_ATTACHMENT_BYTES:
            logger.warning("snapshot %s is larger than %d bytes; not attached", p, MAX_ATTACHMENT_BYTES)
            return None
        return p.read_bytes()
    except OSError as exc:
        logger.warning("snapshot %s cannot be read (%s); sending without it", p, exc)
        return None


class EmailSender:
    """Sends alerts to one e-mail channel."""

    def __init__(self, config: EmailChannel) -> None:
        self.config = config
        self._tls = ssl.create_default_context(cafile=str(config.ca_file) if config.ca_file else None)

    def send(self, message: AlertMessage, delivery_id: str) -> None:
        mail = build_email(self.config, message, delivery_id)
        try:
            self._submit(mail)
        except smtplib.SMTPAuthenticationError as exc:
            raise DeliveryError(
                f"SMTP login refused: {exc.smtp_code} {_text(exc.smtp_error)}", permanent=True
            ) from None
        except smtplib.SMTPNotSupportedError as exc:
            raise DeliveryError(f"SMTP server: {exc}", permanent=True) from None
        except smtplib.SMTPRecipientsRefused as exc:
            raise DeliveryError(f"SMTP recipients refused: {', '.join(exc.recipients)}", permanent=True) from None
        except smtplib.SMTPResponseException as exc:
            permanent = 500 <= exc.smtp_code < 600
            raise DeliveryError(f"SMTP {exc.smtp_code} {_text(exc.smtp_error)}", permanent=permanent) from None
        except ssl.SSLCertVerificationError as exc:
            raise DeliveryError(f"SMTP server certificate: {exc.verify_message}", permanent=True) from None
        except (smtplib.SMTPException, OSError) as exc:
            raise DeliveryError(f"SMTP {self.config.host}:{self.config.port}: {type(exc).__name__}: {exc}") from None

    def _submit(self, mail: EmailMessage) -> None:
        cfg = self.config
        with smtplib.SMTP(cfg.host, cfg.port, timeout=cfg.timeout_s) as smtp:
            smtp.ehlo()
            if cfg.starttls:
                smtp.starttls(context=self._tls)
                smtp.ehlo()
            if cfg.username is not None and cfg.password is not None:
                smtp.login(cfg.username, cfg.password.get_secret_value())
            refused = smtp.send_message(mail)
        if refused:
            logger.warning("e-mail channel %s: some recipients refused: %s", cfg.name, ", ".join(refused))

    def close(self) -> None:
        pass


def _text(reply: bytes | str) -> str:
    return reply.decode(errors="replace") if isinstance(reply, bytes) else reply
