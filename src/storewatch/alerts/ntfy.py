"""Push to phones through an ntfy-compatible server: one POST to ``<url>/<topic>`` per alert.

The body is the alert's one-line text; headers carry the rest (ntfy's publish-by-header API): ``Title``,
``Priority`` (1-5, from the channel's severity mapping), ``Tags`` (an emoji tag for the severity, then
``storewatch``, the store and the event type), ``Click`` (the ack link, else the clip), ``Attach`` (the snapshot
URL, which ntfy shows as an image), ``Actions`` (a "Clip" button when there is a clip) and ``Authorization:
Bearer <token>``. Header values that are not ASCII are sent RFC 2047-encoded, which ntfy decodes. Outcomes as for
webhooks (``webhook.http_post``).

>>> encode_header("Caméra 2")
'=?UTF-8?B?Q2Ftw6lyYSAy?='
>>> encode_header("plain")
'plain'
"""

from __future__ import annotations

import base64
import re

from storewatch.alerts.config import NtfyChannel
from storewatch.alerts.message import AlertMessage
from storewatch.alerts.webhook import EVENT_HEADER, direct_opener, http_post
from storewatch.core.events import Severity

_SEVERITY_TAG = {
    Severity.INFO: "information_source",
    Severity.LOW: "eyes",
    Severity.MEDIUM: "warning",
    Severity.HIGH: "warning",
    Severity.CRITICAL: "rotating_light",
}
_UNSAFE = re.compile(r"[\x00-\x1f\x7f]")


def encode_header(value: str) -> str:
    """``value`` as an HTTP header value: control characters removed, non-ASCII as RFC 2047 base64."""
    value = _UNSAFE.sub(" ", value)
    if value.isascii():
        return value
    return f"=?UTF-8?B?{base64.b64encode(value.encode()).decode()}?="


def ntfy_headers(config: NtfyChannel, message: AlertMessage) -> dict[str, str]:
    """The publish headers for ``message`` (without the token)."""
    tags = [_SEVERITY_TAG[message.severity], "storewatch", message.store, message.type]
    headers = {
        "Title": message.title,
        "Priority": str(config.priority[message.severity]),
        "Tags": ",".join(t.replace(",", " ") for t in tags),
        EVENT_HEADER: message.event_id,
    }
    links = message.links
    if links.ack or links.clip:
        headers["Click"] = links.ack or links.clip or ""
    if links.snapshot:
        headers["Attach"] = links.snapshot
    if links.clip:
        headers["Actions"] = f"view, Clip, {links.clip}"
    return {k: encode_header(v) for k, v in headers.items()}


class NtfySender:
    """Sends alerts to one ntfy topic."""

    def __init__(self, config: NtfyChannel) -> None:
        self.config = config
        self._opener = direct_opener()
        self._url = f"{config.url.rstrip('/')}/{config.topic}"

    def send(self, message: AlertMessage, delivery_id: str) -> None:
        headers = {**ntfy_headers(self.config, message), "Content-Type": "text/plain; charset=utf-8"}
        if self.config.token is not None:
            headers["Authorization"] = f"Bearer {self.config.token.get_secret_value()}"
        http_post(self._opener, self._url, message.text.encode(), headers, self.config.timeout_s)

    def close(self) -> None:
        self._opener.close()
