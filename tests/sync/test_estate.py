"""Hub and edges as real processes on 127.0.0.1: NATS with JetStream, ``storewatch hub`` on PostgreSQL and two
``storewatch edge`` stores, each on a generated camera where a rule fires every few seconds. Every store's events
and incidents reach the one hub in order, the registry knows both stores and their cameras, and a configuration
version pushed to one store is applied there without a restart (its new events show it) and acknowledged."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

import yaml

from storewatch.cli.app import main
from storewatch.store.events import EventRepository
from storewatch.store.incidents import IncidentRepository
from storewatch.sync.registry import Registry
from tests.helpers import wait_for
from tests.sync.estate import RULES, Estate


def _running(estate: Estate, store: str) -> int | None:
    return next((s.config_running for s in Registry(estate.hub_db).stores() if s.id == store), None)


def test_two_stores_report_to_one_hub_and_take_a_configuration_live(estate: Estate, tmp_path: Path) -> None:
    estate.start_hub()
    estate.start_edge("s1")
    estate.start_edge("s2")
    events = EventRepository(estate.hub_db)
    try:
        wait_for(lambda: {e.camera for e in events.list(type="restricted_area", limit=1000)}
                 >= {"s1/c1", "s1/c2", "s2/c1"}, timeout_s=90)  # fmt: skip
        wait_for(lambda: _running(estate, "s1") == 0 and _running(estate, "s2") == 0, timeout_s=30)
        wait_for(lambda: all(IncidentRepository(estate.hub_db).list(store=s) for s in ("s1", "s2")), timeout_s=30)
        assert {c.camera for c in Registry(estate.hub_db).cameras()} == {"s1/c1", "s1/c2", "s2/c1"}

        live = tmp_path / "live.yaml"
        high = {"restricted_area": {**RULES["restricted_area"], "severity": "high"}}
        live.write_text(yaml.safe_dump({"rules": high}))
        assert main(["hub", "--database", estate.hub_url, "--nats", estate.nats.url, "config", "s2", str(live),
                     "--by", "tester"]) == 0  # fmt: skip
        wait_for(lambda: _running(estate, "s2") == 1, timeout_s=30)
        applied = datetime.now(UTC)
        wait_for(lambda: any(e.start_utc > applied for e in events.list(store="s2", type="restricted_area")),
                 timeout_s=30)  # fmt: skip
        after = [e for e in events.list(type="restricted_area", since=applied, limit=1000)]
        assert {e.severity.value for e in after if e.store == "s2"} == {"high"}  # the new version runs at s2
        assert {e.severity.value for e in after if e.store == "s1"} <= {"medium"}  # and only there
        assert _running(estate, "s1") == 0
    except AssertionError as exc:
        raise AssertionError(f"{exc}\n{estate.logs()}") from None
    stop = time.monotonic()
    for proc in estate.procs[1:]:
        assert proc.stop() == 0, estate.logs()  # the edges stop cleanly, sending what they have
    wait_for(lambda: estate.caught_up("s1") and estate.caught_up("s2"), timeout_s=30)
    for store in ("s1", "s2"):
        assert estate.hub_events(store) == estate.edge_events(store)  # every event, in its final state
        for camera, (last, received, gaps, late) in estate.hub_streams(store).items():
            where = f"{store} {camera or '(store)'}"
            assert (received, gaps, late) == (last, 0, 0), f"{where}: {last, received, gaps, late}"
    print(f"caught up {time.monotonic() - stop:.1f} s after the edges stopped")
