"""A hub's database for the hub-mode web tests, filled as ``storewatch hub`` fills it: two stores' events, camera
health, incidents and configuration acknowledgements applied by the hub's ``Ingester`` as sync envelopes (the
registry of stores and cameras follows), configuration versions pushed with ``ConfigVersions``, and alerts added
through the alert repository (as the hub stores those it receives). Incidents are made by each
store's incident service in the store's own database and travel whole, as an edge sends them.

Store s1 (Gran Via) runs the newest configuration (v1); s2 (Serrano) refused its newest (v2) and runs the site
file; s2's back door is offline.
"""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from storewatch.core.events import Event, EventState, Severity
from storewatch.core.ids import CameraId
from storewatch.incidents.service import IncidentService
from storewatch.store import EventRepository, open_database, upgrade
from storewatch.store.alerts import AlertRepository
from storewatch.store.db import Database
from storewatch.sync.envelope import Envelope, Kind, kind_of
from storewatch.sync.ingest import Ingester, Outcome
from storewatch.sync.live_config import LiveConfig
from storewatch.sync.payloads import ConfigAck, IncidentPayload
from storewatch.sync.registry import ConfigVersions
from storewatch.web.auth import hash_password
from storewatch.web.users import Role, UserRepository

ADMIN = ("ana", "correct horse battery")
GUARD = ("bo", "guard password 2")
CAMERAS = {"s1": ("door", "aisle-3", "tills"), "s2": ("entrance", "backdoor")}


@dataclass
class HubSeeded:
    url: str
    events: dict[str, Event] = field(default_factory=dict)
    alerts: dict[str, str] = field(default_factory=dict)
    """Name -> alert id."""
    incidents: dict[str, str] = field(default_factory=dict)
    """Name -> incident id."""


class FakeEdges:
    """What the stores' edges would send: numbered envelopes, applied by the hub's ingester."""

    def __init__(self, hub: Database, root: Path) -> None:
        self.ingester = Ingester(hub)
        self.seq: Counter[tuple[str, str]] = Counter()
        self.root = root
        self.incident_services: dict[str, IncidentService] = {}
        self.edge_dbs: list[Database] = []

    def send(self, kind: Kind, store: str, camera: str | None, payload: dict[str, Any], at: datetime) -> None:
        self.seq[(store, camera or "")] += 1
        env = Envelope(id=uuid.uuid4().hex, kind=kind, store=store, camera=camera, seq=self.seq[(store, camera or "")],
                       created_utc=at, sent_utc=at, payload=payload)  # fmt: skip
        outcome = self.ingester.apply(env, may_wait=False)
        assert outcome == Outcome.APPLIED, (outcome, env)

    def event(self, event: Event, at: datetime) -> None:
        self.send(kind_of(event), event.store, str(event.camera), event.model_dump(mode="json"), at)
        incidents = self._incidents(event.store)
        EventRepository(incidents.repository.db).upsert(event)  # stored at the edge first, as the runner does
        incidents.handle(event)
        for incident_id in incidents.repository.for_event(event.id):
            incident = incidents.repository.get(incident_id)
            assert incident is not None
            self.send(Kind.INCIDENT, event.store, None, IncidentPayload.of(incident).model_dump(mode="json"), at)

    def ack(
        self, store: str, version: int, at: datetime, received: int | None = None, error: str | None = None
    ) -> None:
        cameras = tuple(f"{store}/{c}" for c in CAMERAS[store])
        ack = ConfigAck(version=version, received=received, ok=error is None, error=error, cameras=cameras)
        self.send(Kind.CONFIG_ACK, store, None, ack.model_dump(mode="json"), at)

    def _incidents(self, store: str) -> IncidentService:
        """The store's own incident service, on the store's own database (as at the edge)."""
        if store not in self.incident_services:
            db = open_database(f"sqlite:///{self.root / f'edge-{store}.db'}")
            upgrade(db)
            self.edge_dbs.append(db)
            self.incident_services[store] = IncidentService(db)
        return self.incident_services[store]


