"""The arithmetic of benchmarks/bench_pages.py (the benchmark itself is not a test: it asserts no timing)."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

from bench_pages import Context, centre_of, logins_for, parse_memory, soak_growth  # noqa: E402

SMAPS_ROLLUP = """55d1c0a00000-7ffd1b5fe000 ---p 00000000 00:00 0                          [rollup]
Rss:              158720 kB
Pss:              150000 kB
Shared_Clean:      20480 kB
Shared_Dirty:          0 kB
Private_Clean:      4096 kB
Private_Dirty:    134144 kB
Referenced:       158720 kB
Swap:                  0 kB
"""


def test_memory_is_rss_and_the_private_pages_in_megabytes():
    assert parse_memory(SMAPS_ROLLUP) == {"rss": 155.0, "uss": 135.0}


def test_soak_growth_starts_after_the_first_interval_and_reports_the_second_half():
    samples = [(0.0, {"rss": 80.0}, 0), (30.0, {"rss": 150.0}, 900), (60.0, {"rss": 152.0}, 1800),
               (90.0, {"rss": 153.0}, 2700), (120.0, {"rss": 153.5}, 3600)]
    growth = soak_growth(samples)
    # Start-up to the first interval (caches warming: +70 MB) is not growth.
    assert growth == {"first": 150.0, "last": 153.5, "growth": 3.5, "second_half": 0.5}


def test_logins_cover_every_centre_before_a_second_caseworker_of_one():
    context = Context(facilities=[("es001", 1, 35), ("es002", 2, 30), ("es003", 3, 2)],
                      centres=[("jisou", 203), ("kinuta", 90)], attendance_day=dt.date(2026, 12, 7),
                      last_period=dt.date(2026, 11, 1), child_of_centre={})
    assert logins_for("caseworker", context, 3) == ["cw-jisou-1", "cw-kinuta-1", "cw-jisou-2"]
    assert logins_for("facility", context, 2, offset=1) == ["es002", "es003"]
    assert logins_for("auditor", context, 2) == ["auditor", "auditor"]
    assert [centre_of(login) for login in ("cw-jisou-1", "cw-a-b-12")] == ["jisou", "a-b"]
    assert context.months_before_last(3) == dt.date(2026, 8, 1)
    assert context.months_before_last(11) == dt.date(2025, 12, 1)
