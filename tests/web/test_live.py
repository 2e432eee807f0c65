"""The live feed: the hub (replay by Last-Event-ID, store scope, bounded client queues, heartbeats), the database
poller (a new event and alert written by another process arrive; an unchanged one is not sent twice) and the bus
source (events of an in-process runner)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import anyio

from storewatch.core.events import Event, Severity
from storewatch.runtime.bus import EventBus
from storewatch.store import open_database
from storewatch.store.db import default_url
from storewatch.web.feed import FeedReader, event_message
from storewatch.web.incident_service import IncidentsService
from storewatch.web.live import BusSource, DatabasePoller, FeedMessage, LiveHub
from storewatch.web.media import MediaLinks
from storewatch.web.present import Views
from storewatch.web.readmodels import ReadModels
from storewatch.web.scope import StoreScope
from storewatch.web.services import AlertService
from tests.web.seed import Seeded, add_event

EVERYTHING = StoreScope(None)


async def _never_gone() -> bool:
    return False


async def _messages(stream: AsyncIterator[bytes], count: int, timeout_s: float = 10.0) -> list[str]:
    """The next ``count`` messages (comments and the greeting skipped)."""
    found: list[str] = []

    async def read() -> None:
        async for chunk in stream:
            text = chunk.decode()
            if text.startswith(("id:", "event:")):
                found.append(text)
                if len(found) == count:
                    return

    await asyncio.wait_for(read(), timeout_s)
    return found


def test_hub_replays_what_a_reconnecting_client_missed_and_filters_by_store() -> None:
    async def scenario() -> None:
        hub = LiveHub()
        for i, store in enumerate(["s1", "s2", "s1"]):
            hub.publish(FeedMessage("event", store, json.dumps({"n": i})))
        everything = await _messages(hub.stream(hub.open(None, EVERYTHING), _never_gone), 3)
        assert [m.split("\n")[0] for m in everything] == [f"id: {hub.feed_id}-{n}" for n in (1, 2, 3)]
        after_first = await _messages(hub.stream(hub.open(f"{hub.feed_id}-1", EVERYTHING), _never_gone), 2)
        assert [json.loads(m.split("data: ")[1])["n"] for m in after_first] == [1, 2]
        s2_only = hub.open("old-run-7", StoreScope(frozenset({"s2"})))
        assert list(s2_only.pending) == [hub._recent[1].wire]  # an id of another run: the whole buffer it may see

    asyncio.run(scenario())


def test_a_slow_client_loses_its_oldest_messages_not_the_server_memory() -> None:
    async def scenario() -> None:
        hub = LiveHub(client_queue=3)
        client = hub.open(None, EVERYTHING)
        for i in range(10):
            hub.publish(FeedMessage("alert", "s1", str(i)))
        assert len(client.pending) == 3 and client.dropped == 7
        assert hub.stats()["dropped"] == 7

    asyncio.run(scenario())


def test_a_quiet_stream_sends_heartbeats_and_ends_when_the_client_leaves() -> None:
    async def scenario() -> None:
        hub = LiveHub(heartbeat_s=0.05)
        left = False

        async def gone() -> bool:
            return left

        stream = hub.stream(hub.open(None, EVERYTHING), gone)
        assert (await stream.__anext__()).startswith(b"retry: ")
        assert await asyncio.wait_for(stream.__anext__(), 5) == b": heartbeat\n\n"
        left = True
        remaining = [chunk async for chunk in stream]
        assert all(c == b": heartbeat\n\n" for c in remaining) and hub.stats()["clients"] == 0

    asyncio.run(scenario())


def _reader(data_dir: Path) -> tuple[FeedReader, object]:
    db = open_database(default_url(data_dir))
    reads, views = ReadModels(db), Views(MediaLinks(data_dir / "media"))
    alerts = AlertService(db, reads, views, IncidentsService(db, reads, views))
    return FeedReader(reads, views, alerts), db


def test_the_poller_publishes_an_alert_written_by_another_process_with_its_snapshot(seeded: Seeded) -> None:
    reader, db = _reader(seeded.data_dir)

    async def scenario() -> tuple[str | None, list[str]]:
        hub = LiveHub()
        client = hub.open(None, EVERYTHING)
        poller = DatabasePoller(reader, interval_s=0.05)
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(poller.run, hub)
            while poller.polls < 2:
                await asyncio.sleep(0.02)

            def write() -> tuple[str, str | None]:
                with open_database(default_url(seeded.data_dir)) as other:  # as `storewatch run` would
                    event, alert_id = add_event(
                        other,
                        seeded.data_dir,
                        type_="walk_out",
                        camera="s1/door",
                        at=datetime.now(UTC),
                        explanation="left without paying",
                        severity=Severity.HIGH,
                    )
                return event.id, alert_id

            event_id, alert_id = await anyio.to_thread.run_sync(write)
            stream = hub.stream(client, _never_gone)
            messages: list[str] = []
            deadline = asyncio.get_running_loop().time() + 10

            def arrived(kind: str, id_: str) -> bool:
                return any(
                    f"event: {kind}" in m and f'"id":"{id_}"' in m and '"snapshot":"/media/' in m for m in messages
                )

            while not (arrived("alert", str(alert_id)) and arrived("event", event_id)):
                assert asyncio.get_running_loop().time() < deadline, messages
                messages += await _messages(stream, 1)
            published, polls = hub.stats()["published"], poller.polls
            while poller.polls < polls + 3:
                await asyncio.sleep(0.02)
            assert hub.stats()["published"] == published  # nothing is sent again while it does not change
            tasks.cancel_scope.cancel()
        return alert_id, messages

    alert_id, messages = asyncio.run(scenario())
    alert = next(m for m in messages if f'"id":"{alert_id}"' in m and '"snapshot":"/media/' in m)
    body = json.loads(alert.split("data: ", 1)[1])
    assert body["title"] == "Walk out" and body["status"] == "waiting" and body["explanation"] == "left without paying"
    assert any("event: event" in m for m in messages)
    db.close()  # type: ignore[attr-defined]


def test_the_bus_source_forwards_in_process_events_without_local_paths(tmp_path: Path) -> None:
    bus = EventBus()
    views = Views(MediaLinks(tmp_path / "media"))
    source = BusSource(bus, lambda e: event_message(views, e))
    event = Event.start("fight", "s2/entrance", datetime.now(UTC), "two people fighting").with_evidence(
        snapshot=str(tmp_path / "media" / "s2" / "entrance" / "2026-03-01" / "e.jpg")
    )

    async def scenario() -> str:
        hub = LiveHub()
        client = hub.open(None, StoreScope(frozenset({"s2"})))
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(source.run, hub)
            while "web-live" not in bus.stats():
                await asyncio.sleep(0.01)
            bus.publish(event)
            (message,) = await _messages(hub.stream(client, _never_gone), 1)
            tasks.cancel_scope.cancel()
        assert "web-live" not in bus.stats()  # unsubscribed when stopped
        return message

    message = asyncio.run(scenario())
    assert "event: event" in message and '"snapshot":"/media/s2/entrance/2026-03-01/e.jpg"' in message
    assert str(tmp_path) not in message
