"""A site's data folder for the web tests, filled through the repositories as `storewatch run` fills it: events with
snapshot, clip and path files under media/, incidents grouped by the incident service, alerts raised as the router
raises them, and two users (an administrator and a guard of store s2 only).

Frames come from the PETS sample camera when ../shared has it (the screenshots then look like a real shop floor),
else from a drawn scene.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import cv2
import numpy as np
from numpy.typing import NDArray

from storewatch.config.loader import load_site_config
from storewatch.core.events import Event, EventState, Severity
from storewatch.core.ids import CameraId
from storewatch.incidents.service import IncidentService
from storewatch.store import EventRepository, open_database, upgrade
from storewatch.store.alerts import AlertRepository
from storewatch.store.db import Database, default_url
from storewatch.video.writer import Mp4Writer
from storewatch.web.auth import hash_password
from storewatch.web.users import Role, UserRepository
from tests.conftest import PETS_VIDEO
from tests.web.pos_seed import POS_YAML, seed_pos

ADMIN = ("ana", "correct horse battery")
GUARD = ("bo", "guard password 2")
SITE_YAML = (
    """\
site: {id: demo, name: Demo retail, timezone: Europe/Madrid}
stores:
  - id: s1
    name: Gran Via
    cameras:
      - {id: door, name: Main door, source: /dev/null}
      - {id: aisle-3, name: Aisle 3 electronics, source: /dev/null}
      - {id: tills, name: Tills, source: /dev/null}
  - id: s2
    name: Serrano
    timezone: Europe/Lisbon
    cameras:
      - {id: entrance, name: Entrance, source: /dev/null}
