"""Accuracy gate of face blurring on the hand-checked PETS frames and close-ups (``storewatch bench privacy``
without the tracking pass and the timings): every person protected, and faces found no worse than the committed
baseline. A benchmark, not a timed test: costs are in the baseline, not asserted here."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from storewatch.bench.privacy import compare_with_baseline, run_privacy_benchmark
from storewatch.bench.tracking import load_baseline
from storewatch.privacy.faces import CenterFaceDetector

BASELINE = Path(__file__).resolve().parents[2] / "benchmarks" / "privacy-pets09.json"

pytestmark = [pytest.mark.models, pytest.mark.shared]


def test_every_person_is_protected_and_faces_are_found_as_in_the_baseline(
    face_detector: CenterFaceDetector, pets_video: Path, pets_gt: Path
) -> None:
    result = run_privacy_benchmark(pets_video, pets_gt, face_detector, costs=False)
    print(json.dumps(result["passes"]))
    assert set(result["passes"]) == {"gt", "zoom"}
    assert result["passes"]["gt"]["people"] == 48 and result["passes"]["zoom"]["people"] >= 20
    for name in ("gt", "zoom"):
        assert result["passes"][name]["protected_pct"] == 100.0, result["passes"][name]
    problems = compare_with_baseline(result, load_baseline(BASELINE))
    assert not problems, problems
