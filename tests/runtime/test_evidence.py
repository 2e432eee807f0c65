"""The evidence writer: a snapshot with the people involved drawn, announced as an update of the event."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import cv2
import numpy as np

from storewatch.core.detections import Detections
from storewatch.core.events import Event
from storewatch.core.ids import CameraId
from storewatch.runtime.bus import EventBus
from storewatch.runtime.evidence import EvidenceWriter
from tests.helpers import wait_for


def test_snapshot_has_the_involved_boxes_drawn(tmp_path: Path):
    bus = EventBus()
    inbox = bus.subscribe("t")
    writer = EvidenceWriter(tmp_path, bus)
    writer.start()
    image = np.full((240, 320, 3), 90, np.uint8)
    event = Event.start("loitering", CameraId("s1/c1"), datetime(2026, 3, 2, 12, tzinfo=UTC), "person stayed")
    people = Detections(np.array([[100, 60, 140, 180]]), [0.9], [0], [7])
    try:
        writer.submit(event, image, 0.0, None, people)
        wait_for(lambda: writer.snapshots == 1)
    finally:
        writer.stop()
    update = inbox.get(timeout=1)
    assert update.id == event.id and update.state.value == "updated"
    snap = cv2.imread(update.evidence["snapshot"])
    assert snap.shape == image.shape
    assert np.abs(snap.astype(int) - 90).max() > 60  # something was drawn
    assert np.abs(snap[5:40, 5:40].astype(int) - 90).max() < 10  # away from the box the frame is untouched
    assert Path(update.evidence["snapshot"]).parent.name == "2026-03-02"


def test_an_ended_event_gets_the_path_its_tracks_walked_drawn_on_a_frame(tmp_path: Path):
    from datetime import timedelta

    from storewatch.behaviour.engine import BehaviourEngine

    engine = BehaviourEngine("s1/c1", width=320, height=240, rules={})
    t0 = datetime(2026, 3, 2, 12, tzinfo=UTC)
    for i in range(40):  # track 7 walks left to right along y = 200; track 8 stands still elsewhere
        boxes = Detections(np.array([[20 + 6 * i, 120, 40 + 6 * i, 200], [280, 20, 300, 80]], float), [0.9, 0.9],
                           [0, 0], [7, 8])  # fmt: skip
        engine.process(i * 0.2, t0 + timedelta(seconds=i * 0.2), boxes)
    paths = engine.paths(["s1/c1/7", "s1/c1/99"], window_s=4.0)
    assert list(paths) == [7]  # an unknown track has no path
    assert paths[7][0, 0] < paths[7][-1, 0] and np.allclose(paths[7][:, 1], 200)  # feet, oldest first
    assert 20 <= len(paths[7]) <= 21  # the last 4 s at 5 fps

    bus = EventBus()
    inbox = bus.subscribe("t")
    writer = EvidenceWriter(tmp_path, bus)
    writer.start()
    event = Event.start("loitering", CameraId("s1/c1"), t0, "stayed").end(t0 + timedelta(seconds=8))
    try:
        writer.submit_path(event, np.full((240, 320, 3), 90, np.uint8), paths)
        wait_for(lambda: len(inbox) > 0)
    finally:
        writer.stop()
    update = inbox.get(timeout=1)
    assert update.state.value == "updated" and update.evidence["path"].endswith("-path.jpg")
    picture = cv2.imread(update.evidence["path"])
    assert np.abs(picture[195:206, 130:250].astype(int) - 90).max() > 60  # the line along the feet
    assert np.abs(picture[100:150, 150:250].astype(int) - 90).max() < 10  # elsewhere the frame is untouched


def test_the_snapshot_shows_the_zone_the_rule_looked_at(tmp_path: Path):
    bus = EventBus()
    inbox = bus.subscribe("t")
    writer = EvidenceWriter(tmp_path, bus)
    writer.start()
    event = Event.start("restricted_area", CameraId("s1/c1"), datetime(2026, 3, 2, 12, tzinfo=UTC), "in", zone="cash")
    zone = ("cash", np.array([[200, 120], [310, 120], [310, 230], [200, 230]], np.float32))
    try:
        writer.submit(event, np.full((240, 320, 3), 90, np.uint8), 0.0, None, None, zone)
        wait_for(lambda: writer.snapshots == 1)
    finally:
        writer.stop()
    snap = cv2.imread(inbox.get(timeout=1).evidence["snapshot"]).astype(int)
    assert np.abs(snap[170:180, 250:260] - 90).max() > 5  # shaded inside
    assert np.abs(snap[118:123, 240:280] - 90).max() > 60  # outlined
    assert np.abs(snap[20:60, 20:100] - 90).max() < 10  # untouched outside


def test_snapshots_show_the_frame_as_people_may_see_it(tmp_path: Path):
    """The writer passes every picture through ``protect`` (camera, image, everyone in the frame) before drawing."""
    seen: list[tuple[str, int]] = []

    def protect(camera: str, image: np.ndarray, people: Detections) -> np.ndarray:
        seen.append((camera, len(people)))
        out = image.copy()
        for x1, y1, x2, _ in people.xyxy.astype(int):
            out[y1 : y1 + 20, x1:x2] = 0  # stands in for the blurred head
        return out

    bus = EventBus()
    inbox = bus.subscribe("t")
    writer = EvidenceWriter(tmp_path, bus, protect=protect)
    writer.start()
    event = Event.start("loitering", CameraId("s1/c1"), datetime(2026, 3, 2, 12, tzinfo=UTC), "stayed")
    people = Detections(np.array([[100, 60, 140, 180], [200, 60, 240, 180]]), [0.9, 0.3], [0, 0])
    try:
        writer.submit(event, np.full((240, 320, 3), 90, np.uint8), 0.0, None, people=people)
        wait_for(lambda: writer.snapshots == 1)
    finally:
        writer.stop()
    snap = cv2.imread(inbox.get(timeout=1).evidence["snapshot"]).astype(int)
    assert seen == [("s1/c1", 2)]
    assert snap[65:75, 205:235].max() < 15 and snap[65:75, 105:135].max() < 15  # both heads hidden
