"""The issue's outage test: the hub (its process and its NATS server: the whole central site) is away for two
minutes while an edge keeps raising events. Nothing is lost: everything the edge raised reaches the hub within
60 s of the hub's return, in order per camera, none twice. Marked ``outage`` (it takes about three minutes); it
runs in ``make test``."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest

from storewatch.store.events import EventRepository
from tests.helpers import wait_for
from tests.sync.estate import Estate

OUTAGE_S = 120.0
CATCH_UP_S = 60.0


@pytest.mark.outage
def test_nothing_is_lost_while_the_hub_is_away_for_two_minutes(estate: Estate) -> None:
    hub = estate.start_hub()
    edge = estate.start_edge("s1")
    events = EventRepository(estate.hub_db)
    try:
        wait_for(lambda: {e.camera for e in events.list(store="s1", limit=1000)} >= {"s1/c1", "s1/c2"}, timeout_s=90)
        before = estate.edge_streams("s1")
        assert hub.stop() == 0
        estate.nats.stop()
        down, down_utc = time.monotonic(), datetime.now(UTC)
        while time.monotonic() - down < OUTAGE_S:  # the outage itself: two minutes of the edge working alone
            assert edge.alive, "the edge stopped while the hub was away"
            time.sleep(1.0)
        raised = estate.edge_streams("s1")
        assert all(raised[cam] > before.get(cam, 0) + 10 for cam in ("s1/c1", "s1/c2")), (before, raised)
        assert not any(e.start_utc > down_utc for e in events.list(store="s1", limit=1000))

        estate.nats.start()
        estate.start_hub()
        back = time.monotonic()
        wait_for(lambda: all(estate.hub_streams("s1").get(cam, (0,))[0] >= seq for cam, seq in raised.items()),
                 timeout_s=CATCH_UP_S)  # fmt: skip
        caught_up_s = time.monotonic() - back
    except AssertionError as exc:
        raise AssertionError(f"{exc}\n{estate.logs()}") from None
    assert edge.stop() == 0, estate.logs()
    wait_for(lambda: estate.caught_up("s1"), timeout_s=30)
    assert estate.hub_events("s1") == estate.edge_events("s1")  # every event the edge stored, in its final state
    streams = estate.hub_streams("s1")
    for camera, (last, received, gaps, late) in streams.items():
        assert (received, gaps, late) == (last, 0, 0), f"{camera or '(store)'}: {last, received, gaps, late}"
    during = [e for e in events.list(store="s1", limit=1000) if e.start_utc > down_utc]
    print(
        f"outage {OUTAGE_S:.0f} s: {sum(raised.values()) - sum(before.values())} messages raised meanwhile "
        f"({len(during)} events started), all at the hub {caught_up_s:.1f} s after it returned; streams {streams}"
    )