def seed_hub(url: str, root: Path, now: datetime | None = None) -> HubSeeded:
    now = now or datetime.now(UTC)
    seeded = HubSeeded(url)
    root.mkdir(parents=True, exist_ok=True)
    with open_database(url) as db:
        upgrade(db)
        users = UserRepository(db)
        users.create(ADMIN[0], hash_password(ADMIN[1]), Role.ADMIN, ["*"], "Ana Ruiz")
        users.create(GUARD[0], hash_password(GUARD[1]), Role.GUARD, ["s2"], "Bo Lind")
        edges = FakeEdges(db, root)
        for store in CAMERAS:
            edges.ack(store, 0, now - timedelta(hours=3))
        versions = ConfigVersions(db)
        versions.push("s1", LiveConfig.model_validate({"rules": {"loitering": {"dwell_s": 90}}}), "ana")
        edges.ack("s1", 1, now - timedelta(hours=2), received=1)
        versions.push("s2", LiveConfig.model_validate({"rules": {"loitering": {"dwell_s": 60}}}), "ana")
        versions.push("s2", LiveConfig.model_validate({"rules": {"loitering": {"dwell_s": 45}}}), "ana")
        edges.ack("s2", 0, now - timedelta(hours=1), received=2, error="camera 'office' is not in store s2")
        alerts = AlertRepository(db)
        specs = [
            ("walkout", "walk_out", "s1/door", 14, "left through the exit with unpaid goods after the high-value shelf",
             Severity.HIGH, 20.0),
            ("loiter", "loitering", "s1/aisle-3", 9, "stayed 4 min 20 s in zone electronics (limit 3 min)",
             Severity.MEDIUM, 260.0),
            ("fight", "fight", "s2/entrance", 40, "two people in fast close contact for 6 s", Severity.CRITICAL, 12.0),
            ("restricted", "restricted_area", "s2/backdoor", 25, "entered the staff-only zone stockroom",
             Severity.HIGH, 30.0),
        ]  # fmt: skip
        for name, type_, camera, minutes_ago, text, severity, lasted_s in specs:
            at = now - timedelta(minutes=minutes_ago)
            event = Event.start(type_, CameraId(camera), at, text, severity=severity, track_ids=(f"{camera}/7",))
            event = event.with_evidence(snapshot=f"/srv/edge/media/{camera}/{at:%Y-%m-%d}/{event.id}.jpg")
            seeded.alerts[name] = alerts.raise_alert(f"a{event.id[:31]}", event, "guards", at)
            edges.event(event, at)
            ended = event.end(at + timedelta(seconds=lasted_s))
            edges.event(ended, ended.end_utc or at)
            seeded.events[name] = ended
            seeded.incidents[name] = edges._incidents(event.store).repository.for_event(event.id)[0]
        offline = Event.start("camera.offline", CameraId("s2/backdoor"), now - timedelta(minutes=3),
                              "camera offline: no frames for 30 s", severity=Severity.HIGH)  # fmt: skip
        edges.event(offline, now - timedelta(minutes=3))
        covered = Event.start("camera.tampering.blocked", CameraId("s1/tills"), now - timedelta(minutes=50),
                              "view blocked: 82% of the picture changed", severity=Severity.HIGH)  # fmt: skip
        edges.event(covered, now - timedelta(minutes=50))
        edges.event(covered.end(now - timedelta(minutes=48)), now - timedelta(minutes=48))  # back to normal
        seeded.events["offline"] = offline
        alerts.acknowledge(seeded.alerts["fight"], "bo", now - timedelta(minutes=39))
        for edge_db in edges.edge_dbs:
            edge_db.close()
    assert all(e.state == EventState.ENDED for k, e in seeded.events.items() if k != "offline")
    return seeded
