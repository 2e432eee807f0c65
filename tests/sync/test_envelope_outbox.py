"""The envelope's contract, and the edge's outbox: numbering per stream, order, store-and-forward bookkeeping, and
what the feeds put in it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from storewatch.core.events import Event, Severity
from storewatch.incidents.workflow import Incident, IncidentState
from storewatch.store.db import Database
from storewatch.store.incidents import IncidentRepository
from storewatch.sync.envelope import Envelope, EnvelopeError, Kind, kind_of
from storewatch.sync.feed import EventFeed, IncidentFeed
from storewatch.sync.outbox import Outbox, Outgoing
from storewatch.sync.payloads import IncidentPayload

T0 = datetime(2026, 3, 2, 12, tzinfo=UTC)


def _env(**fields: object) -> dict[str, object]:
    base: dict[str, object] = {"schema": "storewatch.sync/1", "id": "a1", "kind": "event", "store": "s1",
                               "camera": "s1/door", "seq": 1, "created_utc": T0.isoformat(),
                               "sent_utc": T0.isoformat(), "payload": {}}  # fmt: skip
    return {**base, **fields}


def test_an_envelope_round_trips_and_names_its_subject_and_stream() -> None:
    import json

    env = Envelope.parse(json.dumps(_env()))
    assert (env.subject, env.stream, env.seq) == ("storewatch.s1.event", ("s1", "s1/door"), 1)
    assert json.loads(env.to_json())["schema"] == "storewatch.sync/1"
    store_level = Envelope.parse(json.dumps(_env(kind="incident", camera=None)))
    assert store_level.stream == ("s1", "")


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"schema": "storewatch.sync/2"}, "schema"),
        ({"camera": "s2/door"}, "not in store"),
        ({"camera": None}, "names its camera"),
        ({"seq": 0}, "seq"),
        ({"created_utc": "2026-03-02T12:00:00"}, "time zone"),
        ({"kind": "clip"}, "kind"),
        ({"store": "S 1"}, "slug"),
        ({"extra": 1}, "extra"),
    ],
)
def test_a_bad_envelope_is_refused_saying_what_is_wrong(fields: dict[str, object], message: str) -> None:
    import json

    with pytest.raises(EnvelopeError, match=message):
        Envelope.parse(json.dumps(_env(**fields)))


def test_camera_events_travel_as_health_and_an_event_must_match_its_camera() -> None:
    offline = Event.start("camera.offline", "s1/door", T0, "no frames")
    assert kind_of(offline) == Kind.HEALTH
    assert kind_of(offline.model_copy(update={"type": "loitering"})) == Kind.EVENT
    import json

    env = Envelope.parse(json.dumps(_env(payload=offline.model_dump(mode="json"), camera="s1/back")))
    with pytest.raises(EnvelopeError, match="sent as s1/back"):
        env.event()


def test_the_outbox_numbers_each_stream_and_sends_in_the_order_made(database: Database) -> None:
    box = Outbox(database)
    assert box.add([Outgoing(Kind.EVENT, "s1", "s1/a", {"n": i}) for i in range(3)]) == [1, 2, 3]
    assert box.add([Outgoing(Kind.EVENT, "s1", "s1/b", {"n": 3}), Outgoing(Kind.EVENT, "s1", "s1/a", {"n": 4}),
                    Outgoing(Kind.INCIDENT, "s1", None, {"n": 5})]) == [1, 4, 1]  # fmt: skip
    pending = box.pending(100)
    assert [e.payload["n"] for e in pending] == [0, 1, 2, 3, 4, 5]
    assert [(e.camera, e.seq) for e in pending] == [("s1/a", 1), ("s1/a", 2), ("s1/a", 3), ("s1/b", 1),
                                                    ("s1/a", 4), (None, 1)]  # fmt: skip
    again = box.pending(100)
    assert [e.id for e in again] == [e.id for e in pending]  # the same id on every attempt (de-duplication key)
    box.mark_sent([e.id for e in pending[:2]])
    box.mark_dead({pending[2].id: "too large"})
    box.mark_failed([pending[3].id], "hub away")
    assert [e.payload["n"] for e in box.pending(100)] == [3, 4, 5]
    assert box.stats() == {"pending": 3, "sent": 2, "dead": 1, "dropped": 0}


def test_numbering_goes_on_after_sent_messages_are_pruned(database: Database) -> None:
    box = Outbox(database)
    box.add([Outgoing(Kind.EVENT, "s1", "s1/a", {}) for _ in range(2)])
    box.mark_sent([e.id for e in box.pending(10)])
    assert box.prune(keep_s=-1) == 2 and box.pending(10) == []
    assert box.add([Outgoing(Kind.EVENT, "s1", "s1/a", {})]) == [3]
    assert box.last_seq("s1", "s1/a") == 3


def test_an_outbox_over_its_limit_drops_the_oldest_and_counts_them(database: Database) -> None:
    box = Outbox(database, max_pending=3)
    box.add([Outgoing(Kind.EVENT, "s1", "s1/a", {"n": i}) for i in range(5)])
    box.prune()
    assert [e.payload["n"] for e in box.pending(10)] == [2, 3, 4]
    assert box.dropped == 2


def test_the_event_feed_puts_each_stored_batch_in_the_outbox(database: Database) -> None:
    box = Outbox(database)
    woken: list[int] = []
    feed = EventFeed(box, wake=lambda: woken.append(1))
    loiter = Event.start("loitering", "s1/a", T0, "12 min", values={"dwell_s": float("nan")})
    feed([loiter, Event.start("camera.offline", "s1/b", T0, "no frames", severity=Severity.HIGH), loiter.end(T0)])
    pending = box.pending(10)
    assert [(e.kind, e.camera, e.seq) for e in pending] == [(Kind.EVENT, "s1/a", 1), (Kind.HEALTH, "s1/b", 1),
                                                            (Kind.EVENT, "s1/a", 2)]  # fmt: skip
    assert pending[0].event().values["dwell_s"] == "nan"  # not JSON as a number: kept as the store keeps it
    assert pending[2].event().state.value == "ended" and woken and feed.queued == 3


def test_the_incident_feed_sends_an_incident_when_it_changed_and_only_then(database: Database) -> None:
    box = Outbox(database)
    incidents = IncidentRepository(database)
    now = datetime.now(UTC)
    incidents.save(Incident.open("i1", "s1", now, "loitering", camera="s1/a"))
    incidents.save(Incident.open("i2", "s2", now, "other store"))
    incidents.save(Incident.open("old", "s1", now - timedelta(days=90), "closed long ago").move(
        IncidentState.RESOLVED, "ana", now - timedelta(days=90)))  # fmt: skip
    feed = IncidentFeed(database, box, "s1")
    assert feed.poll() == 1 and feed.poll() == 0
    incidents.change("i1", lambda i: i.note("ana", now, "two items in a bag"))
    assert feed.poll() == 1
    sent = [IncidentPayload.model_validate(e.payload).incident() for e in box.pending(10)]
    assert [(i.id, len(i.timeline)) for i in sent] == [("i1", 1), ("i1", 2)]
    assert [e.seq for e in box.pending(10)] == [1, 2] and all(e.camera is None for e in box.pending(10))
