"""The live event feed over HTTP (server-sent events) on 127.0.0.1: fan-out in order, replay after a reconnect with
``Last-Event-ID`` (nothing lost, nothing twice), heartbeats, a slow client bounded and counted, filters, a client
limit, and streams that end when the feed stops."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from storewatch.core.events import Event
from storewatch.core.ids import CameraId
from storewatch.runtime.bus import EventBus
from storewatch.runtime.live import LiveFeed
from storewatch.runtime.pipeline import Pipeline
from storewatch.runtime.status_server import StatusServer
from tests.helpers import wait_for
from tests.runtime.sse_client import SseClient

T0 = datetime(2026, 3, 2, 21, 5, tzinfo=UTC)


def make_event(i: int, camera: str = "s1/door") -> Event:
    return Event.start("restricted_area", CameraId(camera), T0 + timedelta(seconds=i), f"entry {i}")


class Served:
    def __init__(self, **feed: Any) -> None:
        self.bus = EventBus()
        self.feed = LiveFeed(self.bus, **feed)
        self.feed.start()
        self.server = StatusServer(Pipeline({}, detector=None), port=0, live=self.feed)
        self.server.start()
        self.clients: list[SseClient] = []

    @property
    def url(self) -> str:
        return f"{self.server.url}/events/stream"

    def client(self, query: str = "", last_event_id: str | None = None) -> SseClient:
        self.clients.append(SseClient(self.url + query, last_event_id))
        return self.clients[-1]

    def publish(self, *events: Event) -> None:
        before = self.feed.stats()["published"]
        for e in events:
            self.bus.publish(e)
        wait_for(lambda: self.feed.stats()["published"] == before + len(events))

    def close(self) -> None:
        for c in self.clients:
            c.close()
        self.feed.stop()
        self.server.stop()


@pytest.fixture
def served() -> Iterator[Callable[..., Served]]:
    made: list[Served] = []

    def make(**feed: Any) -> Served:
        made.append(Served(**feed))
        return made[-1]

    yield make
    for s in made:
        s.close()


def test_every_client_gets_every_event_in_order(served: Callable[..., Served]) -> None:
    s = served()
    a, b = s.client(), s.client()
    assert a.status == 200 and a.response.headers["Content-Type"].startswith("text/event-stream")
    assert a.hello is not None and a.hello.retry == 3000
    events = [make_event(i) for i in range(3)]
    s.publish(*events)
    for client in (a, b):
        got = [client.next_event() for _ in events]
        assert [m.json()["id"] for m in got] == [e.id for e in events]
        assert [m.id for m in got] == [f"{s.feed.feed_id}-{n}" for n in (1, 2, 3)]
        assert got[0].json()["type"] == "restricted_area" and got[0].json()["state"] == "started"
    assert s.feed.stats()["clients"] == 2


def test_a_reconnecting_client_misses_nothing_and_gets_nothing_twice(served: Callable[..., Served]) -> None:
    s = served(replay=50)
    first = s.client()
    s.publish(make_event(1), make_event(2))
    seen = [first.next_event(), first.next_event()]
    first.close()
    wait_for(lambda: s.feed.stats()["clients"] == 0)
    missed = [make_event(i) for i in (3, 4, 5)]
    s.publish(*missed)  # while it is away
    again = s.client(last_event_id=seen[-1].id)
    s.publish(live := make_event(6))
    got = [again.next_event() for _ in range(4)]
    assert [m.json()["id"] for m in got] == [e.id for e in (*missed, live)]
    assert [m.id for m in got] == [f"{s.feed.feed_id}-{n}" for n in (3, 4, 5, 6)]


def test_an_id_from_another_run_or_too_old_gets_the_whole_buffer(served: Callable[..., Served]) -> None:
    s = served(replay=3)
    s.publish(*[make_event(i) for i in range(5)])
    for last in ("0badfeed-4", f"{s.feed.feed_id}-1", "garbage"):
        client = s.client(last_event_id=last)
        assert [client.next_event().id for _ in range(3)] == [f"{s.feed.feed_id}-{n}" for n in (3, 4, 5)]
    query = s.client(f"?last_event_id={s.feed.feed_id}-4")  # EventSource cannot set headers on a first connect
    assert query.next_event().id == f"{s.feed.feed_id}-5"


def test_heartbeats_fill_the_silence(served: Callable[..., Served]) -> None:
    s = served(heartbeat_s=0.2)
    client = s.client()
    beats = [client.next(), client.next()]
    assert all(m.comments == ["heartbeat"] and not m.data for m in beats)
    s.publish(e := make_event(1))
    assert client.next_event().json()["id"] == e.id


def test_a_slow_client_drops_its_oldest_and_the_drops_are_counted() -> None:
    bus = EventBus()
    feed = LiveFeed(bus, client_queue=3)
    feed.start()
    try:
        slow, fast = feed.connect(None), feed.connect(None)
        fast_stream = feed.stream(fast)
        next(fast_stream)  # the hello
        events = [make_event(i) for i in range(10)]
        received: list[bytes] = []
        for e in events:  # the fast client reads as events come
            bus.publish(e)
            received.append(next(fast_stream))
        wait_for(lambda: feed.stats()["published"] == 10)
        assert [e.id.encode() in chunk for e, chunk in zip(events, received, strict=True)] == [True] * 10
        assert len(slow.queue) == 3 and slow.dropped == 7 and feed.stats()["dropped"] == 7
        slow_stream = feed.stream(slow)
        next(slow_stream)
        assert [next(slow_stream).split(b"\n")[0] for _ in range(3)] == [
            f"id: {feed.feed_id}-{n}".encode() for n in (8, 9, 10)]  # fmt: skip
        feed.disconnect(slow)
        assert feed.stats()["dropped"] == 7 and feed.stats()["clients"] == 1  # counted after it left too
    finally:
        feed.stop()


def test_clients_can_ask_for_one_camera(served: Callable[..., Served]) -> None:
    s = served()
    door = s.client("?camera=s1/door")
    everything = s.client()
    s.publish(make_event(1, "s1/office"), e := make_event(2, "s1/door"))
    assert door.next_event().json()["id"] == e.id
    assert [everything.next_event().json()["camera"] for _ in range(2)] == ["s1/office", "s1/door"]


def test_too_many_clients_are_told_to_come_back_later(served: Callable[..., Served]) -> None:
    s = served(max_clients=1)
    assert s.client().status == 200
    second = s.client()
    assert second.status == 503 and second.response.headers["Retry-After"] == "5"


def test_stopping_the_feed_ends_every_stream(served: Callable[..., Served]) -> None:
    s = served()
    client = s.client()
    s.feed.stop()
    with pytest.raises(EOFError):
        client.next()
    wait_for(lambda: s.feed.stats()["clients"] == 0)
