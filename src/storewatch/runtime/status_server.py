"""The pipeline's status over HTTP: ``/metrics`` (Prometheus), ``/status`` (JSON) and ``/healthz``.

The standard library's ``ThreadingHTTPServer`` in one daemon thread is enough for three read-only routes polled
by Prometheus and ``storewatch status``; a web framework would add a dependency for nothing. prometheus_client
renders ``/metrics`` and picks the text or OpenMetrics format from the scraper's ``Accept`` header. Both
``/metrics`` and ``/status`` read one ``PipelineSampler``, so their rates share a window and agree. Binds to
127.0.0.1 unless told otherwise: the numbers name cameras and stores.

When given them, it also serves the public-view monitors (``/pvm/<camera>``: page, ``/frame.jpg``, ``/state``;
``runtime.pvm``) and the live event feed (``/events/stream``, server-sent events, one request thread per client
while it is connected; ``runtime.live``). The routes only parse the request and call those modules.

>>> from urllib.request import ProxyHandler, build_opener
>>> from storewatch.runtime.pipeline import Pipeline
>>> server = StatusServer(Pipeline({}, detector=None), port=0)  # port 0: any free port
>>> server.start()
>>> build_opener(ProxyHandler({})).open(f"{server.url}/healthz").read()
b'ok\\n'
>>> server.stop()
"""

from __future__ import annotations

import html
import logging
import select
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, unquote, urlsplit

from prometheus_client import CollectorRegistry
from prometheus_client.exposition import choose_encoder

from storewatch.errors import StorewatchError
from storewatch.media.signing import TokenError, verify_action_token, verify_media_token
from storewatch.media.store import MediaNotFoundError, MediaStore, content_type_for, validate_key
from storewatch.privacy.clips import VIDEO_SUFFIXES, ClipPreparer, is_protected
from storewatch.runtime.live import LiveFeed, LiveFeedFullError
from storewatch.runtime.metrics import PipelineCollector, PipelineSampler, status_json
from storewatch.runtime.pvm import PublicViewMonitors

if TYPE_CHECKING:
    from storewatch.ingest.report import SourceStatus
    from storewatch.runtime.pipeline import Pipeline

log = logging.getLogger(__name__)

