from __future__ import annotations

import io

import numpy as np
import pytest

from storewatch.bench.mot_metrics import score_detections, score_tracking
from storewatch.bench.tracking import compare_with_baseline
from storewatch.cli.track_cmd import parse_frames
from storewatch.errors import StorewatchError
from storewatch.io.mot import read_mot

GT = """1,1,0,0,10,20,1,-1,-1,-1
1,2,50,50,10,20,1,-1,-1,-1
2,1,1,0,10,20,1,-1,-1,-1
2,2,51,50,10,20,1,-1,-1,-1
3,1,2,0,10,20,1,-1,-1,-1
3,2,52,50,10,20,1,-1,-1,-1
3,3,90,90,10,20,0,-1,-1,-1
"""


def test_perfect_tracks_score_one_and_ignored_rows_are_dropped():
    gt = read_mot(io.StringIO(GT))
    tracks = gt.select(gt.flag != 0)
    s = score_tracking(gt, tracks, 1, 3)
    assert (s.mota, s.idf1, s.hota) == (1.0, 1.0, pytest.approx(1.0))
    assert s.gt_boxes == 6


def test_id_switch_and_misses_lower_the_scores():
    gt = read_mot(io.StringIO(GT))
    swapped = GT.replace("3,1,2,0", "3,7,2,0")  # track 1 gets a new id in frame 3
    tracks = read_mot(io.StringIO(swapped))
    tracks = tracks.select((tracks.flag != 0) & ~((tracks.frame == 2) & (tracks.track_id == 2)))
    s = score_tracking(gt, tracks, 1, 3)
    assert s.id_switches == 1 and s.false_negatives == 1
    assert s.mota == pytest.approx(1 - (1 + 1) / 6)
    assert s.idf1 < 1.0 and s.hota < 1.0


def test_detection_precision_recall():
    gt = [np.array([[0, 0, 10, 10], [20, 20, 30, 30]], float)]
    det = [np.array([[0, 0, 10, 11], [100, 100, 110, 110]], float)]
    s = score_detections(gt, det)
    assert (s.true_positives, s.false_positives, s.false_negatives) == (1, 1, 1)
    assert s.precision == 0.5 and s.recall == 0.5


def test_read_mot_errors_name_the_line(tmp_path):
    p = tmp_path / "bad.txt"
    p.write_text("1,1,0,0,10,20\n2,x,0,0,1,1\n")
    with pytest.raises(StorewatchError, match=r"bad\.txt:2"):
        read_mot(p)
    with pytest.raises(StorewatchError, match="no such file"):
        read_mot(tmp_path / "missing.txt")


@pytest.mark.parametrize("spec", ["x-3", "0-5", "5-2", "-"])
def test_parse_frames_errors(spec):
    with pytest.raises(StorewatchError, match="--frames"):
        parse_frames(spec)


def test_baseline_comparison_allows_two_points():
    base = {"mota": 0.9, "idf1": 0.85, "hota": 0.6}
    assert compare_with_baseline({"mota": 0.885, "idf1": 0.84, "hota": 0.59}, base) == []
    assert len(compare_with_baseline({"mota": 0.87, "idf1": 0.82, "hota": 0.6}, base)) == 2
