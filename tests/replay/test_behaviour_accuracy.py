"""Accuracy gate: CAVIAR ground-truth tracks replayed through the behaviour engine (default rules, no zones),
scored for falls, fights and abandoned objects against the committed baseline.

Fails when a type's F1 falls more than 0.02 below ``benchmarks/behaviours-caviar.json``; the figures are printed
for the log. Needs ``../shared/data/caviar``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from storewatch.bench.behaviours import TYPES, compare_with_baseline, run_behaviour_benchmark
from storewatch.bench.tracking import load_baseline
from tests.conftest import SHARED, need_shared

BASELINE = Path(__file__).resolve().parents[2] / "benchmarks" / "behaviours-caviar.json"
CAVIAR = SHARED / "data" / "caviar"

pytestmark = [pytest.mark.shared]


def test_behaviour_accuracy_holds_against_baseline():
    need_shared(CAVIAR / "Fight_OneManDown" / "tracks.csv")
    result = run_behaviour_benchmark(CAVIAR)
    print(json.dumps(result["types"]))
    assert set(result["types"]) == set(TYPES)
    assert all(result["types"][t]["episodes"] > 0 for t in TYPES)  # the labels still give each type episodes
    problems = compare_with_baseline(result, load_baseline(BASELINE))
    assert not problems, problems
