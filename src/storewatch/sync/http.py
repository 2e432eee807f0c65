"""Sync over HTTPS, where NATS is not wanted: the edge POSTs outbox batches to the hub's ``/api/v1/sync``.

Request: ``{"schema": "storewatch.sync-batch/1", "store": "s1", "config_version": 3, "messages": [envelope...]}``
signed like the alert webhooks (``X-Storewatch-Signature``: HMAC-SHA256 over ``<timestamp>.<body>`` with the
shared secret, ``X-Storewatch-Timestamp``; ``alerts.webhook.sign``/``verify_signature``). Reply (200):
``{"accepted": [ids], "retry": [ids], "refused": {id: reason}, "config": version-or-null}`` - ``config`` is the
store's newest configuration version when it is newer than the one the edge says it runs, so the same call that
carries events brings configuration back (an edge with nothing to send posts an empty batch now and then).

The hub applies the messages in order through the ``Ingester`` (idempotent: a batch sent twice because a reply
was lost stores everything once). ``retry``: an incident whose events have not arrived (applied anyway once it is
``link_wait_s`` old) or, after a transient database error, that message and all behind it. 401 for a bad
signature, 400 for a body that is not a batch (the message says what is wrong), 503 when the database is away.

``SyncEndpoint.handle(body, headers)`` is framework-free, for the web app to mount; ``SyncServer`` serves it with
the standard library's ``http.server`` (tests, small hubs). ``HttpTransport`` is the edge's side.
"""

from __future__ import annotations

import http.client
import json
import logging
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy.exc import SQLAlchemyError

from storewatch.alerts.webhook import SIGNATURE_HEADER, TIMESTAMP_HEADER, direct_opener, sign, verify_signature
from storewatch.store.db import Database
from storewatch.store.events import is_transient
from storewatch.sync.envelope import Envelope
from storewatch.sync.ingest import Ingester, Outcome
from storewatch.sync.live_config import ConfigVersion
from storewatch.sync.publisher import SendResult
from storewatch.sync.registry import ConfigVersions

log = logging.getLogger(__name__)

SYNC_PATH = "/api/v1/sync"
BATCH_SCHEMA = "storewatch.sync-batch/1"
MAX_BATCH = 1000
MAX_BODY_BYTES = 32 * 1024 * 1024


