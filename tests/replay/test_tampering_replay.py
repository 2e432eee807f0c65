"""Tampering on real footage: a normal recording (people walking, daylight) must raise nothing."""

from __future__ import annotations

import pytest

from storewatch.detect.tampering import TamperDetector
from storewatch.video.source import VideoSource

pytestmark = pytest.mark.shared


def test_no_false_tampering_alarm_on_the_sample_camera(pets_video):
    detector = TamperDetector()
    events = []
    with VideoSource(pets_video) as src:
        for frame in src.frames():
            events += detector.update(frame.image, frame.meta.mono_s)
    assert events == []
