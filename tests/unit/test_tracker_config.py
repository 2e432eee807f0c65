"""Tracker settings: defaults, bounds and cross-field checks, each with a message naming the field."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from storewatch.track import ReportBox, TrackerConfig


def test_defaults_are_valid_and_frozen():
    cfg = TrackerConfig()
    assert cfg.low_score < cfg.high_score <= cfg.new_track_score
    assert cfg.report_box == ReportBox.DETECTION and cfg.confirm_first_frame
    with pytest.raises(ValidationError):
        cfg.lost_ttl_s = 1.0  # type: ignore[misc]


def test_every_field_is_described():
    assert all(f.description for f in TrackerConfig.model_fields.values())


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"low_score": 0.6, "high_score": 0.5}, r"low_score \(0.6\) must be below high_score \(0.5\)"),
        ({"low_score": 0.5, "high_score": 0.5}, r"low_score \(0.5\) must be below high_score"),
        ({"high_score": 0.6, "new_track_score": 0.55}, r"new_track_score \(0.55\) must be at least high_score"),
        ({"lost_ttl_s": 0}, "greater than 0"),
        ({"lost_ttl_s": -1.0}, "greater than 0"),
        ({"lost_ttl_s": 601}, "less than or equal to 600"),
        ({"min_hits": 0}, "greater than or equal to 1"),
        ({"high_score": 1.0}, "less than 1"),
        ({"low_score": -0.1}, "greater than or equal to 0"),
        ({"match_iou": 0.0}, "greater than 0"),
        ({"low_match_iou": 1.0}, "less than 1"),
        ({"appearance_momentum": 1.0}, "less than 1"),
        ({"report_box": "kalman"}, "'detection' or 'filtered'"),
        ({"unknown": 1}, "Extra inputs are not permitted"),
        ({"lost_ttl_frames": 30}, "Extra inputs are not permitted"),  # lifetimes are in seconds
    ],
)
def test_invalid_settings_are_refused(kwargs, message):
    with pytest.raises(ValidationError, match=message):
        TrackerConfig(**kwargs)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"low_score": 0.0, "high_score": 0.01, "new_track_score": 0.01},
        {"high_score": 0.6, "new_track_score": 0.6},
        {"report_box": "filtered", "fuse_score": False, "confirm_first_frame": False, "min_hits": 1},
    ],
)
def test_edge_settings_are_accepted(kwargs):
    TrackerConfig(**kwargs)
