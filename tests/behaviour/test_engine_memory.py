"""The engine's memory stays flat over a long replay: tracks end and are forgotten, rules keep nothing per track
beyond its life (the speed figure itself is a benchmark: ``storewatch bench rules``)."""

from __future__ import annotations

from storewatch.bench.rules_speed import run_rules_benchmark


def test_memory_is_flat_and_every_rule_runs():
    result = run_rules_benchmark(points=60_000, people=8)
    assert result["rss_mb_second_half_max"] <= result["rss_mb_first_half_max"] + 5
    assert len(result["rules"]) >= 13