class SyncBatch(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    schema_: Literal["storewatch.sync-batch/1"] = Field("storewatch.sync-batch/1", alias="schema")
    store: str = Field(min_length=1, max_length=64)
    config_version: int = Field(0, ge=0, description="The configuration version the edge runs.")
    messages: list[Envelope] = Field(default_factory=list, max_length=MAX_BATCH)


class SyncReply(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    accepted: list[str] = Field(default_factory=list)
    retry: list[str] = Field(default_factory=list)
    refused: dict[str, str] = Field(default_factory=dict)
    config: ConfigVersion | None = None


class SyncEndpoint:
    """``POST /api/v1/sync`` of the hub: ``handle(body, headers) -> (status, JSON body)``."""

    def __init__(
        self, database: Database, secret: str, *, link_wait_s: float = 60.0, media_dir: Path | None = None
    ) -> None:
        """``media_dir``: the hub's folder of fetched evidence files (an erasure removes from it too)."""
        self.ingester = Ingester(database, media_dir)
        self.configs = ConfigVersions(database)
        self.secret, self.link_wait_s = secret, link_wait_s
        self._lock = threading.Lock()  # one batch at a time: the stream bookkeeping has a single writer

    def handle(self, body: bytes, headers: Mapping[str, str]) -> tuple[int, bytes]:
        lower = {k.lower(): v for k, v in headers.items()}
        if not verify_signature(body, lower.get(SIGNATURE_HEADER.lower()), self.secret,
                                lower.get(TIMESTAMP_HEADER.lower())):  # fmt: skip
            return 401, _error("bad or missing signature (X-Storewatch-Signature over <timestamp>.<body>)")
        try:
            batch = SyncBatch.model_validate_json(body)
        except ValidationError as exc:
            where = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'body'}: {e['msg']}" for e in exc.errors()[:5])
            return 400, _error(f"not a {BATCH_SCHEMA} body: {where}")
        try:
            with self._lock:
                reply = self._apply(batch)
        except SQLAlchemyError as exc:
            log.warning("sync endpoint: database unavailable: %s", exc)
            return 503, _error("the hub's database is unavailable; try again")
        status = 503 if reply.retry and not reply.accepted and not reply.refused else 200
        return status, reply.model_dump_json(by_alias=True, exclude_none=True).encode()

    def _apply(self, batch: SyncBatch) -> SyncReply:
        accepted: list[str] = []
        retry: list[str] = []
        refused: dict[str, str] = {}
        now = datetime.now(UTC)
        for i, env in enumerate(batch.messages):
            if env.store != batch.store:
                refused[env.id] = f"message of store {env.store} in a batch of store {batch.store}"
                continue
            try:
                may_wait = (now - env.created_utc).total_seconds() < self.link_wait_s
                outcome = self.ingester.apply(env, may_wait=may_wait)
            except SQLAlchemyError as exc:
                if not is_transient(exc):
                    refused[env.id] = f"refused by the database: {type(exc).__name__}"
                    continue
                retry.extend(e.id for e in batch.messages[i:])
                break
            if outcome == Outcome.WAIT:
                retry.append(env.id)
            elif outcome == Outcome.REFUSED:
                refused[env.id] = "not a valid message (see the hub's log)"
            else:
                accepted.append(env.id)
        latest = self.configs.latest(batch.store)
        config = latest if latest is not None and latest.version > batch.config_version else None
        return SyncReply(accepted=accepted, retry=retry, refused=refused, config=config)


def _error(message: str) -> bytes:
    return json.dumps({"error": message}).encode()


class SyncServer:
    """``SyncEndpoint`` on the standard library's threading HTTP server (``url`` once started)."""

    def __init__(self, endpoint: SyncEndpoint, host: str = "127.0.0.1", port: int = 0) -> None:
        handle = endpoint.handle

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                if self.path.split("?", 1)[0] != SYNC_PATH:
                    status, body = 404, _error(f"no such path; POST to {SYNC_PATH}")
                elif not 0 < length <= MAX_BODY_BYTES:
                    status, body = 413 if length else 411, _error(f"a body of 1 to {MAX_BODY_BYTES} bytes is needed")
                else:
                    status, body = handle(self.rfile.read(length), dict(self.headers.items()))
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                log.debug("sync endpoint: " + format, *args)

        self.server = ThreadingHTTPServer((host, port), Handler)
        self.server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}{SYNC_PATH}"

    def start(self) -> None:
        self._thread = threading.Thread(target=self.server.serve_forever, name="sync-endpoint", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        if self._thread is not None:
            self._thread.join(5)


class HttpTransport:
    """The edge's side: POSTs signed batches to the hub's ``/api/v1/sync``."""

    def __init__(
        self, url: str, secret: str, *, timeout_s: float = 10.0, clock: Callable[[], float] = time.time
    ) -> None:
        self.url, self.secret, self.timeout_s, self._clock = url, secret, timeout_s, clock
        self._opener = direct_opener()
        self._running = 0

    @property
    def target(self) -> str:
        return self.url

    def send(self, envelopes: Sequence[Envelope]) -> SendResult:
        if not envelopes:
            return SendResult()
        reply, error = self._post(envelopes[0].store, envelopes)
        if reply is None:
            return SendResult(error=error)
        result = SendResult(sent=list(reply.accepted), dead=dict(reply.refused))
        if reply.retry:
            result.error = f"the hub asked to send {len(reply.retry)} message(s) again later"
        return result

    def latest_config(self, store: str, running: int) -> ConfigVersion | None:
        self._running = running
        reply, _ = self._post(store, [])
        return None if reply is None else reply.config

    def _post(self, store: str, envelopes: Sequence[Envelope]) -> tuple[SyncReply | None, str | None]:
        batch = SyncBatch(store=store, config_version=self._running, messages=list(envelopes))
        body = batch.model_dump_json(by_alias=True).encode()
        ts = int(self._clock())
        headers = {"Content-Type": "application/json", SIGNATURE_HEADER: sign(body, self.secret, ts),
                   TIMESTAMP_HEADER: str(ts), "User-Agent": "storewatch-sync/1"}  # fmt: skip
        request = urllib.request.Request(self.url, data=body, method="POST", headers=headers)
        try:
            with self._opener.open(request, timeout=self.timeout_s) as response:
                data = response.read(MAX_BODY_BYTES)
        except urllib.error.HTTPError as exc:
            detail = exc.read(2000).decode("utf-8", "replace")
            return None, f"HTTP {exc.code} from {self.url}: {detail}"
        except urllib.error.URLError as exc:
            return None, f"cannot reach {self.url}: {exc.reason}"
        except (OSError, http.client.HTTPException) as exc:
            return None, f"{self.url}: {type(exc).__name__}: {exc}"
        try:
            return SyncReply.model_validate_json(data), None
        except ValidationError as exc:
            return None, f"{self.url}: unreadable reply: {exc.errors()[0]['msg']}"

    def close(self) -> None:
        self._opener.close()
