"""HTTP actions: one request to a device (IP speaker, siren, door lock, display) per firing, no retries.

A deterrent is worth something now or not at all, so a failed request is logged ``failed`` and not retried (an
alert is retried; a siren a minute late only confuses). The request goes straight to the device: the opener of the
webhook channel (``alerts.webhook.direct_opener``) ignores proxy variables and does not follow redirects. The
standard library is enough for one request with a timeout, as for webhooks.
"""

from __future__ import annotations

import http.client
import json
import urllib.error
import urllib.request

from storewatch.actions.config import HttpAction
from storewatch.actions.executor import ActionError
from storewatch.actions.template import event_fields, render_json
from storewatch.alerts.webhook import direct_opener
from storewatch.core.events import Event

USER_AGENT = "storewatch-actions/1"


class HttpExecutor:
    def __init__(self, config: HttpAction) -> None:
        self.config = config
        self._opener = direct_opener()

    def run(self, event: Event) -> str:
        cfg = self.config
        body = None
        if cfg.body is not None:
            body = json.dumps(render_json(cfg.body, event_fields(event, cfg.name))).encode()
        headers = {"User-Agent": USER_AGENT, **cfg.headers}
        headers.update({k: v.get_secret_value() for k, v in cfg.secret_headers.items()})
        if body is not None and not any(k.lower() == "content-type" for k in headers):
            headers["Content-Type"] = "application/json; charset=utf-8"
        request = urllib.request.Request(cfg.url, data=body, method=cfg.method.value, headers=headers)
        status = self._send(request)
        if not (status in cfg.expect_status if cfg.expect_status else 200 <= status < 300):
            wanted = ", ".join(map(str, cfg.expect_status)) if cfg.expect_status else "2xx"
            hint = " (redirects are not followed; configure the final URL)" if 300 <= status < 400 else ""
            raise ActionError(f"HTTP {status}, expected {wanted}{hint}")
        return f"HTTP {status}"

    def _send(self, request: urllib.request.Request) -> int:
        url = self.config.url
        try:
            with self._opener.open(request, timeout=self.config.timeout_s) as response:
                response.read(65536)
                return int(response.status)
        except urllib.error.HTTPError as exc:  # a status the caller judges (an expected 4xx is possible)
            exc.close()
            return int(exc.code)
        except urllib.error.URLError as exc:
            raise ActionError(f"cannot reach {url}: {exc.reason}") from None
        except (OSError, http.client.HTTPException) as exc:  # timeouts, resets, malformed responses
            raise ActionError(f"{url}: {type(exc).__name__}: {exc or 'no detail'}") from None

    def close(self) -> None:
        self._opener.close()
