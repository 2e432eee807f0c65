"""The action service: started events in, deterrent actions out, each one in the action log.

One thread reads the event bus (its own bounded drop-oldest inbox, ``actions``). For each *started* event, every
enabled action whose ``when`` matches is either queued for a worker or logged ``skipped`` with the reason, checked
in this order:

1. ``outside schedule <name>``: the action's store schedule is off now (in the store's time zone);
2. ``cool-down``: the action fired less than ``cooldown_s`` ago (the cool-down runs from each firing, skipped
   events do not extend it);
3. ``busy``: the action's previous run has not finished (a hanging device holds at most one worker);
4. ``dropped``: the job queue is full (bounded, ``queue_size``; the newest job is refused and counted).

A small pool of worker threads runs the queued actions (``Executor.run``, each bounded by its own timeout) and logs
``done`` with the outcome or ``failed`` with the error. A device that hangs until its timeout delays nothing but
its own action. The log write is the end of each decision; a log that fails is counted and logged, never raised
into the loop.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Protocol

from storewatch.actions.config import ActionConfig
from storewatch.actions.executor import ActionError, Executor
from storewatch.core.events import Event, EventState
from storewatch.runtime.bus import EventBus
from storewatch.store.actions import ActionRecord, ActionStatus

if TYPE_CHECKING:
    from storewatch.behaviour.schedule import StoreSchedule
    from storewatch.config.schema import SiteConfig

log = logging.getLogger(__name__)


class ActionLogSink(Protocol):
    def add(self, record: ActionRecord) -> ActionRecord: ...


@dataclass(frozen=True, slots=True)
class _Job:
    action: ActionConfig
    event: Event


class ActionService:
    """``start()``, ``stop()``; ``dispatch(event)`` is what the bus thread calls for each event (also for tests)."""

    def __init__(
        self,
        site: SiteConfig,
        bus: EventBus,
        action_log: ActionLogSink,
        executors: Mapping[str, Executor],
        *,
        workers: int = 4,
        queue_size: int = 64,
        name: str = "actions",
        clock: Callable[[], float] = time.monotonic,
        utcnow: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.actions = [a for a in site.actions if a.enabled]
        self.bus, self.name = bus, name
        self.log = action_log
        self.executors = dict(executors)
        self._stores: dict[str, tuple[StoreSchedule, str]] = {
            s.id: (s.schedule, s.timezone or site.site.timezone) for s in site.stores
        }
        self._clock, self._utcnow = clock, utcnow
        self._jobs: queue.Queue[_Job] = queue.Queue(maxsize=queue_size)
        self._n_workers = workers
        self._lock = threading.Lock()
        self._fired_at: dict[str, float] = {}
        self._busy: set[str] = set()
        self.counts: Counter[ActionStatus] = Counter()
        self.dropped = 0
        self.log_failures = 0
        self._inbox = None if not self.actions else bus.subscribe(name, maxsize=1000)
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        if self._inbox is None:
            return  # nothing to do: no thread, no subscription
        names = [("actions-events", self._read_bus)]
        names += [(f"actions-worker-{i}", self._work) for i in range(self._n_workers)]
        for name, target in names:
            thread = threading.Thread(target=target, name=name, daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self, timeout_s: float = 10.0) -> None:
        """Stop reading events, let the workers finish what is queued (each job bounded by its timeout), close."""
        self._stop.set()
        deadline = time.monotonic() + timeout_s
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        self.bus.unsubscribe(self.name)
        for executor in self.executors.values():
            executor.close()

    def stats(self) -> dict[str, int]:
        inbox = self._inbox
        return {
            **{s.value: self.counts[s] for s in ActionStatus},
            "queued": self._jobs.qsize(),
            "dropped": self.dropped,
            "inbox_dropped": 0 if inbox is None else inbox.dropped,
            "log_failures": self.log_failures,
        }

    # --- the event thread ----------------------------------------------------------------------------------------
    def _read_bus(self) -> None:
        assert self._inbox is not None
        while not self._stop.is_set():
            try:
                event = self._inbox.get(timeout=0.2)
            except queue.Empty:
                continue
            try:
                self.dispatch(event)
            except Exception:  # top of the loop: one bad event must not end the actions
                log.exception("actions: event %s (%s) not handled", event.id, event.type)

    def dispatch(self, event: Event) -> None:
        """Queue (or log as skipped) every action ``event`` fires; returns at once."""
        if event.state != EventState.STARTED:
            return
        for action in self.actions:
            if action.when.matches(event):
                self._consider(action, event)

    def _consider(self, action: ActionConfig, event: Event) -> None:
        reason = self._off_schedule(action, event)
        now = self._clock()
        with self._lock:
            fired = self._fired_at.get(action.name)
            if reason is None and fired is not None and now - fired < action.cooldown_s:
                reason = f"cool-down: fired {now - fired:.1f} s ago (cooldown_s {action.cooldown_s:g})"
            if reason is None and action.name in self._busy:
                reason = "busy: the previous run has not finished"
            if reason is None:
                try:
                    self._jobs.put_nowait(_Job(action, event))
                except queue.Full:
                    self.dropped += 1
                    reason = f"dropped: the action queue is full ({self._jobs.maxsize} waiting)"
                else:
                    self._fired_at[action.name] = now
                    self._busy.add(action.name)
        if reason is not None:
            self._record(action, event, ActionStatus.SKIPPED, reason)

    def _off_schedule(self, action: ActionConfig, event: Event) -> str | None:
        if action.schedule is None:
            return None
        store = self._stores.get(event.store)
        if store is None:
            return f"store {event.store} unknown: schedule {action.schedule} cannot be checked"
        schedule, timezone = store
        if not schedule.is_armed(action.schedule, self._utcnow(), timezone):
            return f"outside schedule {action.schedule}"
        return None

    # --- the workers -----------------------------------------------------------------------------------------------
    def _work(self) -> None:
        while True:
            try:
                job = self._jobs.get(timeout=0.2)
            except queue.Empty:
                if self._stop.is_set():
                    return
                continue
            self._run(job)

    def _run(self, job: _Job) -> None:
        action, event = job.action, job.event
        at, started = self._utcnow(), time.monotonic()
        try:
            outcome, status = self.executors[action.name].run(event), ActionStatus.DONE
        except ActionError as exc:
            outcome, status = str(exc), ActionStatus.FAILED
        except Exception as exc:  # an executor bug: the action failed, the worker goes on
            log.exception("action %s failed unexpectedly on event %s", action.name, event.id)
            outcome, status = f"{type(exc).__name__}: {exc}", ActionStatus.FAILED
        finally:
            with self._lock:
                self._busy.discard(action.name)
        self._record(action, event, status, outcome, at, time.monotonic() - started)

    def _record(
        self,
        action: ActionConfig,
        event: Event,
        status: ActionStatus,
        outcome: str,
        at: datetime | None = None,
        duration_s: float | None = None,
    ) -> None:
        record = ActionRecord(
            action=action.name, kind=action.kind, status=status, outcome=outcome, at_utc=at or self._utcnow(),
            camera=str(event.camera), event_id=event.id,
            duration_s=None if duration_s is None else round(duration_s, 3),
        )  # fmt: skip
        level = logging.WARNING if status == ActionStatus.FAILED else logging.INFO
        log.log(level, "action %s %s for %s on %s: %s", action.name, status.value, event.type, event.camera, outcome)
        with self._lock:
            self.counts[status] += 1
        try:
            self.log.add(record)
        except Exception as exc:  # the database may be down; the decision stands, the log says so
            with self._lock:
                self.log_failures += 1
            log.error("action log: %s (%s) for event %s not stored: %s", action.name, status.value, event.id, exc)
