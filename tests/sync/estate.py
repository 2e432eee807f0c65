"""An estate on 127.0.0.1 for the multi-process tests: NATS, a hub on PostgreSQL and edges, each a real process.

The edges run ``storewatch edge`` (through ``tests.sync.edge_main``, which swaps the model for the tests' detector
double) on a generated camera: a bright 'person' walks into a staff-only zone, stays a second and leaves, every
four seconds, so ``restricted_area`` raises an event (started, then ended) with a snapshot and a clip, an alert
(routed to a webhook on a closed port of 127.0.0.1: raised and escalating, never delivered) and incidents follow.
The hub runs ``storewatch hub`` on a fresh PostgreSQL database of the ``pgserver`` server, with its dashboard
when asked (a user ``WEB_USER`` made beforehand).
"""

from __future__ import annotations

import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import yaml
from sqlalchemy import Engine, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from storewatch.store.alerts import AlertRepository
from storewatch.store.db import Database, open_database
from storewatch.store.events import EventRepository
from storewatch.store.migrate import upgrade
from storewatch.store.sync_models import SequenceRow
from storewatch.sync.registry import Registry
from storewatch.video.writer import Mp4Writer
from storewatch.web.auth import hash_password
from storewatch.web.users import Role, UserRepository
from tests.sync.procs import NatsServer, Proc, free_port

WEB_USER = ("tester", "tester password 1")
RULES = {"restricted_area": {"min_inside_s": 0.3, "end_after_s": 0.5, "cooldown_s": 0.0}}


def camera_video(path: Path, fps: int = 10, cycles: int = 2) -> Path:
    """A shelf-like scene; each 4 s: a bright box walks in from the left for 1.5 s, stands 1 s in the right half
    (the zone), and is gone for 1.5 s."""
    rng = np.random.default_rng(7)
    texture = cv2.resize(rng.integers(40, 200, (6, 8, 3), dtype=np.uint8), (320, 240), interpolation=cv2.INTER_NEAREST)
    with Mp4Writer(path, fps) as out:
        for _ in range(cycles):
            for i in range(4 * fps):
                img = texture.copy()
                if i < 25:
                    x = 20 + 14 * min(i, 15)
                    img[100:180, x : x + 30] = 255
                out.write(img)
    return path


def site_file(root: Path) -> Path:
    video = camera_video(root / "camera.mp4")
    zone = {"id": "office", "kind": "staff_only", "polygon": [[0.5, 0.0], [1.0, 0.0], [1.0, 1.0], [0.5, 1.0]]}

    def camera(cam_id: str) -> dict[str, Any]:
        return {"id": cam_id, "source": str(video), "zones": [zone], "tampering": {"enabled": False}}

    site = {
        "site": {"id": "estate"},
        "stores": [{"id": "s1", "cameras": [camera("c1"), camera("c2")]}, {"id": "s2", "cameras": [camera("c1")]}],
        "rules": RULES,
        "alerts": {
            "channels": [
                {
                    "name": "guards",
                    "kind": "webhook",
                    "url": f"http://127.0.0.1:{free_port()}/hook",
                    "secret": "a webhook secret of the tests",
                    "retry": {"max_attempts": 1},
                }
            ]
        },
        "runtime": {"status_port": 0, "record_tracks": False, "ring_s": 4, "clip_before_s": 1, "clip_after_s": 1},
    }
    path = root / "site.yaml"
    path.write_text(yaml.safe_dump(site))
    return path


