"""Webhooks: POST the alert JSON, signed with HMAC-SHA256, and the check a receiver runs on it.

Headers of each attempt:

- ``X-Storewatch-Signature: sha256=<hex>``: HMAC-SHA256 with the channel's secret over ``<timestamp>.<body>``
  (the timestamp is signed with the body so that a captured request cannot be replayed later with a new
  timestamp; ``verify_signature`` checks both, and the age against a tolerance);
- ``X-Storewatch-Timestamp``: Unix seconds when the attempt was signed;
- ``X-Storewatch-Event-Id`` and ``X-Storewatch-Delivery-Id``: the delivery id is the same on every retry and
  re-send, so a receiver can drop duplicates (delivery is at least once).

Outcome: 2xx delivered; 408, 429 (honouring a numeric ``Retry-After``) and 5xx, timeouts, refused connections
are retried; other 4xx and 3xx (redirects are not followed: the body would be lost) are permanent, dead at once.

The standard library's urllib does the POST (one request, no session needed); the opener ignores proxy variables
(alerts go straight to the receiver) and does not follow redirects.

>>> body, secret, ts = b'{"schema":"storewatch.alert/1"}', "0123456789abcdef", 1_767_225_600
>>> header = sign(body, secret, ts)
>>> header[:7], verify_signature(body, header, secret, str(ts), now=ts + 10)
('sha256=', True)
>>> verify_signature(body + b" ", header, secret, str(ts), now=ts), verify_signature(body, header, secret, str(ts),
...                                                                                 now=ts + 3600)
(False, False)
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from email.message import Message
from typing import Any

from storewatch.alerts.config import WebhookChannel
from storewatch.alerts.delivery import DeliveryError
from storewatch.alerts.message import AlertMessage

SIGNATURE_HEADER = "X-Storewatch-Signature"
TIMESTAMP_HEADER = "X-Storewatch-Timestamp"
EVENT_HEADER = "X-Storewatch-Event-Id"
DELIVERY_HEADER = "X-Storewatch-Delivery-Id"
USER_AGENT = "storewatch-alerts/1"
_RETRY_STATUSES = (408, 429)


def sign(body: bytes, secret: str, timestamp: int) -> str:
    """The signature header value for ``body`` sent at ``timestamp`` (Unix seconds)."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"sha256={mac.hexdigest()}"


def verify_signature(
    body: bytes,
    header: str | None,
    secret: str,
    timestamp: str | None,
    tolerance_s: float = 300.0,
    now: float | None = None,
) -> bool:
    """For receivers: whether ``header`` (``X-Storewatch-Signature``) signs ``body`` with ``secret`` at
    ``timestamp`` (``X-Storewatch-Timestamp``), and that timestamp is within ``tolerance_s`` of ``now``."""
    if not header or not timestamp or not timestamp.isdigit():
        return False
    ts = int(timestamp)
    if abs((time.time() if now is None else now) - ts) > tolerance_s:
        return False
    return hmac.compare_digest(sign(body, secret, ts), header.strip())


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # the 3xx then surfaces as an HTTPError


def direct_opener() -> urllib.request.OpenerDirector:
    """An opener that ignores proxy settings and does not follow redirects."""
    return urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirect())


def http_post(
    opener: urllib.request.OpenerDirector, url: str, body: bytes, headers: Mapping[str, str], timeout_s: float
) -> int:
    """POST ``body``; the 2xx status, or ``DeliveryError`` (permanent or not, as the module says)."""
    request = urllib.request.Request(url, data=body, method="POST", headers={"User-Agent": USER_AGENT, **headers})
    try:
        with opener.open(request, timeout=timeout_s) as response:
            response.read(65536)
            return int(response.status)
    except urllib.error.HTTPError as exc:
        raise _status_error(exc.code, exc.headers) from None
    except urllib.error.URLError as exc:
        raise DeliveryError(f"cannot reach {url}: {exc.reason}") from None
    except (OSError, http.client.HTTPException) as exc:  # timeouts, resets, malformed responses
        raise DeliveryError(f"{url}: {type(exc).__name__}: {exc}") from None


def _status_error(status: int, headers: Message | None) -> DeliveryError:
    if status in _RETRY_STATUSES or status >= 500:
        after = (headers.get("Retry-After") if headers is not None else None) or ""
        return DeliveryError(f"HTTP {status}", retry_after_s=float(after) if after.strip().isdigit() else None)
    hint = " (redirects are not followed; configure the final URL)" if 300 <= status < 400 else ""
    return DeliveryError(f"HTTP {status}{hint}", permanent=True)


class WebhookSender:
    """Sends alerts to one webhook channel."""

    def __init__(self, config: WebhookChannel, clock: Callable[[], float] = time.time) -> None:
        self.config = config
        self._clock = clock
        self._opener = direct_opener()

    def send(self, message: AlertMessage, delivery_id: str) -> None:
        body = message.to_json()
        ts = int(self._clock())
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            SIGNATURE_HEADER: sign(body, self.config.secret.get_secret_value(), ts),
            TIMESTAMP_HEADER: str(ts),
            EVENT_HEADER: message.event_id,
            DELIVERY_HEADER: delivery_id,
        }
        http_post(self._opener, self.config.url, body, headers, self.config.timeout_s)

    def close(self) -> None:
        self._opener.close()
