"""Public-view monitors: frames encoded only while watched (at most ``fps``), privacy zones masked, messages that
expire, the HTTP routes (page, frame, state), and end to end: ``SiteRunner`` on the sample video, where an event's
PVM action flips ``/pvm/<camera>/state`` to the message and the live feed delivers the event to a connected client."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.error import HTTPError
from urllib.request import ProxyHandler, build_opener

import cv2
import numpy as np
import pytest

from storewatch.config.schema import SiteConfig
from storewatch.core.detections import Detections
from storewatch.core.ids import CameraId
from storewatch.runtime.pipeline import Pipeline
from storewatch.runtime.pvm import MonitorSpec, PublicViewMonitors
from storewatch.runtime.status_server import StatusServer
from tests.helpers import CountingDetector, wait_for
from tests.runtime.sse_client import SseClient

DOOR, OFFICE = CameraId("s1/door"), CameraId("s1/office")
LEFT_HALF = [(0.0, 0.0), (0.5, 0.0), (0.5, 1.0), (0.0, 1.0)]
OPENER = build_opener(ProxyHandler({}))


def monitors(clock: list[float] | None = None, **kwargs: Any) -> PublicViewMonitors:
    specs = {DOOR: MonitorSpec("Front door"), OFFICE: MonitorSpec("Office <b>", privacy=[LEFT_HALF])}
    return PublicViewMonitors(specs, **({"clock": lambda: clock[0]} if clock else {}), **kwargs)


def image(value: int = 200, size: tuple[int, int] = (320, 240)) -> np.ndarray:
    return np.full((size[1], size[0], 3), value, np.uint8)


def test_frames_are_taken_only_while_watched_and_at_most_fps() -> None:
    clock = [100.0]
    pvm = monitors(clock, fps=2.0, viewer_ttl_s=10.0)
    assert not pvm.offer(DOOR, image())  # nobody has looked: a clock comparison, nothing kept
    pvm.state(DOOR)  # a monitor page polls
    assert pvm.offer(DOOR, image())
    clock[0] += 0.2
    assert not pvm.offer(DOOR, image())  # 2 fps at most
    clock[0] += 0.3
    assert pvm.offer(DOOR, image())  # replaces the one not yet encoded
    assert not pvm.offer(OFFICE, image())  # watching one camera does not make the others encode
    assert not pvm.offer(CameraId("s9/x"), image())
    clock[0] += 10.5  # the page went away
    assert not pvm.offer(DOOR, image())
    assert pvm.stats() == {"encoded": 0, "dropped": 1, "failed": 0}


def test_the_encoded_frame_masks_privacy_zones_and_leaves_the_image_alone() -> None:
    pvm = monitors(max_width_px=160)
    pvm.start()
    try:
        pvm.frame(OFFICE)
        source = image(230)
        assert pvm.offer(OFFICE, source)
        wait_for(lambda: pvm.frame(OFFICE) is not None)
    finally:
        pvm.stop()
    jpeg = pvm.frame(OFFICE)
    assert jpeg is not None
    shown = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
    assert shown.shape == (120, 160, 3)  # scaled down to max_width_px
    assert shown[:, :70].mean() < 50 and shown[:, 90:].mean() > 200  # the left half (privacy) is masked
    assert int(source.min()) == 230  # the detector's image is untouched
    assert pvm.state(OFFICE).frame_age_s is not None


def test_faces_are_blurred_on_the_encoder_thread_with_the_people_the_detector_saw() -> None:
    seen: list[tuple[str, int, str]] = []

    def protect(camera: str, img: np.ndarray, people: Detections) -> np.ndarray:
        seen.append((camera, len(people), threading.current_thread().name))
        out = img.copy()
        for x1, y1, x2, _ in people.xyxy.astype(int):
            out[y1 : y1 + 20, x1:x2] = 0  # stands in for the blurred head area
        return out

    pvm = monitors(protect=protect)
    pvm.start()
    try:
        pvm.frame(DOOR)
        tracked = Detections(np.array([[100, 40, 140, 200]]), [0.9], [0], [7])
        assert pvm.offer(DOOR, image(230), tracked, Detections.empty())
        wait_for(lambda: pvm.frame(DOOR) is not None)
    finally:
        pvm.stop()
    shown = cv2.imdecode(np.frombuffer(pvm.frame(DOOR) or b"", np.uint8), cv2.IMREAD_COLOR)
    assert seen == [("s1/door", 1, "pvm-encoder")]
    assert shown[45:55, 110:130].mean() < 40 and shown[150:, :].mean() > 200


def test_a_message_shows_until_its_time_and_a_newer_one_replaces_it() -> None:
    clock = [100.0]
    pvm = monitors(clock)
    assert pvm.state(DOOR).mode.value == "live" and pvm.state(DOOR).message is None
    pvm.show(DOOR, "This area is monitored", "Smile!", 10.0, "e1")
    clock[0] += 4
    state = pvm.state(DOOR)
    assert (state.mode.value, state.message, state.detail, state.remaining_s, state.event_id) == (
        "message", "This area is monitored", "Smile!", 6.0, "e1")  # fmt: skip
    pvm.show(DOOR, "Staff are on their way", "", 3.0, "e2")
    clock[0] += 2.9
    assert pvm.state(DOOR).message == "Staff are on their way" and pvm.state(DOOR).detail is None
    clock[0] += 0.2
    assert pvm.state(DOOR).mode.value == "live"
    assert pvm.state(OFFICE).mode.value == "live"
    with pytest.raises(KeyError):
        pvm.show(CameraId("s9/x"), "x", "", 1.0, None)


@pytest.fixture
def server() -> Iterator[tuple[StatusServer, PublicViewMonitors]]:
    pvm = monitors()
    pvm.start()
    srv = StatusServer(Pipeline({}, detector=None), port=0, pvm=pvm)
    srv.start()
    yield srv, pvm
    srv.stop()
    pvm.stop()


def _get(url: str) -> tuple[int, str, bytes]:
    try:
        with OPENER.open(url, timeout=5) as r:
            return r.status, r.headers["Content-Type"], r.read()
    except HTTPError as exc:
        return exc.code, exc.headers["Content-Type"], exc.read()


def test_the_routes_serve_page_state_and_frame(server: tuple[StatusServer, PublicViewMonitors]) -> None:
    srv, pvm = server
    status, kind, body = _get(f"{srv.url}/pvm/s1/office")
    page = body.decode()
    assert status == 200 and kind.startswith("text/html")
    assert 'data-state="/pvm/s1/office/state"' in page and 'data-frame="/pvm/s1/office/frame.jpg"' in page
    assert "Office &lt;b&gt;" in page and "Office <b>" not in page  # the name is escaped
    assert "http://" not in page and "https://" not in page and "//cdn" not in page  # nothing from outside
    assert _get(f"{srv.url}/pvm/office")[0] == 200  # the bare camera id, when one store has it
    assert _get(f"{srv.url}/pvm/s1/back")[0] == 404
    status, _, body = _get(f"{srv.url}/pvm/s1/office/frame.jpg")
    assert status == 503 and body == b"no frame yet\n"  # asked: now it is watched, frames get encoded
    assert pvm.offer(OFFICE, image(230))
    wait_for(lambda: _get(f"{srv.url}/pvm/s1/office/frame.jpg")[0] == 200)
    status, kind, body = _get(f"{srv.url}/pvm/s1/office/frame.jpg")
    assert kind == "image/jpeg" and cv2.imdecode(np.frombuffer(body, np.uint8), cv2.IMREAD_COLOR).shape == (240, 320, 3)
    pvm.show(OFFICE, "This area is monitored", "", 30.0, "e1")
    status, kind, body = _get(f"{srv.url}/pvm/s1/office/state")
    state = json.loads(body)
    assert status == 200 and kind == "application/json"
    assert (state["camera"], state["mode"], state["message"], state["event_id"]) == (
        "s1/office", "message", "This area is monitored", "e1")  # fmt: skip
    assert json.loads(_get(f"{srv.url}/pvm/door/state")[2])["mode"] == "live"


WHOLE = [[0, 0], [1, 0], [1, 1], [0, 1]]


def test_an_event_flips_the_monitor_and_reaches_the_live_feed(tmp_path: Path, pets_video: Path) -> None:
    """The sample video as a live camera; the test detector finds one large 'person' on it (its bright pixels),
    whose centre is in a staff-only zone that covers the view, so ``restricted_area`` starts after
    ``min_inside_s``."""
    from storewatch.runtime.runner import SiteRunner
    from storewatch.store import open_database
    from storewatch.store.actions import ActionLogRepository, ActionStatus

    site = SiteConfig.model_validate({
        "site": {"id": "t"},
        "stores": [{"id": "s1", "cameras": [{
            "id": "cash", "name": "Cash office", "source": str(pets_video), "tampering": {"enabled": False},
            "zones": [{"id": "office", "kind": "staff_only", "polygon": WHOLE, "anchor": "center"}],
        }]}],
        "rules": {"restricted_area": {"min_inside_s": 2.0}},
        "actions": [{"kind": "pvm", "name": "screen", "when": {"types": ["restricted_area"]}, "show_s": 120,
                     "detail": "Staff have been notified."}],
        "runtime": {"data_dir": str(tmp_path / "data"), "status_port": 0, "record_tracks": False},
    })  # fmt: skip
    runner = SiteRunner(site, CountingDetector())
    runner.start()
    feed: SseClient | None = None
    try:
        base = f"{runner.status.url}/pvm/s1/cash"
        feed = SseClient(f"{runner.status.url}/events/stream", timeout_s=30)

        def state() -> dict[str, Any]:
            return dict(json.loads(_get(f"{base}/state")[2]))

        assert state()["mode"] == "live"
        wait_for(lambda: state()["mode"] == "message", timeout_s=30)
        shown = state()
        assert shown["message"] == "This area is monitored" and shown["detail"] == "Staff have been notified."
        started = feed.next_event().json()
        while started["type"] != "restricted_area":
            started = feed.next_event().json()
        assert started["state"] == "started" and started["camera"] == "s1/cash" and started["zone"] == "office"
        assert shown["event_id"] == started["id"]
        wait_for(lambda: _get(f"{base}/frame.jpg")[0] == 200, timeout_s=10)  # watched: the camera is encoded
        jpeg = _get(f"{base}/frame.jpg")[2]
        assert cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR).shape == (576, 768, 3)
        assert "Live view: Cash office" in _get(base)[2].decode()
    finally:
        if feed is not None:
            feed.close()
        runner.stop()
    with open_database(f"sqlite:///{tmp_path / 'data' / 'storewatch.db'}") as db:
        [record] = ActionLogRepository(db).list(action="screen")
    assert record.status == ActionStatus.DONE and record.event_id == started["id"] and record.camera == "s1/cash"
