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