DEFAULT_PORT = 9108
_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>{title}</title>
<style>body{{font-family:system-ui,sans-serif;margin:2.5rem auto;max-width:30rem;padding:0 1.2rem;color:#1f2933;
line-height:1.45}}h1{{font-size:1.5rem;margin:0 0 .4rem}}p{{color:#52606d;margin:.2rem 0 1.4rem}}
button{{font-size:1.1rem;padding:.8rem 1.4rem;border:0;border-radius:.5rem;background:#0b6bcb;color:#fff;width:100%}}
details{{margin-top:1.6rem;border-top:1px solid #e4e7eb;padding-top:1rem}}summary{{cursor:pointer;color:#52606d}}
textarea{{width:100%;box-sizing:border-box;font:inherit;padding:.6rem;border:1px solid #cbd2d9;border-radius:.4rem;
margin:.6rem 0}}.secondary{{background:#fff;color:#1f2933;border:1px solid #cbd2d9}}</style>
</head><body>{body}</body></html>
"""
ACK_FORM = """<h1>Acknowledge this alert?</h1><p>Escalation stops and the time to acknowledge is recorded.</p>
<form method="post" action="/ack"><input type="hidden" name="token" value="{token}">
<button type="submit">Acknowledge</button></form>
<details><summary>Not a real incident?</summary>
<form method="post" action="/ack"><input type="hidden" name="token" value="{token}">
<textarea name="false_alarm_reason" rows="3" maxlength="500" required
 placeholder="What was it really? e.g. staff member restocking"></textarea>
<button type="submit" class="secondary">Mark as a false alarm</button></form></details>"""


PREPARING = (
    "<h1>Preparing the clip</h1><p>Faces are being blurred in this clip before anyone sees it. This page loads it "
    "by itself in a few seconds.</p>"
)


def page(title: str, body_html: str) -> str:
    """A small self-contained page (no external assets) in the style of the acknowledge page."""
    return _PAGE.format(title=html.escape(title), body=body_html)


JSON_TYPE = "application/json"
NO_STORE = {"Cache-Control": "no-store"}
TEXT_TYPE = "text/plain; charset=utf-8"


class StatusServer:
    """``start()``, ``stop()``; ``port`` is the bound port once started (useful with ``port=0``)."""

    def __init__(
        self,
        pipeline: Pipeline,
        host: str = "127.0.0.1",
        port: int = DEFAULT_PORT,
        *,
        rate_window_s: float = 10.0,
        media: MediaAccess | None = None,
        pvm: PublicViewMonitors | None = None,
        live: LiveFeed | None = None,
        sources: Callable[[], list[SourceStatus]] | None = None,
    ) -> None:
        """``media``: serve ``/media/<key>?token=...`` from that store to holders of a signed link; ``pvm``: the
        public-view monitors at ``/pvm/<camera>`` (page, ``/frame.jpg``, ``/state``); ``live``: the event feed at
        ``/events/stream`` (server-sent events); ``sources``: the ingest sources' statuses (``/status``
        ``sources``, ``storewatch_ingest_*`` metrics)."""
        self.pipeline = pipeline
        self.media = media
        self.pvm, self.live = pvm, live
        self.sources = sources
        self.host = host
        self._port = port
        self.rate_window_s = rate_window_s
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return self._port if self._httpd is None else int(self._httpd.server_address[1])

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> None:
        if self._httpd is not None:
            return
        sampler = PipelineSampler(self.pipeline, window_s=self.rate_window_s, sources=self.sources)
        registry = CollectorRegistry()
        registry.register(PipelineCollector(self.pipeline, sampler))
        try:
            handler = _handler(sampler, registry, self.media, self.pvm, self.live)
            self._httpd = ThreadingHTTPServer((self.host, self._port), handler)
        except OSError as exc:
            raise StorewatchError(
                f"cannot serve status on {self.host}:{self._port}: {exc.strerror or exc}",
                fix="another `storewatch run` (or another program) holds the port: stop it or pick another port",
            ) from None
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.2}, name="status-server", daemon=True
        )
        self._thread.start()
        log.info("serving status on %s (/metrics, /status, /healthz)", self.url)

    def stop(self) -> None:
        if self._httpd is None:
            return
        self._port = self.port
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(5)
        self._httpd, self._thread = None, None

    def __enter__(self) -> StatusServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


@dataclass
class MediaAccess:
    """Snapshots and clips served to whoever holds a link signed with one of ``secrets`` (newest first); with
    ``acknowledge``, the acknowledge links of alerts too (``acknowledge(alert_id) -> text for the person``)."""

    store: MediaStore
    secrets: tuple[bytes, ...]
    acknowledge: Callable[[str, str | None], str] | None = None
    """``acknowledge(alert_id, false_alarm_reason)`` -> the text for the person who did it."""
    on_view: Callable[[str], None] | None = None
    """Told the key of each file served (the runner records it in the audit log)."""
    clips: ClipPreparer | None = None
    """Privacy on: a clip's link serves its faces-blurred copy (made on the first request), never the original."""
    local_root: Path | None = None
    """Where the clips are recorded (the working copies, also with a bucket)."""


def _handler(
    sampler: PipelineSampler,
    registry: CollectorRegistry,
    media: MediaAccess | None = None,
    pvm: PublicViewMonitors | None = None,
    live: LiveFeed | None = None,
) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "storewatch"

        def do_GET(self) -> None:
            path = urlsplit(self.path).path
            try:
                if path == "/metrics":
                    encoder, content_type = choose_encoder(self.headers.get("Accept", ""))
                    self._reply(HTTPStatus.OK, content_type, encoder(registry))
                elif path == "/status":
                    self._reply(HTTPStatus.OK, JSON_TYPE, status_json(sampler.status()))
                elif path == "/healthz":
                    self._reply(HTTPStatus.OK, TEXT_TYPE, b"ok\n")
                elif path.startswith("/media/") and media is not None:
                    self._media(media, path.removeprefix("/media/"))
                elif path == "/ack" and media is not None and media.acknowledge is not None:
                    self._ack_page(media)
                elif path.startswith("/pvm/") and pvm is not None:
                    self._pvm(pvm, unquote(path.removeprefix("/pvm/")))
                elif path == "/events/stream" and live is not None:
                    self._event_stream(live)
                else:
                    body = f"not found: {path} (try /metrics, /status or /healthz)\n".encode()
                    self._reply(HTTPStatus.NOT_FOUND, TEXT_TYPE, body)
            except (BrokenPipeError, ConnectionResetError):
                log.debug("status client left before the reply to %s", path)
            except Exception:  # top of the request: log it and answer, the server keeps serving
                log.exception("status request %s failed", path)
                self._reply(HTTPStatus.INTERNAL_SERVER_ERROR, TEXT_TYPE, b"internal error, see the log\n")

        def do_POST(self) -> None:
            path = urlsplit(self.path).path
            try:
                if path == "/ack" and media is not None and media.acknowledge is not None:
                    size = min(int(self.headers.get("Content-Length") or 0), 4096)
                    form = parse_qs(self.rfile.read(size).decode("utf-8", "replace"))
                    reasons = form.get("false_alarm_reason")
                    reason = reasons[0] if reasons else None
                    self._ack(media, (form.get("token") or [""])[0], reason)
                else:
                    self._reply(HTTPStatus.NOT_FOUND, TEXT_TYPE, f"not found: {path}\n".encode())
            except (BrokenPipeError, ConnectionResetError):
                log.debug("client left before the reply to %s", path)
            except Exception:  # top of the request: log it and answer, the server keeps serving
                log.exception("status request POST %s failed", path)
                self._reply(HTTPStatus.INTERNAL_SERVER_ERROR, TEXT_TYPE, b"internal error, see the log\n")

        def _ack_page(self, access: MediaAccess) -> None:
            """A page with one button: a GET must not acknowledge (mail scanners open links)."""
            token = (parse_qs(urlsplit(self.path).query).get("token") or [""])[0]
            try:
                verify_action_token(token, access.secrets)
            except TokenError as exc:
                self._reply(HTTPStatus.FORBIDDEN, TEXT_TYPE, f"forbidden: {exc}\n".encode())
                return
            body = page("Acknowledge alert", ACK_FORM.format(token=html.escape(token, quote=True)))
            self._reply(HTTPStatus.OK, "text/html; charset=utf-8", body.encode())

        def _ack(self, access: MediaAccess, token: str, false_alarm_reason: str | None) -> None:
            assert access.acknowledge is not None
            try:
                alert_id = verify_action_token(token, access.secrets)
            except TokenError as exc:
                self._reply(HTTPStatus.FORBIDDEN, TEXT_TYPE, f"forbidden: {exc}\n".encode())
                return
            if false_alarm_reason is not None and not false_alarm_reason.strip():
                self._reply(HTTPStatus.BAD_REQUEST, TEXT_TYPE, b"a false alarm needs a reason: what was it really?\n")
                return
            text = access.acknowledge(alert_id, false_alarm_reason)
            body = page("Alert", f"<h1>{html.escape(text)}</h1><p>You can close this page.</p>")
            self._reply(HTTPStatus.OK, "text/html; charset=utf-8", body.encode())

        def _media(self, access: MediaAccess, key: str) -> None:
            token = (parse_qs(urlsplit(self.path).query).get("token") or [""])[0]
            try:
                verify_media_token(token, unquote(key), access.secrets)
            except (TokenError, ValueError) as exc:
                self._reply(HTTPStatus.FORBIDDEN, TEXT_TYPE, f"forbidden: {exc}\n".encode())
                return
            if access.clips is not None and PurePosixPath(unquote(key)).suffix.lower() in VIDEO_SUFFIXES:
                self._protected_clip(access, unquote(key))
                return
            try:
                body = access.store.read_bytes(unquote(key))
            except MediaNotFoundError:
                self._reply(HTTPStatus.NOT_FOUND, TEXT_TYPE, b"not found (not written yet, or purged)\n")
                return
            if access.on_view is not None:
                access.on_view(unquote(key))
            self._reply(HTTPStatus.OK, content_type_for(unquote(key)), body)

        def _protected_clip(self, access: MediaAccess, key: str) -> None:
            """The faces-blurred copy of a recorded clip; while it is being made, a page that reloads itself."""
            assert access.clips is not None and access.local_root is not None
            root = access.local_root.resolve()
            original = (root / validate_key(key)).resolve()
            try:
                if not original.is_relative_to(root) or is_protected(original):
                    raise StorewatchError(f"{key}: not a recorded clip")
                ready = access.clips.ready(original)
            except StorewatchError:
                self._reply(HTTPStatus.NOT_FOUND, TEXT_TYPE, b"not found (not written yet, or purged)\n")
                return
            if ready is None:
                body = page("Preparing the clip", PREPARING)
                self._reply(HTTPStatus.SERVICE_UNAVAILABLE, "text/html; charset=utf-8", body.encode(),
                            {"Retry-After": "5", "Refresh": "5"})  # fmt: skip
                return
            if access.on_view is not None:
                access.on_view(key)
            self._reply(HTTPStatus.OK, "video/mp4", ready.read_bytes())

        def _pvm(self, monitors: PublicViewMonitors, rest: str) -> None:
            found = monitors.route(rest)
            if found is None:
                self._reply(HTTPStatus.NOT_FOUND, TEXT_TYPE, f"no public-view monitor at /pvm/{rest}\n".encode())
                return
            camera, view = found
            if view == "page":
                self._reply(HTTPStatus.OK, "text/html; charset=utf-8", monitors.page(camera).encode(), NO_STORE)
            elif view == "state":
                self._reply(HTTPStatus.OK, JSON_TYPE, monitors.state(camera).model_dump_json().encode(), NO_STORE)
            elif (jpeg := monitors.frame(camera)) is not None:
                self._reply(HTTPStatus.OK, "image/jpeg", jpeg, NO_STORE)
            else:
                self._reply(HTTPStatus.SERVICE_UNAVAILABLE, TEXT_TYPE, b"no frame yet\n", {"Retry-After": "1"})

        def _event_stream(self, feed: LiveFeed) -> None:
            """Server-sent events until the client leaves or the feed stops (one thread per client)."""
            query = {k: v[0] for k, v in parse_qs(urlsplit(self.path).query).items()}
            last = self.headers.get("Last-Event-ID") or query.get("last_event_id")
            store, camera = query.get("store"), query.get("camera")
            try:
                client = feed.connect(last, store=store, camera=camera)
            except LiveFeedFullError as exc:
                self._reply(HTTPStatus.SERVICE_UNAVAILABLE, TEXT_TYPE, f"{exc}\n".encode(), {"Retry-After": "5"})
                return
            try:
                self.send_response(HTTPStatus.OK)
                for name, value in (("Content-Type", "text/event-stream; charset=utf-8"), *NO_STORE.items(),
                                    ("X-Accel-Buffering", "no")):  # fmt: skip
                    self.send_header(name, value)
                self.end_headers()
                for chunk in feed.stream(client, gone=self._client_gone):
                    self.wfile.write(chunk)
                    self.wfile.flush()
            finally:
                feed.disconnect(client)
                self.close_connection = True

        def _client_gone(self) -> bool:
            """Whether the client closed its end (readable with nothing to read), without blocking."""
            try:
                readable, _, _ = select.select([self.connection], [], [], 0)
                return bool(readable) and self.connection.recv(1, socket.MSG_PEEK) == b""
            except OSError:
                return True

        def _reply(
            self, status: HTTPStatus, content_type: str, body: bytes, headers: dict[str, str] | None = None
        ) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            log.debug("status %s - %s", self.address_string(), format % args)

    return Handler