"""
    + POS_YAML
)


@dataclass
class Seeded:
    data_dir: Path
    alerts: dict[str, str] = field(default_factory=dict)
    """Name -> alert id."""
    events: dict[str, Event] = field(default_factory=dict)
    incidents: dict[str, str] = field(default_factory=dict)
    """Name -> incident id."""


def frames(count: int, start: int = 0) -> list[NDArray[np.uint8]]:
    """``count`` BGR frames of the sample camera (or a drawn scene when it is not here)."""
    if PETS_VIDEO.exists():
        cap = cv2.VideoCapture(str(PETS_VIDEO))
        cap.set(cv2.CAP_PROP_POS_FRAMES, start)
        out = []
        while len(out) < count:
            ok, frame = cap.read()
            if not ok:
                break
            out.append(frame)
        cap.release()
        if len(out) == count:
            return out
    images = []
    for i in range(count):
        img = np.full((288, 384, 3), (70, 80, 90), np.uint8)
        cv2.rectangle(img, (0, 180), (384, 288), (120, 130, 140), -1)
        x = 40 + 8 * i + start % 200
        cv2.rectangle(img, (x, 120), (x + 30, 230), (40, 60, 200), -1)
        images.append(img)
    return images


def evidence_files(data_dir: Path, event: Event, frame_start: int, clip: bool = True) -> dict[str, str]:
    """Snapshot (with the person boxed), clip and path picture where the evidence writer puts them."""
    store, _, camera = str(event.camera).partition("/")
    folder = data_dir / "media" / store / camera / event.start_utc.strftime("%Y-%m-%d")
    folder.mkdir(parents=True, exist_ok=True)
    images = frames(12 if clip else 1, frame_start)
    snap = images[0].copy()
    h, w = snap.shape[:2]
    cv2.rectangle(snap, (w // 3, h // 4), (w // 3 + w // 8, h // 4 + h // 2), (0, 200, 255), 2)
    paths = {"snapshot": folder / f"{event.id}.jpg"}
    cv2.imwrite(str(paths["snapshot"]), snap)
    if clip:
        paths["clip"] = folder / f"{event.id}.mp4"
        with Mp4Writer(paths["clip"], fps=8) as writer:
            for image in images:
                writer.write(image)
        path_img = images[-1].copy()
        pts = np.array([[w // 6 + 20 * i, h - 30 - 12 * i] for i in range(12)], np.int32)
        cv2.polylines(path_img, [pts], False, (255, 80, 80), 3)
        paths["path"] = folder / f"{event.id}-path.jpg"
        cv2.imwrite(str(paths["path"]), path_img)
    return {k: str(v) for k, v in paths.items()}


def add_event(
    db: Database,
    data_dir: Path,
    *,
    type_: str,
    camera: str,
    at: datetime,
    explanation: str,
    severity: Severity = Severity.HIGH,
    zone: str | None = None,
    tracks: tuple[str, ...] = (),
    frame_start: int = 0,
    evidence: bool = True,
    ended_after_s: float | None = None,
    route: str | None = "guards",
    incidents: IncidentService | None = None,
) -> tuple[Event, str | None]:
    """Store an event as the runner does (started, then its evidence, maybe its end), group it into incidents and
    raise its alert; returns the event as stored and the alert id."""
    events = EventRepository(db)
    event = Event.start(type_, CameraId(camera), at, explanation, severity=severity, zone=zone, track_ids=tracks)
    alert_id = AlertRepository(db).raise_alert(f"a{event.id[:31]}", event, route, at) if route else None
    service = incidents or IncidentService(db)
    events.upsert(event)
    service.handle(event)
    if evidence:
        paths = evidence_files(data_dir, event, frame_start, clip=ended_after_s is not None)
        updated = event.with_evidence(**paths).model_copy(update={"state": EventState.UPDATED})
        events.upsert(updated)
        service.handle(updated)
        event = updated
    if ended_after_s is not None:
        ended = event.end(at + timedelta(seconds=ended_after_s))
        events.upsert(ended)
        service.handle(ended)
        event = ended
    return event, alert_id


def seed_site(data_dir: Path, now: datetime | None = None) -> Seeded:
    """A morning at two stores: a walk-out and loitering at s1 (alerts waiting), a camera covered at s1, a fight
    at s2 acknowledged, an offline camera at s2, an older incident resolved; till transactions at both
    (``pos_seed``)."""
    now = now or datetime.now(UTC)
    data_dir.mkdir(parents=True, exist_ok=True)
    (data_dir / "site.yaml").write_text(SITE_YAML)
    seeded = Seeded(data_dir)
    with open_database(default_url(data_dir)) as db:
        upgrade(db)
        users = UserRepository(db)
        users.create(ADMIN[0], hash_password(ADMIN[1]), Role.ADMIN, ["*"], "Ana Ruiz")
        users.create(GUARD[0], hash_password(GUARD[1]), Role.GUARD, ["s2"], "Bo Lind")
        service = IncidentService(db)
        specs = [
            (
                "old",
                "loitering",
                "s1/aisle-3",
                now - timedelta(days=2),
                "stayed 6 min at electronics",
                Severity.MEDIUM,
                "electronics",
                300.0,
                10,
            ),
            (
                "walkout",
                "walk_out",
                "s1/door",
                now - timedelta(minutes=14),
                "left through the exit with unpaid goods after the high-value shelf",
                Severity.HIGH,
                None,
                20.0,
                120,
            ),
            (
                "loiter",
                "loitering",
                "s1/aisle-3",
                now - timedelta(minutes=9),
                "stayed 4 min 20 s in zone electronics (limit 3 min)",
                Severity.MEDIUM,
                "electronics",
                260.0,
                200,
            ),
            (
                "fight",
                "fight",
                "s2/entrance",
                now - timedelta(minutes=40),
                "two people in fast close contact for 6 s",
                Severity.CRITICAL,
                None,
                12.0,
                300,
            ),
        ]
        for name, type_, camera, at, text, severity, zone, ended, frame in specs:
            tracks = (f"{camera}/{frame}",)
            event, alert = add_event(
                db,
                data_dir,
                type_=type_,
                camera=camera,
                at=at,
                explanation=text,
                severity=severity,
                zone=zone,
                tracks=tracks,
                frame_start=frame,
                ended_after_s=ended,
                incidents=service,
            )
            seeded.events[name] = event
            if alert:
                seeded.alerts[name] = alert
            seeded.incidents[name] = service.repository.for_event(event.id)[0]
        covered, _ = add_event(
            db,
            data_dir,
            type_="camera.tampering.blocked",
            camera="s1/tills",
            at=now - timedelta(minutes=5),
            explanation="view blocked: 82% of the picture changed",
            severity=Severity.HIGH,
            frame_start=400,
            route=None,
            incidents=service,
        )
        offline, _ = add_event(
            db,
            data_dir,
            type_="camera.offline",
            camera="s2/entrance",
            at=now - timedelta(minutes=3),
            explanation="camera offline: no frames for 30 s",
            severity=Severity.HIGH,
            evidence=False,
            route=None,
            incidents=service,
        )
        seeded.events["covered"], seeded.events["offline"] = covered, offline
        seed_pos(db, now, load_site_config(data_dir / "site.yaml").pos)
        alerts = AlertRepository(db)
        alerts.acknowledge(seeded.alerts["fight"], "bo", now - timedelta(minutes=39))
        alerts.acknowledge(seeded.alerts["old"], "ana", now - timedelta(days=2) + timedelta(minutes=2))
        from storewatch.incidents.workflow import IncidentState
        from storewatch.store.incidents import IncidentRepository

        repo = IncidentRepository(db)
        t = now - timedelta(days=2) + timedelta(minutes=30)
        repo.change(seeded.incidents["old"], lambda i: i.move(IncidentState.RESOLVED, "ana", t, reason="customer paid"))
        repo.change(
            seeded.incidents["fight"], lambda i: i.move(IncidentState.ACKNOWLEDGED, "bo", now - timedelta(minutes=39))
        )
    return seeded


def s1_only_ids(seeded: Seeded) -> set[str]:
    """Identifiers (events, alerts, incidents) only a user of store s1 may see: the guard of s2 never gets them."""
    names = {name for name, e in seeded.events.items() if str(e.camera).startswith("s1/")}
    found = {seeded.events[n].id for n in names}
    found |= {seeded.alerts[n] for n in names if n in seeded.alerts}
    found |= {seeded.incidents[n] for n in names if n in seeded.incidents}
    return found
