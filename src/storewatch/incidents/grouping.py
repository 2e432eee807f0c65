"""Alerts grouped into incidents: an event joins an open incident of the same store when it shares a track with
one of its events, or happened in the same zone of the same camera within ``window_s`` of its latest event;
otherwise it opens a new incident. Grouping only looks at incidents that are not closed, so a resolved case is
never silently extended (a new one opens and can be linked by people).

>>> from datetime import UTC, datetime, timedelta
>>> from storewatch.core.events import Event
>>> g = Grouper(window_s=120)
>>> t = datetime(2026, 3, 2, 12, tzinfo=UTC)
>>> a = Event.start("loitering", "s1/c1", t, "x", zone="electronics", track_ids=("s1/c1/4",))
>>> b = Event.start("walk_out", "s1/c2", t + timedelta(seconds=300), "y", track_ids=("s1/c1/4",))
>>> c = Event.start("crowding", "s1/c1", t + timedelta(seconds=30), "z", zone="electronics")
>>> d = Event.start("queue", "s1/c3", t, "w", zone="tills")
>>> [g.place(e).id for e in (a, b, c, d)]
['inc-1', 'inc-1', 'inc-1', 'inc-2']
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from storewatch.core.events import Event
from storewatch.incidents.workflow import Incident


@dataclass
class _Open:
    incident: Incident
    tracks: set[str] = field(default_factory=set)
    zones: dict[tuple[str, str], datetime] = field(default_factory=dict)
    """(camera, zone) -> time of the latest event there."""


class Grouper:
    def __init__(self, window_s: float = 120.0, new_id: Callable[[], str] | None = None) -> None:
        if window_s < 0:
            raise ValueError("window_s must not be negative")
        self.window_s = window_s
        counter = itertools.count(1)
        self._new_id = new_id or (lambda: f"inc-{next(counter)}")
        self.open: dict[str, _Open] = {}

    def place(self, event: Event) -> Incident:
        """The incident ``event`` belongs to (an existing one updated, or a new one)."""
        found = self._find(event)
        if found is None:
            title = f"{event.type.replace('_', ' ')} at {event.camera}" + (f" ({event.zone})" if event.zone else "")
            opened = Incident.open(
                self._new_id(), event.store, event.start_utc, title, camera=str(event.camera), zone=event.zone
            )
            found = _Open(opened)
            self.open[opened.id] = found
        found.incident = found.incident.with_event(event.id, event.start_utc, f"{event.type}: {event.explanation}")
        self._remember(found, event)
        return found.incident

    def adopt(self, incident: Incident, events: list[Event]) -> None:
        """Take over an open incident made earlier (e.g. read back from the database at start) with its events."""
        if incident.closed:
            return
        found = _Open(incident)
        for event in events:
            self._remember(found, event)
        self.open[incident.id] = found

    @staticmethod
    def _remember(found: _Open, event: Event) -> None:
        found.tracks.update(event.track_ids)
        if event.zone:
            key = (str(event.camera), event.zone)
            found.zones[key] = max(found.zones.get(key, event.start_utc), event.start_utc)

    def update(self, incident: Incident) -> None:
        """Tell the grouper about a change made elsewhere (a closed incident stops collecting events)."""
        if incident.closed:
            self.open.pop(incident.id, None)
        elif incident.id in self.open:
            self.open[incident.id].incident = incident

    def _find(self, event: Event) -> _Open | None:
        for o in self.open.values():
            if o.incident.store != event.store:
                continue
            if o.tracks & set(event.track_ids):
                return o
            last = o.zones.get((str(event.camera), event.zone or ""))
            if event.zone and last is not None and abs((event.start_utc - last).total_seconds()) <= self.window_s:
                return o
        return None
