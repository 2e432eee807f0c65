"""The camera pages: the list with health and store scope; a camera's view with its newest snapshot and the zones of
the site file as it is now (``storewatch serve``); and, in the process of the cameras, the live frame with the
tracks of that frame (``RunnerCameras`` over public-view monitors, with controlled clocks)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import cv2
import numpy as np
import pytest
from fastapi.testclient import TestClient

from storewatch.analysis.tracking import FrameResult
from storewatch.core.detections import Detections
from storewatch.core.frame import FrameMeta
from storewatch.core.ids import CameraId
from storewatch.runtime.pvm import MonitorSpec, PublicViewMonitors
from storewatch.video.source import Frame
from storewatch.web import create_app
from storewatch.web.runner_view import RunnerCameras
from tests.web.conftest import login, settings_for
from tests.web.seed import ADMIN, GUARD, Seeded

ZONE = "        zones:\n          - {id: till, kind: checkout, polygon: [[0.1, 0.1], [0.5, 0.1], [0.5, 0.5]]}\n"


@pytest.fixture
def client(seeded: Seeded) -> Iterator[TestClient]:
    site_path = seeded.data_dir / "site.yaml"
    with TestClient(create_app(settings_for(seeded.data_dir, site_path=site_path)), follow_redirects=False) as c:
        yield c


def test_cameras_list_health_and_scope(client: TestClient) -> None:
    login(client, ADMIN)
    found = {c["id"]: c for c in client.get("/api/v1/cameras").json()}
    assert list(found) == ["s1/door", "s1/aisle-3", "s1/tills", "s2/entrance"]
    assert found["s1/tills"]["health"]["status"] == "tampered" and found["s2/entrance"]["health"]["status"] == "offline"
    assert all(c["live"] is False for c in found.values())
    page = client.get("/cameras").text
    assert "Gran Via" in page and "Serrano" in page and 'href="/cameras/s1/door/zones">Edit zones' in page
    client.post("/logout")
    login(client, GUARD)
    assert [c["id"] for c in client.get("/api/v1/cameras").json()] == ["s2/entrance"]
    assert 'href="/cameras/s2/entrance/zones">Zones' in client.get("/cameras").text  # a guard only looks
    for url in ("/cameras/s1/door", "/api/v1/cameras/s1/door/live", "/api/v1/cameras/s1/door/frame.jpg"):
        assert client.get(url).status_code == 404, url


def test_camera_view_shows_the_newest_snapshot_and_the_zones_of_the_file_as_it_is_now(
    client: TestClient, seeded: Seeded
) -> None:
    login(client, ADMIN)
    view = client.get("/api/v1/cameras/s1/door/live").json()
    assert view["mode"] == "snapshot" and view["tracks"] == [] and view["zones"] == []
    newest = max((e for e in seeded.events.values() if e.camera == "s1/door"), key=lambda e: e.start_utc)
    assert datetime.fromisoformat(view["snapshot_utc"]) == newest.start_utc
    frame = client.get(view["frame_url"])
    assert (
        frame.status_code == 200 and frame.headers["content-type"] == "image/jpeg" and frame.content[:2] == b"\xff\xd8"
    )
    assert frame.headers["cache-control"] == "no-store"
    site = seeded.data_dir / "site.yaml"
    door = "      - id: door\n        name: Main door\n        source: /dev/null\n" + ZONE
    text = site.read_text().replace("      - {id: door, name: Main door, source: /dev/null}\n", door)
    site.write_text(text)
    assert [z["id"] for z in client.get("/api/v1/cameras/s1/door/live").json()["zones"]] == ["till"]
    page = client.get("/cameras/s1/door").text
    assert 'data-live-url="/api/v1/cameras/s1/door/live"' in page and "Recent events" in page
    assert "Walk out" in page


def test_a_camera_without_a_picture_says_so(client: TestClient, seeded: Seeded) -> None:
    site = seeded.data_dir / "site.yaml"
    site.write_text(
        site.read_text().replace("      - {id: tills,", "      - {id: back, source: /dev/null}\n      - {id: tills,")
    )
    login(client, ADMIN)
    view = client.get("/api/v1/cameras/s1/back/live").json()
    assert view["mode"] == "none" and view["frame_url"] is None
    assert client.get("/api/v1/cameras/s1/back/frame.jpg").status_code == 404
    assert client.get("/cameras/s1/nowhere").status_code == 404
    assert client.get("/api/v1/cameras/S1/door/live").status_code == 422  # not an id


# --- in the process of the cameras ---------------------------------------------------------------------------------
@dataclass
class _Pipeline:
    subscriber: Any = None


@dataclass
class _Runner:
    """What ``RunnerCameras`` uses of a ``SiteRunner``: its monitors, cameras and pipeline."""

    monitors: PublicViewMonitors
    cameras: dict[CameraId, object] = field(default_factory=dict)
    pipeline: _Pipeline = field(default_factory=_Pipeline)


def _result(camera: str, boxes: list[list[float]], ids: list[int], classes: list[int]) -> FrameResult:
    image = np.full((240, 320, 3), 90, np.uint8)
    meta = FrameMeta(CameraId(camera), 0, 1.0, datetime.now(UTC), 320, 240)
    tracks = Detections(boxes, confidence=[0.9] * len(ids), class_id=classes, track_id=ids)
    return FrameResult(Frame(image, meta), tracks, tracks, 0.01)


def test_live_view_sends_the_tracks_of_the_frame_shown(seeded: Seeded) -> None:
    """Frames are encoded at most twice a second; a detection that came after the frame shown must not be drawn
    over it: the tracks sent are those of the detection closest in time to the frame."""
    clock = [100.0]
    camera = CameraId("s1/door")
    monitors = PublicViewMonitors({camera: MonitorSpec("Main door")}, clock=lambda: clock[0])
    runner = _Runner(monitors, {camera: object()})
    handled: list[str] = []

    def runner_handler(camera_id: CameraId, result: FrameResult) -> None:  # what SiteRunner._on_result does first
        handled.append(camera_id)
        monitors.offer(camera_id, result.frame.image)

    runner.pipeline.subscriber = runner_handler
    cameras = RunnerCameras(runner, clock=lambda: clock[0])  # type: ignore[arg-type]
    monitors.start()
    try:
        settings = settings_for(seeded.data_dir, site_path=seeded.data_dir / "site.yaml")
        with TestClient(create_app(settings, live=cameras), follow_redirects=False) as client:
            login(client, ADMIN)
            view = client.get("/api/v1/cameras/s1/door/live").json()  # someone looks: frames get encoded
            assert view["mode"] == "live" and view["tracks"] == []
            assert client.get("/api/v1/cameras").json()[0]["live"] is True
            runner.pipeline.subscriber(camera, _result("s1/door", [[32, 24, 96, 216]], [7], [0]))
            clock[0] += 0.2  # the next detection comes before the monitor takes another frame
            runner.pipeline.subscriber(camera, _result("s1/door", [[160, 0, 320, 120]], [8], [24]))
            assert handled == ["s1/door", "s1/door"]  # the runner's own handler still gets every result
            deadline = time.monotonic() + 10
            while monitors.frame(camera) is None and time.monotonic() < deadline:
                time.sleep(0.02)
            jpeg = client.get("/api/v1/cameras/s1/door/frame.jpg")
            assert jpeg.status_code == 200 and jpeg.content[:2] == b"\xff\xd8"
            assert cv2.imdecode(np.frombuffer(jpeg.content, np.uint8), cv2.IMREAD_COLOR).shape == (240, 320, 3)
            view = client.get("/api/v1/cameras/s1/door/live").json()
            assert view["frame_age_s"] == pytest.approx(0.2)
            assert view["tracks"] == [{"id": 7, "label": "person", "box": [0.1, 0.1, 0.3, 0.9], "confidence": 0.9}]
            clock[0] += 0.5  # a newer frame is taken: its own tracks come with it
            runner.pipeline.subscriber(camera, _result("s1/door", [[160, 0, 320, 120]], [8], [24]))
            deadline = time.monotonic() + 10
            while client.get("/api/v1/cameras/s1/door/live").json()["tracks"][0]["id"] != 8:
                assert time.monotonic() < deadline, "the newer frame's tracks never came"
                time.sleep(0.02)
            assert client.get("/api/v1/cameras/s1/door/live").json()["tracks"][0]["label"] == "backpack"
    finally:
        monitors.stop()
