"""The edge's publisher: one thread that drains the outbox through a transport (NATS JetStream or HTTPS) and asks
it, now and then, for the newest configuration version of the store.

Each round takes the oldest unsent messages (at most ``batch_size``) and hands them to the transport, which
returns the ids the other side acknowledged (in order: a message is marked sent only after its acknowledgement),
those it refused for good (marked dead, so they do not block the rest) and, when it stopped early, why. Then the
publisher waits: not at all when more is waiting, ``idle_s`` (or until ``wake()``) when the outbox is empty, and
with exponential backoff (up to ``max_backoff_s``) while the hub, NATS or the network is away. A transport's own
bug is caught at the top of the loop, logged, and treated like an outage (the messages stay in the outbox).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from sqlalchemy.exc import SQLAlchemyError

from storewatch.runtime.backoff import Backoff
from storewatch.sync.envelope import Envelope
from storewatch.sync.live_config import ConfigVersion
from storewatch.sync.outbox import Outbox

log = logging.getLogger(__name__)


@dataclass(slots=True)
class SendResult:
    sent: list[str] = field(default_factory=list)
    """Ids acknowledged by the other side, in the order given."""
    dead: dict[str, str] = field(default_factory=dict)
    """Ids refused for good, with the reason."""
    error: str | None = None
    """Why the rest were not sent (a transient failure: they are tried again)."""


class Transport(Protocol):
    """How envelopes reach the hub."""

    @property
    def target(self) -> str:
        """Where it sends (for messages; no secrets)."""
        ...

    def send(self, envelopes: Sequence[Envelope]) -> SendResult: ...

    def latest_config(self, store: str, running: int) -> ConfigVersion | None:
        """The newest configuration version pushed to ``store`` (None: none, or the hub cannot be asked now)."""
        ...

    def close(self) -> None: ...


class Publisher:
    def __init__(
        self,
        outbox: Outbox,
        transport: Transport,
        *,
        store: str,
        running_version: Callable[[], int] = lambda: 0,
        on_config: Callable[[ConfigVersion], None] | None = None,
        batch_size: int = 200,
        idle_s: float = 0.5,
        config_every_s: float = 2.0,
        prune_every_s: float = 600.0,
        max_backoff_s: float = 15.0,
    ) -> None:
        self.outbox, self.transport, self.store = outbox, transport, store
        self.running_version, self.on_config = running_version, on_config
        self.batch_size, self.idle_s, self.config_every_s, self.prune_every_s = (
            batch_size, idle_s, config_every_s, prune_every_s
        )  # fmt: skip
        self.backoff = Backoff(initial_s=0.25, max_s=max_backoff_s)
        self.sent = self.dead = self.failures = 0
        self.last_error: str | None = None
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._next_config = 0.0
        self._next_prune = 0.0
        self._failing_since: float | None = None

    def wake(self) -> None:
        """Something was added to the outbox: send it now rather than after the idle wait."""
        self._wake.set()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="sync-publisher", daemon=True)
        self._thread.start()

    def stop(self, drain_s: float = 5.0) -> bool:
        """Send what is waiting for up to ``drain_s`` (it stays in the outbox for the next run otherwise), stop;
        True when the outbox was empty at the end."""
        deadline = time.monotonic() + drain_s
        while time.monotonic() < deadline and self._pending() and self.last_error is None:
            self.wake()
            time.sleep(0.05)
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(max(1.0, deadline - time.monotonic()) + 10.0)
        return not self._pending()

    def _pending(self) -> bool:
        try:
            return bool(self.outbox.pending(1))
        except SQLAlchemyError:
            return True

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                delay = self.round()
            except Exception as exc:  # a transport's or the database's trouble must not end the thread
                delay = self._failed(f"{type(exc).__name__}: {exc}")
                log.exception("sync: publishing round failed")
            if delay > 0:
                self._wake.wait(delay)
                self._wake.clear()

    def round(self) -> float:
        """Send one batch and check the configuration when due; returns how long to wait before the next round."""
        now = time.monotonic()
        if now >= self._next_prune:
            self._next_prune = now + self.prune_every_s
            self.outbox.prune()
        if self.on_config is not None and now >= self._next_config:
            self._next_config = now + self.config_every_s
            version = self.transport.latest_config(self.store, self.running_version())
            if version is not None and version.version > self.running_version():
                self.on_config(version)
        batch = self.outbox.pending(self.batch_size)
        if not batch:
            return self.idle_s
        result = self.transport.send(batch)
        self.outbox.mark_sent(result.sent)
        if result.dead:
            self.outbox.mark_dead(result.dead)
        self.sent += len(result.sent)
        self.dead += len(result.dead)
        if result.error is not None:
            done = set(result.sent) | set(result.dead)
            self.outbox.mark_failed([e.id for e in batch if e.id not in done][:1], result.error)
            return self._failed(result.error)
        if self._failing_since is not None:
            log.warning("sync: %s reachable again after %.0f s", self.transport.target,
                        time.monotonic() - self._failing_since)  # fmt: skip
        self._failing_since, self.last_error = None, None
        self.backoff.reset()
        return 0.0 if len(batch) == self.batch_size else min(self.idle_s, 0.05)

    def _failed(self, error: str) -> float:
        self.failures += 1
        if self._failing_since is None:
            self._failing_since = time.monotonic()
            log.warning("sync: cannot send to %s (%s); messages wait in the outbox", self.transport.target, error)
        self.last_error = error
        return self.backoff.next_delay()
