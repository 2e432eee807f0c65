"""NATS JetStream for hub-and-edge sync: the streams, one connection per process, and the edge's transport.

Streams (file storage, created by whichever side comes first, identical on both):

* ``STOREWATCH_SYNC``: edge -> hub, subjects ``storewatch.<store>.<kind>`` for kind event, incident, health,
  config_ack, alert, thumbnail; messages kept 7 days; ``Nats-Msg-Id`` = the envelope id, de-duplicated by the
  server within 15 min (a publish whose acknowledgement was lost is sent again with the same id and stored
  once). The hub reads it through one durable pull consumer, so what arrives while the hub is down waits in the
  stream.
* ``STOREWATCH_CONFIG``: hub -> edges, ``storewatch.<store>.config``, the newest version per store only; an edge
  reads the last message of its subject (no consumer state to lose).

``NatsLink`` is one connection on an event loop in its own thread. It connects and reconnects in the background
for ever (an edge starts and runs with no hub); callers get ``NotConnectedError`` at once while it is away instead
of waiting, and the outbox keeps the messages. ``NatsTransport`` publishes envelopes in windows of ``window``
concurrent publishes on that one connection (the server stores them in the order sent) and reports the
acknowledged prefix: a message after a failed one is sent again with the rest, and de-duplicated, so the stream
keeps each camera's order.

Leaf nodes: an edge may point ``--hub`` at a NATS leaf node on its own machine; the outbox still does the
store-and-forward (a leaf without its own JetStream domain cannot store while the hub's cluster is away).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any, TypeVar

import nats
import nats.errors
import nats.js.errors
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import RetentionPolicy, StorageType, StreamConfig

from storewatch.sync.envelope import MAX_BODY_BYTES, SUBJECT_PREFIX, Envelope, Kind
from storewatch.sync.live_config import ConfigVersion, LiveConfigError
from storewatch.sync.publisher import SendResult

log = logging.getLogger(__name__)

T = TypeVar("T")

SYNC_STREAM = "STOREWATCH_SYNC"
CONFIG_STREAM = "STOREWATCH_CONFIG"
HUB_CONSUMER = "storewatch-hub"
MSG_ID_HEADER = "Nats-Msg-Id"
DUPLICATE_WINDOW_S = 15 * 60.0
KEEP_S = 7 * 24 * 3600.0
_PERMANENT_CODES = {10054}  # message size exceeds the stream's maximum


def config_subject(store: str) -> str:
    """Where the hub puts a store's configuration.

    >>> config_subject("s1")
    'storewatch.s1.config'
    """
    return f"{SUBJECT_PREFIX}.{store}.config"


def sync_stream() -> StreamConfig:
    return StreamConfig(
        name=SYNC_STREAM,
        subjects=[f"{SUBJECT_PREFIX}.*.{k.value}" for k in Kind],
        storage=StorageType.FILE,
        retention=RetentionPolicy.LIMITS,
        max_age=KEEP_S,
        duplicate_window=DUPLICATE_WINDOW_S,
    )


def config_stream() -> StreamConfig:
    return StreamConfig(
        name=CONFIG_STREAM,
        subjects=[config_subject("*")],
        storage=StorageType.FILE,
        retention=RetentionPolicy.LIMITS,
        max_msgs_per_subject=1,
        duplicate_window=DUPLICATE_WINDOW_S,
    )


async def ensure_streams(js: JetStreamContext) -> None:
    """Create both streams unless they exist; one made by an older version (fewer kinds, so fewer subjects) is
    updated to these settings, and left as it is should the server refuse that."""
    for config in (sync_stream(), config_stream()):
        try:
            await js.add_stream(config)
        except nats.js.errors.BadRequestError as exc:  # exists with other settings
            try:
                await js.update_stream(config)
                log.info("sync: stream %s updated to this version's settings", config.name)
            except nats.js.errors.APIError as again:
                log.warning("sync: stream %s exists with other settings; using it as it is (%s; %s)", config.name,
                            exc, again)  # fmt: skip


class NotConnectedError(ConnectionError):
    """NATS is not reachable now (the connection keeps trying in the background)."""


class NatsLink:
    """One NATS connection on an event loop in its own thread; reconnects for ever."""

    def __init__(self, url: str, *, name: str, timeout_s: float = 5.0) -> None:
        self.url, self.timeout_s = url, timeout_s
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name=f"nats-{name}", daemon=True)
        self._thread.start()
        self.client: Client = self._submit(self._client(), 10.0)
        self._connecting = asyncio.run_coroutine_threadsafe(self._connect(name), self.loop)
        self.js: JetStreamContext = self.client.jetstream(timeout=timeout_s)

    @staticmethod
    async def _client() -> Client:
        return Client()

    async def _connect(self, name: str) -> None:
        async def error(exc: Exception) -> None:
            log.debug("nats %s: %s", self.url, exc)

        async def disconnected() -> None:
            log.info("nats %s: disconnected", self.url)

        async def reconnected() -> None:
            log.info("nats %s: connected again", self.url)

        await self.client.connect(
            servers=[self.url], name=name, connect_timeout=2, reconnect_time_wait=1, max_reconnect_attempts=-1,
            error_cb=error, disconnected_cb=disconnected, reconnected_cb=reconnected,
        )  # fmt: skip
        log.info("nats %s: connected", self.url)

    @property
    def connected(self) -> bool:
        return bool(self.client.is_connected)

    def wait_connected(self, timeout_s: float) -> bool:
        """Wait up to ``timeout_s`` for the connection; whether it is up."""
        deadline = time.monotonic() + timeout_s
        while not self.connected and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.connected

    def run(self, work: Callable[[], Awaitable[T]], timeout_s: float | None = None) -> T:
        """Run ``work()`` on the connection's loop and wait for it; ``NotConnectedError`` while NATS is away."""
        if not self.connected:
            raise NotConnectedError(f"NATS at {self.url} is not reachable")

        async def call() -> T:
            return await work()

        result: T = self._submit(call(), timeout_s or self.timeout_s * 4)
        return result

    def spawn(self, work: Coroutine[Any, Any, T]) -> Future[T]:
        """Run a long task on the connection's loop (the hub's consumer); its future, to cancel or wait for."""
        return asyncio.run_coroutine_threadsafe(work, self.loop)

    def _submit(self, coro: Any, timeout_s: float) -> Any:
        future = asyncio.run_coroutine_threadsafe(coro, self.loop)
        try:
            return future.result(timeout_s)
        except FutureTimeout:
            future.cancel()
            raise TimeoutError(f"NATS at {self.url}: no answer in {timeout_s:g} s") from None

    def close(self) -> None:
        self._connecting.cancel()

        async def shut() -> None:
            with contextlib.suppress(nats.errors.Error, TimeoutError, OSError):
                await asyncio.wait_for(self.client.close(), 5)

        with contextlib.suppress(TimeoutError):
            self._submit(shut(), 10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(5)


class NatsTransport:
    """Sends envelopes to JetStream (``storewatch.<store>.<kind>``, ``Nats-Msg-Id`` = envelope id) and reads the
    store's newest configuration version."""

    def __init__(self, url: str, *, name: str = "storewatch-edge", window: int = 64, timeout_s: float = 5.0) -> None:
        self.link = NatsLink(url, name=name, timeout_s=timeout_s)
        self.window, self.timeout_s = window, timeout_s
        self._streams_checked = False

    @property
    def target(self) -> str:
        return self.link.url

    def send(self, envelopes: Sequence[Envelope]) -> SendResult:
        try:
            return self.link.run(lambda: self._send(envelopes), self.timeout_s * (2 + len(envelopes) / self.window))
        except (NotConnectedError, TimeoutError) as exc:
            return SendResult(error=str(exc))

    async def _send(self, envelopes: Sequence[Envelope]) -> SendResult:
        result = SendResult()
        bodies = [(env, env.to_json()) for env in envelopes]
        for start in range(0, len(bodies), self.window):
            chunk = bodies[start : start + self.window]
            acks = await asyncio.gather(*(self._publish(env, body) for env, body in chunk), return_exceptions=True)
            for (env, _), ack in zip(chunk, acks, strict=True):
                if ack is None:
                    result.sent.append(env.id)
                elif _permanent(ack):
                    result.dead[env.id] = str(ack)
                else:
                    result.error = f"{type(ack).__name__}: {ack}".rstrip(": ")
                    if isinstance(ack, nats.js.errors.NoStreamResponseError) and not self._streams_checked:
                        self._streams_checked = True
                        await ensure_streams(self.link.js)  # nobody made the stream yet: the edge does
                    return result
        return result

    async def _publish(self, env: Envelope, body: bytes) -> BaseException | None:
        if len(body) > MAX_BODY_BYTES:
            return nats.errors.MaxPayloadError(f"message of {len(body)} bytes is over {MAX_BODY_BYTES}")
        try:
            await self.link.js.publish(env.subject, body, timeout=self.timeout_s, headers={MSG_ID_HEADER: env.id})
        except (TimeoutError, nats.errors.Error, OSError) as exc:
            return exc
        return None

    def latest_config(self, store: str, running: int) -> ConfigVersion | None:
        try:
            return self.link.run(lambda: self._latest_config(store))
        except (NotConnectedError, TimeoutError):
            return None

    async def _latest_config(self, store: str) -> ConfigVersion | None:
        try:
            msg = await self.link.js.get_last_msg(CONFIG_STREAM, config_subject(store))
        except (nats.js.errors.NotFoundError, nats.js.errors.APIError, nats.errors.TimeoutError):
            return None
        try:
            version = ConfigVersion.parse(msg.data or b"")
        except LiveConfigError as exc:
            log.error("sync: configuration on %s is unreadable: %s", config_subject(store), exc)
            return None
        return version if version.store == store else None

    def close(self) -> None:
        self.link.close()


def _permanent(exc: BaseException) -> bool:
    if isinstance(exc, nats.errors.MaxPayloadError):
        return True
    return isinstance(exc, nats.js.errors.APIError) and exc.err_code in _PERMANENT_CODES


class Responder:
    """At the edge: answers requests on one subject over the edge's own NATS connection (the edge accepts no inbound
    connection). Subscribes once the link is up (the client resubscribes by itself after each reconnection);
    subclasses answer in ``_answer``."""

    what = "requests"
    """For the log: what the subject carries."""

    def __init__(self, link: NatsLink, subject: str) -> None:
        self.link, self.subject = link, subject
        self._stop = threading.Event()

    def start(self) -> None:
        self.link.spawn(self._serve())

    def stop(self) -> None:
        self._stop.set()

    async def _serve(self) -> None:
        subscribed = False
        while not self._stop.is_set():
            if not subscribed and self.link.connected:
                try:
                    await self.link.client.subscribe(self.subject, cb=self._answer)
                    subscribed = True
                    log.info("sync: answering the hub's %s on %s", self.what, self.subject)
                except (nats.errors.Error, OSError) as exc:
                    log.warning("sync: %s not subscribed yet: %s", self.what, exc)
            await asyncio.sleep(0.5)

    async def _answer(self, msg: Msg) -> None:
        raise NotImplementedError
