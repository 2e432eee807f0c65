"""Accuracy gate: detector + tracker on the PETS 2009 S2.L1 development frames against the committed baseline.

A benchmark, not a timed test: only accuracy is asserted (speed varies with the machine's load); the figures
are printed for the log.  Fails when MOTA, IDF1 or HOTA falls more than 2 points below the baseline.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from storewatch.bench.tracking import compare_with_baseline, load_baseline, run_tracking_benchmark
from storewatch.detect.config import DetectorConfig
from storewatch.track.config import TrackerConfig

BASELINE = Path(__file__).resolve().parents[2] / "benchmarks" / "tracking-pets09-s2l1.json"

pytestmark = [pytest.mark.models, pytest.mark.shared]


@pytest.fixture(scope="module")
def detector():
    from storewatch.analysis.tracking import open_detector
    from storewatch.errors import ModelError

    try:
        return open_detector(DetectorConfig())
    except ModelError as exc:
        pytest.skip(f"model not in the cache ({exc}); `make setup` obtains it")


def test_accuracy_holds_against_baseline(detector, pets_video, pets_gt):
    result = run_tracking_benchmark(
        pets_video,
        pets_gt,
        detector,
        DetectorConfig(),
        TrackerConfig(),
        first_seq=0,
        last_seq=399,
        progress=False,
    )
    print(json.dumps(result))
    assert result["frames"] == "1-400"
    problems = compare_with_baseline(result, load_baseline(BASELINE))
    assert not problems, problems
