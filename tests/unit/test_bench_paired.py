"""The decision arithmetic of bench_pages.py --paired (benchmarks/bench_paired.py); no timing is asserted."""

from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

from bench_paired import bootstrap_median_interval, decide, process_cpu_ns, summarise  # noqa: E402


def test_the_aim_is_met_only_when_the_whole_interval_is_within_ten_percent():
    assert decide(0.95, 1.10) == "met"
    assert decide(0.95, 1.11) == "undecided"
    assert decide(1.11, 1.40) == "GROWS"
    assert decide(1.10, 1.20) == "undecided"


def test_the_interval_of_steady_ratios_is_narrow_and_contains_the_median():
    ratios = [1.00, 1.02, 0.98, 1.01, 0.99, 1.03, 0.97, 1.00, 1.01, 0.99]
    low, high = bootstrap_median_interval(ratios)
    assert 0.97 <= low <= 1.0 <= high <= 1.03
    assert bootstrap_median_interval(ratios) == (low, high)  # fixed seed: same blocks, same interval


def test_noisy_blocks_around_the_aim_stay_undecided_and_clear_growth_is_called():
    noisy = [0.8, 1.4, 0.9, 1.3, 1.0, 1.25, 0.85, 1.35]
    assert summarise(noisy)["decision"] == "undecided"
    grown = [1.45, 1.5, 1.48, 1.52, 1.47, 1.55, 1.49, 1.51]
    result = summarise(grown)
    assert result["decision"] == "GROWS"
    assert (result["min"], result["max"], result["blocks"]) == (1.45, 1.55, 8)


def test_cpu_of_a_process_grows_in_nanoseconds_while_it_works():
    before = process_cpu_ns(os.getpid())
    sum(i * i for i in range(200_000))
    assert process_cpu_ns(os.getpid()) > before
