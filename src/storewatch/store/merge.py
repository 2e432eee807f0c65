"""Folding an event's messages into one record, whatever order they arrive in.

An event is sent several times under one id (``started`` -> ``updated`` ... -> ``ended``), and a replay or a
restart can send any of them again, late or twice. ``merge_events(stored, incoming)`` is the one rule the store
applies, and it is idempotent (merging a message again changes nothing) and order-safe:

* the message further along its lifecycle wins state, severity, explanation and scalar values; between two of the
  same state (two ``updated``), the later arrival wins. So an ``ended`` event never goes back to ``started``;
* times are kept once known: the earliest start, the end time of whichever message has one (the newer first);
* maps and lists grow: evidence (``kind -> path``) and values are merged (newer wins a key), track ids are united;
* identity (id, type, camera) stays as first stored.

>>> from datetime import UTC, datetime
>>> t0 = datetime(2026, 1, 1, tzinfo=UTC)
>>> started = Event(id="e1", type="loitering", camera="s1/c1", start_utc=t0, explanation="x", values={"n": 1})
>>> ended = started.end(datetime(2026, 1, 1, 0, 1, tzinfo=UTC), n=2).with_evidence(clip="e1.mp4")
>>> late = merge_events(ended, started.with_evidence(snapshot="e1.jpg"))
>>> late.state.value, late.end_utc.minute, late.values, sorted(late.evidence)
('ended', 1, {'n': 2}, ['clip', 'snapshot'])
>>> merge_events(late, ended) == late
True
"""

from __future__ import annotations

from typing import TypeVar

from storewatch.core.events import Event, EventState

T = TypeVar("T")

STATE_RANK = {EventState.STARTED: 0, EventState.UPDATED: 1, EventState.ENDED: 2}


def merge_events(stored: Event, incoming: Event) -> Event:
    """The record after ``incoming`` arrives for the event ``stored`` (same id)."""
    if STATE_RANK[incoming.state] >= STATE_RANK[stored.state]:
        newer, older = incoming, stored
    else:
        newer, older = stored, incoming
    return newer.model_copy(
        update={
            "id": stored.id,
            "type": stored.type,
            "camera": stored.camera,
            "zone": _first(newer.zone, older.zone),
            "track_ids": tuple(dict.fromkeys((*stored.track_ids, *incoming.track_ids))),
            "start_utc": min(stored.start_utc, incoming.start_utc),
            "start_s": _first(newer.start_s, older.start_s),
            "end_utc": _first(newer.end_utc, older.end_utc),
            "end_s": _first(newer.end_s, older.end_s),
            "values": {**older.values, **newer.values},
            "evidence": {**older.evidence, **newer.evidence},
        }
    )


def _first(a: T | None, b: T | None) -> T | None:
    return a if a is not None else b
