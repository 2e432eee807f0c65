"""``storewatch backtest`` on a recorded camera-day: the candidate's changed threshold shows in the counts."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from storewatch.core.detections import Detections
from storewatch.runtime.trackrec import TrackRecorder

SITE = """
site: {{id: t}}
stores:
  - id: s1
    cameras:
      - id: c1
        source: cam.mp4
        zones:
          - {{id: shelf, kind: high_value, polygon: [[0.2, 0.2], [0.8, 0.2], [0.8, 0.9], [0.2, 0.9]]}}
rules:
  loitering: {{dwell_s: {dwell}}}
"""


def test_backtest_compares_rule_sets_per_camera_day(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    from storewatch.cli.app import main

    rec = TrackRecorder(tmp_path / "tracks", "s1/c1")
    t0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
    for i in range(5 * 90):  # 90 s at 5 fps: one person standing at the shelf
        rec.add(t0 + timedelta(seconds=i / 5), Detections(np.array([[300, 200, 340, 320]]), [0.9], [0], [4]),
                (640, 480))  # fmt: skip
    rec.close()
    (tmp_path / "now.yaml").write_text(SITE.format(dwell=60))
    (tmp_path / "new.yaml").write_text(SITE.format(dwell=120))
    code = main(["backtest", "--config", str(tmp_path / "now.yaml"), "--candidate", str(tmp_path / "new.yaml"),
                 "--tracks", str(tmp_path / "tracks"), "--json"])  # fmt: skip
    assert code in (0, None)
    out = json.loads(capsys.readouterr().out)
    loiter = next(r for r in out["rules"] if r["rule"] == "loitering")
    assert out["camera_days"] == 1
    assert loiter["current_per_camera_day"] == 1.0 and loiter["candidate_per_camera_day"] == 0.0
    assert loiter["change_percent"] == -100.0


def test_backtest_without_history_says_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    from storewatch.cli.app import main

    (tmp_path / "now.yaml").write_text(SITE.format(dwell=60))
    (tmp_path / "tracks").mkdir()
    code = main(["backtest", "--config", str(tmp_path / "now.yaml"), "--candidate", str(tmp_path / "now.yaml"),
                 "--tracks", str(tmp_path / "tracks")])  # fmt: skip
    assert code == 2 and "no track history" in capsys.readouterr().err
