"""Incidents that build themselves: stored events are grouped into incidents, kept in the database.

The service listens to the ``EventWriter`` (so every event it links is already stored) and works on its own
thread through a bounded queue (overflow: the oldest batch is dropped, counted and logged). For each event:

* a *started* event that ``IncidentsConfig.wants`` joins an open incident (same track, or same camera zone within
  the window; ``incidents.grouping``) or opens one, which is recorded in the chain of custody as created;
* an *updated* event that brings evidence (snapshot, clip, path) adds it to its incidents' timeline;
* an *ended* event notes how long it lasted;
* ``alert_acknowledged`` moves the incident of the acknowledged event from open to acknowledged.

Every change goes through ``IncidentRepository.change`` (read, apply, write in one transaction), so a person
closing or annotating the same incident from the CLI or the dashboard at the same moment loses nothing; a closed
incident stops collecting events (a new one opens). At start, the open incidents are read back so grouping carries
on across a restart.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Sequence
from datetime import datetime

from storewatch.core.events import Event, EventState
from storewatch.incidents.config import IncidentsConfig
from storewatch.incidents.grouping import Grouper
from storewatch.incidents.workflow import CLOSED, Incident, IncidentState
from storewatch.runtime.queues import DropOldestQueue
from storewatch.store.db import Database
from storewatch.store.events import EventWriter
from storewatch.store.incidents import IncidentRepository
from storewatch.store.models import CustodyAction, new_id

log = logging.getLogger(__name__)

SYSTEM = "storewatch"
EVIDENCE_NAMES = {"snapshot": "snapshot", "clip": "clip", "path": "path drawn on a frame"}


class IncidentService:
    def __init__(self, database: Database, config: IncidentsConfig | None = None, queue_size: int = 1000) -> None:
        self.config = config or IncidentsConfig()
        self.repository = IncidentRepository(database)
        self.grouper = Grouper(self.config.window_s, new_id=new_id)
        self._inbox: DropOldestQueue[Sequence[Event]] = DropOldestQueue(queue_size)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._idle = threading.Condition()
        self._busy = False
        self.opened = self.linked = self.failures = 0

    @property
    def dropped(self) -> int:
        return self._inbox.dropped

    def attach(self, writer: EventWriter) -> None:
        writer.on_stored(self.submit)

    def submit(self, events: Sequence[Event]) -> None:
        if self._inbox.put(list(events)):
            log.error("incidents: queue full, dropped a batch of events (%d so far)", self._inbox.dropped)

    def start(self) -> None:
        for incident, events in self.repository.open_incidents():
            self.grouper.adopt(incident, events)
        self._thread = threading.Thread(target=self._run, name="incidents", daemon=True)
        self._thread.start()

    def stop(self, timeout_s: float = 10.0) -> None:
        self.wait_idle(timeout_s)
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout_s)

    def wait_idle(self, timeout_s: float) -> bool:
        with self._idle:
            return self._idle.wait_for(lambda: len(self._inbox) == 0 and not self._busy, timeout_s)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                batch = self._inbox.get(timeout=0.2)
            except queue.Empty:
                continue
            with self._idle:
                self._busy = True
            try:
                for event in batch:
                    self.handle(event)
            finally:
                with self._idle:
                    self._busy = False
                    self._idle.notify_all()

    def handle(self, event: Event) -> None:
        """Apply one stored event (public for tests; the thread calls it)."""
        try:
            if event.type == "alert_acknowledged":
                self._acknowledged(event)
            elif event.state == EventState.STARTED and self.config.wants(event):
                self._place(event)
            elif event.state != EventState.STARTED:
                self._follow(event)
        except Exception:  # one bad event must not stop incidents for the rest
            self.failures += 1
            log.exception("incidents: event %s (%s) not applied", event.id, event.type)

    def _place(self, event: Event) -> None:
        self._forget_closed()
        placed = self.grouper.place(event)
        text = f"{event.type}: {event.explanation}"
        if len(placed.event_ids) == 1 and self.repository.get(placed.id) is None:
            self.repository.save(placed)
            self.repository.record_custody(placed.id, SYSTEM, CustodyAction.CREATED, {"event_id": event.id})
            self.opened += 1
            log.info("incident %s opened: %s", placed.id, placed.title)
        else:
            stored = self.repository.change(placed.id, lambda cur: cur.with_event(event.id, event.start_utc, text))
            self.grouper.update(stored)
        self.linked += 1

    def _forget_closed(self) -> None:
        """Incidents closed elsewhere (CLI, dashboard) stop collecting events here."""
        if not self.grouper.open:
            return
        still = {i.id for i in self.repository.list(state=_OPEN_STATES, limit=1000)}
        for incident_id in [i for i in self.grouper.open if i not in still]:
            stored = self.repository.get(incident_id)
            if stored is not None:
                self.grouper.update(stored)

    def _follow(self, event: Event) -> None:
        incidents = self.repository.for_event(event.id)
        if not incidents:
            return
        if event.state == EventState.ENDED:
            lasted = f" after {event.duration_s:.0f} s" if event.duration_s is not None else ""
            text, kind = f"{event.type} ended{lasted}", "event_ended"
        else:
            kinds = [EVIDENCE_NAMES.get(k, k) for k in event.evidence]
            if not kinds:
                return
            text, kind = f"{event.type}: {', '.join(kinds)} saved", "evidence"
        at = event.end_utc or event.start_utc
        for incident_id in incidents:
            stored = self.repository.change(incident_id, lambda cur: _add_unique(cur, kind, text, at))
            self.grouper.update(stored)

    def _acknowledged(self, event: Event) -> None:
        source = str(event.values.get("event_id", ""))
        by = str(event.values.get("by", "someone"))
        for incident_id in self.repository.for_event(source) if source else []:
            stored = self.repository.change(incident_id, lambda cur: _acknowledge(cur, by, event))
            self.grouper.update(stored)


_OPEN_STATES = [s for s in IncidentState if s not in CLOSED]


def _add_unique(incident: Incident, kind: str, text: str, at: datetime) -> Incident:
    if any(e.kind == kind and e.text == text for e in incident.timeline):
        return incident  # a replayed message adds nothing
    return incident.record(kind, text, at)


def _acknowledge(incident: Incident, by: str, event: Event) -> Incident:
    reason = str(event.values.get("false_alarm_reason", "")) or None
    how = f"through the {by}" if by == "signed link" else ""
    return incident.alert_acknowledged(str(event.values.get("event_id", "")), by, event.start_utc, reason, how)