class Estate:
    def __init__(self, root: Path, nats: NatsServer, hub_url: str) -> None:
        self.root, self.nats, self.hub_url = root, nats, hub_url
        self.site = site_file(root)
        self.procs: list[Proc] = []
        self.web_url = ""
        self.hub_db = open_database(hub_url)
        upgrade(self.hub_db)  # the hub does it too (a no-op then); the test reads it before the hub is up

    def start_hub(self, web: bool = False) -> Proc:
        args = [sys.executable, "-m", "storewatch", "hub", "--database", self.hub_url, "--nats", self.nats.url]
        if web:
            users = UserRepository(self.hub_db)
            if users.by_username(WEB_USER[0]) is None:
                users.create(WEB_USER[0], hash_password(WEB_USER[1]), Role.ADMIN, ["*"])
            self.web_url = f"http://127.0.0.1:{free_port()}"
            args += ["--web-port", self.web_url.rsplit(":", 1)[1], "--data-dir", str(self.root / "hub-web")]
        proc = Proc(f"hub-{len(self.procs)}", args, self.root).start()
        self.procs.append(proc)
        return proc

    def start_edge(self, store: str) -> Proc:
        args = [sys.executable, "-m", "tests.sync.edge_main", "edge", str(self.site), "--hub", self.nats.url,
                "--store", store, "--data-dir", str(self.data_dir(store)), "--status-port", "0"]  # fmt: skip
        proc = Proc(f"edge-{store}", args, self.root).start()
        self.procs.append(proc)
        return proc

    def data_dir(self, store: str) -> Path:
        return self.root / f"edge-{store}"

    def edge_db(self, store: str) -> Database:
        return open_database(f"sqlite:///{self.data_dir(store) / 'storewatch.db'}")

    def edge_streams(self, store: str) -> dict[str, int]:
        """Camera (``""``: the store's own stream) -> the last number the edge gave (empty before it started)."""
        if not (self.data_dir(store) / "storewatch.db").exists():
            return {}
        with self.edge_db(store) as db, db.session() as session:
            try:
                query = select(SequenceRow).where(SequenceRow.store == store)
                return {r.camera: r.last_seq for r in session.scalars(query)}
            except SQLAlchemyError:  # not migrated yet
                return {}

    def hub_streams(self, store: str) -> dict[str, tuple[int, int, int, int]]:
        """Camera -> (last_seq, received, gaps, late) at the hub."""
        return {s.camera: (s.last_seq, s.received, s.gaps, s.late) for s in Registry(self.hub_db).streams(store)}

    def caught_up(self, store: str, cameras_only: bool = False) -> bool:
        edge = self.edge_streams(store)
        hub = self.hub_streams(store)
        return bool(edge) and all(hub.get(cam, (0,))[0] >= seq for cam, seq in edge.items() if cam or not cameras_only)

    def hub_events(self, store: str) -> dict[str, str]:
        return {e.id: e.state.value for e in EventRepository(self.hub_db).list(store=store, limit=1000)}

    def edge_events(self, store: str) -> dict[str, str]:
        with self.edge_db(store) as db:
            return {e.id: e.state.value for e in EventRepository(db).list(store=store, limit=1000)}

    def hub_alerts(self, store: str) -> dict[str, tuple[str, int, str | None]]:
        """Alert id -> (status, level, acknowledged by) at the hub."""
        return {a.id: (a.status.value, a.level, a.acknowledged_by)
                for a in AlertRepository(self.hub_db).list(store=store, limit=1000)}  # fmt: skip

    def edge_alerts(self, store: str) -> dict[str, tuple[str, int, str | None]]:
        with self.edge_db(store) as db:
            return {a.id: (a.status.value, a.level, a.acknowledged_by)
                    for a in AlertRepository(db).list(store=store, limit=1000)}  # fmt: skip

    def logs(self) -> str:
        return "\n".join(f"--- {p.name} ---\n{p.output()[-4000:]}" for p in self.procs)

    def close(self) -> None:
        for proc in reversed(self.procs):
            proc.stop()
        self.hub_db.close()


@contextmanager
def hub_database(admin: Engine, base_url: str) -> Iterator[str]:
    """A fresh PostgreSQL database on the session's server; dropped at the end."""
    name = f"hub_{uuid.uuid4().hex[:12]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield make_url(base_url).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
