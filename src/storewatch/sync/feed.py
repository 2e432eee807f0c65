"""What goes into the edge's outbox: stored events (and camera health) as the event writer commits them, with a
thumbnail of each snapshot, and incidents and alerts whenever they change.

``EventFeed`` is an ``EventWriter.on_stored`` listener: it runs on the writer's thread right after a batch is
committed and writes the batch's messages to the outbox in one transaction of its own (a few milliseconds), so an
event reaches the outbox only once it is stored, in the order it was stored. ``camera.*`` events go as ``health``,
the rest as ``event``; the first stored state of an event that names a snapshot is followed, on the same camera
stream, by a ``thumbnail`` message (``sync.thumbnails``: 320 px wide, bounded in bytes). A transient database
error is retried a few times; should the outbox stay unwritable, the batch is counted in ``lost`` and logged (the
events are in the store, not on their way to the hub).

``IncidentFeed`` polls: incidents change from several processes (this edge's incident service, the command line,
the dashboard), so the edge compares each recent or open incident with what it last sent (``sync_incidents``) and
sends those that changed, whole, on the store's own stream. ``AlertFeed`` does the same for alerts (raised by the
router, escalated, acknowledged from the dashboard, the API or a signed link), on the alert's camera stream.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from storewatch.core.events import Event
from storewatch.incidents.workflow import CLOSED, IncidentState
from storewatch.store.alerts import AlertRepository
from storewatch.store.db import Database
from storewatch.store.events import is_transient
from storewatch.store.incidents import IncidentRepository
from storewatch.store.models import AlertStatus
from storewatch.store.sync_models import SyncedAlertRow, SyncedIncidentRow
from storewatch.store.types import utcnow
from storewatch.sync.envelope import Kind, kind_of
from storewatch.sync.outbox import Outbox, Outgoing
from storewatch.sync.payloads import AlertPayload, IncidentPayload, fingerprint
from storewatch.sync.thumbnails import thumbnail

log = logging.getLogger(__name__)

OPEN_STATES = [s for s in IncidentState if s not in CLOSED]


def event_payload(event: Event) -> dict[str, Any]:
    """The event as JSON; NaN and infinities (not JSON) become the strings ``nan``, ``inf`` as in the store."""
    data = event.model_dump(mode="json")
    data["values"] = {
        k: str(v) if isinstance(v, float) and not math.isfinite(v) else v for k, v in event.values.items()
    }
    return data


class EventFeed:
    """``EventWriter.on_stored`` listener that puts each committed batch into the outbox."""

    def __init__(
        self,
        outbox: Outbox,
        *,
        wake: Callable[[], None] | None = None,
        attempts: int = 5,
        retry_s: float = 0.2,
        thumbnails: bool = True,
        remember: int = 10_000,
    ) -> None:
        self.outbox = outbox
        self.wake = wake or (lambda: None)
        self.attempts, self.retry_s = attempts, retry_s
        self.thumbnails, self.remember = thumbnails, remember
        self.queued = self.lost = self.thumbnails_sent = 0
        self._thumbed: OrderedDict[str, None] = OrderedDict()
        """Events whose thumbnail is in the outbox already (the newest ``remember``)."""

    def __call__(self, batch: Sequence[Event]) -> None:
        messages = []
        for e in batch:
            messages.append(Outgoing(kind_of(e), e.store, str(e.camera), event_payload(e)))
            thumb = self._thumbnail(e)
            if thumb is not None:
                messages.append(thumb)
        for attempt in range(self.attempts):
            try:
                self.outbox.add(messages)
            except SQLAlchemyError as exc:
                if not is_transient(exc) or attempt == self.attempts - 1:
                    self.lost += len(messages)
                    log.error("sync: %d stored events not put in the outbox (%s); the hub will miss them",
                              len(messages), exc)  # fmt: skip
                    return
                time.sleep(self.retry_s * 2**attempt)
            else:
                self.queued += len(messages)
                self.wake()
                return

    def _thumbnail(self, event: Event) -> Outgoing | None:
        snapshot = event.evidence.get("snapshot")
        if not self.thumbnails or not snapshot or event.id in self._thumbed:
            return None
        made = thumbnail(event.id, Path(snapshot))
        if made is None:
            return None
        self._thumbed[event.id] = None
        while len(self._thumbed) > self.remember:
            self._thumbed.popitem(last=False)
        self.thumbnails_sent += 1
        return Outgoing(Kind.THUMBNAIL, event.store, str(event.camera), made.model_dump(mode="json"))


class _PollingFeed:
    """A thread calling ``poll()`` every ``every_s`` (and once more at the stop)."""

    name = "sync-feed"
    what = "changes"

    def __init__(self, every_s: float) -> None:
        self.every_s = every_s
        self.failures = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def poll(self) -> int:
        raise NotImplementedError

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop polling, after one last pass (so a change made just before the stop is sent)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10)
        self._poll_logged()

    def _run(self) -> None:
        while not self._stop.wait(self.every_s):
            self._poll_logged()

    def _poll_logged(self) -> None:
        try:
            self.poll()
        except SQLAlchemyError as exc:  # the next pass tries again: nothing is marked sent
            self.failures += 1
            log.warning("sync: %s not checked: %s", self.what, str(exc).splitlines()[0])


class IncidentFeed(_PollingFeed):
    """Every ``every_s``, sends the store's incidents that changed since they were last sent (open ones, and any
    created in the last ``lookback_s``)."""

    name, what = "sync-incidents", "incidents"

    def __init__(
        self,
        database: Database,
        outbox: Outbox,
        store: str,
        *,
        every_s: float = 2.0,
        lookback_s: float = 30 * 24 * 3600.0,
        wake: Callable[[], None] | None = None,
    ) -> None:
        super().__init__(every_s)
        self.db, self.outbox, self.store = database, outbox, store
        self.repository = IncidentRepository(database)
        self.lookback_s = lookback_s
        self.wake = wake or (lambda: None)
        self.queued = 0

    def poll(self) -> int:
        """One pass: put the incidents that changed in the outbox; returns how many."""
        since = utcnow() - timedelta(seconds=self.lookback_s)
        found = {i.id: i for i in self.repository.list(store=self.store, since=since, limit=1000)}
        found.update({i.id: i for i in self.repository.list(store=self.store, state=OPEN_STATES, limit=1000)})
        if not found:
            return 0
        with self.outbox.transaction() as session:
            query = select(SyncedIncidentRow).where(SyncedIncidentRow.incident_id.in_(list(found)))
            marks = {r.incident_id: r for r in session.scalars(query)}
            changed = [i for i in found.values() if (m := marks.get(i.id)) is None or m.fingerprint != fingerprint(i)]
            changed.sort(key=lambda i: (i.created, i.id))
            messages = [Outgoing(Kind.INCIDENT, self.store, None, IncidentPayload.of(i).model_dump(mode="json"))
                        for i in changed]  # fmt: skip
            self.outbox.add(messages, session)
            now = utcnow()
            for incident in changed:
                mark = marks.get(incident.id)
                if mark is None:
                    session.add(SyncedIncidentRow(incident_id=incident.id, fingerprint=fingerprint(incident),
                                                  synced_utc=now))  # fmt: skip
                else:
                    mark.fingerprint, mark.synced_utc = fingerprint(incident), now
        if changed:
            self.queued += len(changed)
            self.wake()
        return len(changed)


class AlertFeed(_PollingFeed):
    """Every ``every_s``, sends the store's alerts that changed since they were last sent (waiting ones, and any
    raised in the last ``lookback_s``), whole, each on its camera's stream, oldest first."""

    name, what = "sync-alerts", "alerts"

    def __init__(
        self,
        database: Database,
        outbox: Outbox,
        store: str,
        *,
        every_s: float = 1.0,
        lookback_s: float = 7 * 24 * 3600.0,
        wake: Callable[[], None] | None = None,
    ) -> None:
        super().__init__(every_s)
        self.db, self.outbox, self.store = database, outbox, store
        self.repository = AlertRepository(database)
        self.lookback_s = lookback_s
        self.wake = wake or (lambda: None)
        self.queued = 0

    def poll(self) -> int:
        """One pass: put the alerts that changed in the outbox; returns how many."""
        since = utcnow() - timedelta(seconds=self.lookback_s)
        recent = self.repository.list(store=self.store, since=since, limit=1000)
        waiting = self.repository.list(store=self.store, status=AlertStatus.WAITING, limit=1000)
        found = {a.id: AlertPayload.of(a) for a in [*recent, *waiting]}
        if not found:
            return 0
        with self.outbox.transaction() as session:
            query = select(SyncedAlertRow).where(SyncedAlertRow.alert_id.in_(list(found)))
            marks = {r.alert_id: r for r in session.scalars(query)}
            changed = [a for a in found.values() if (m := marks.get(a.id)) is None or m.fingerprint != a.fingerprint()]
            changed.sort(key=lambda a: (a.raised, a.id))
            self.outbox.add([Outgoing(Kind.ALERT, self.store, a.camera, a.model_dump(mode="json")) for a in changed
                             if a.camera.startswith(f"{self.store}/")], session)  # fmt: skip
            now = utcnow()
            for alert in changed:
                mark = marks.get(alert.id)
                if mark is None:
                    session.add(SyncedAlertRow(alert_id=alert.id, fingerprint=alert.fingerprint(), synced_utc=now))
                else:
                    mark.fingerprint, mark.synced_utc = alert.fingerprint(), now
        if changed:
            self.queued += len(changed)
            self.wake()
        return len(changed)
