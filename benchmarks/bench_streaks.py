"""Benchmark (not a test): absence-streak evaluation for 5,000 children, 1 vs 10 years of entries.

Issue 7 items 3 and 13 (the core of the alert sweep, without the database).
5,000 children in 500 facilities of mixed types (schools closed Sat+Sun with a
summer break, nurseries closed Sundays), real Japanese holidays. Every open
day has an entry (present, or absent in runs of a few days); 10 % of the
facilities enter nothing at all; 2 % of the children end the history inside
a ten-day absence run (the worst case for a backwards walk that must count
the whole run).

To keep memory sane the children share 500 distinct histories (10 years x
5,000 children would be 12 million dict entries); each evaluation is still
independent and walks its child's own mapping.

Printed, per history length:
  entries      entries read by the children (shared histories counted per child)
  calendar     building the per-year open-day tables (once per sweep)
  cold         evaluate() with no previous state (only the latest run is read)
  nightly      evaluate() with yesterday's state (the sweep's normal case)
  full rescan  evaluate(since=<start of history>): every run in the history;
               linear on purpose, as the contrast
  baseline     one dict lookup per child (the floor of any per-child loop)
and the 10-year/1-year ratios. The aim: cold and nightly do not grow with
history (ratio near 1), full rescan grows about 10x.

    .venv/bin/python benchmarks/bench_streaks.py [--children 5000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import time

from webapp.alerts.streaks import AlertState, Attendance, DayEntry, Level, evaluate
from webapp.closed_days import Calendar, Closure, InMemoryFacilityDays, JapaneseHolidays

AS_OF = dt.date(2026, 11, 26)
FACILITIES = 500
HISTORIES = 500
PRESENT = DayEntry(Attendance.PRESENT)
ABSENT = DayEntry(Attendance.ABSENT)


def facilities(first_year: int) -> InMemoryFacilityDays:
    types, closures = {}, {}
    for fid in range(FACILITIES):
        if fid % 2:
            types[fid] = "elementary"
            closures[fid] = [Closure(dt.date(y, 7, 21), dt.date(y, 8, 31), "夏休み") for y in range(first_year, AS_OF.year + 1)]
        else:
            types[fid] = "nursery"
    return InMemoryFacilityDays(types, closures)


def histories(calendar: Calendar, years: int, rng: random.Random) -> list[tuple[int, dict]]:
    start = AS_OF.replace(year=AS_OF.year - years)
    result = []
    for number in range(HISTORIES):
        fid = number % FACILITIES
        entries: dict[dt.date, DayEntry] = {}
        if fid % 10 != 3:  # 10 % of facilities do not use daily entries
            absent = False
            for day in calendar.open_days(fid, start, AS_OF):
                absent = rng.random() < (0.6 if absent else 0.03)
                entries[day] = ABSENT if absent else PRESENT
            if number % 50 == 0:  # 2 % end inside a ten-day absence run
                for day in calendar.open_days(fid, AS_OF - dt.timedelta(days=16), AS_OF):
                    entries[day] = ABSENT
        result.append((fid, entries))
    return result


def timed(function, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        began = time.perf_counter()
        function()
        best = min(best, time.perf_counter() - began)
    return best


def measure(years: int, children: int, repeat: int) -> dict[str, float]:
    rng = random.Random(years)
    first_year = AS_OF.year - years
    calendar = Calendar(JapaneseHolidays(), facilities(first_year))
    began = time.perf_counter()
    for fid in range(FACILITIES):
        calendar.count_open_days(fid, dt.date(first_year, 1, 1), AS_OF)
    calendar_time = time.perf_counter() - began

    pool = histories(calendar, years, rng)
    kids = [pool[i % HISTORIES] for i in range(children)]
    since = AS_OF.replace(year=first_year) - dt.timedelta(days=1)
    yesterday = AS_OF - dt.timedelta(days=1)
    states = [
        evaluate(entries, calendar.open_days_backwards(fid, yesterday), yesterday).state for fid, entries in kids
    ]

    def cold():
        for fid, entries in kids:
            evaluate(entries, calendar.open_days_backwards(fid, AS_OF), AS_OF)

    def nightly():
        for (fid, entries), state in zip(kids, states):
            evaluate(entries, calendar.open_days_backwards(fid, AS_OF), AS_OF, state)

    def full():
        for fid, entries in kids:
            evaluate(entries, calendar.open_days_backwards(fid, AS_OF), AS_OF, AlertState(), since=since)

    def baseline():
        for fid, entries in kids:
            entries.get(AS_OF)

    alerts = sum(
        evaluate(e, calendar.open_days_backwards(f, AS_OF), AS_OF).state.level == Level.ACTION for f, e in kids
    )
    return {
        "entries": sum(len(e) for _, e in kids),
        "alerts": alerts,
        "closed_days": calendar_time,
        "cold": timed(cold, repeat),
        "nightly": timed(nightly, repeat),
        "full rescan": timed(full, 1),
        "baseline": timed(baseline, repeat),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--children", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    # Load the holiday package once, so that its import is not counted as calendar time.
    JapaneseHolidays().holidays_in(2000)
    results = {years: measure(years, args.children, args.repeat) for years in (1, 10)}
    print(f"{args.children} children, {FACILITIES} facilities, as of {AS_OF}")
    print(f"{'':14}{'1 year':>12}{'10 years':>12}{'ratio':>8}")
    for key in ("entries", "alerts"):
        print(f"{key:14}{results[1][key]:>12,}{results[10][key]:>12,}")
    for key in ("closed_days", "cold", "nightly", "full rescan", "baseline"):
        one, ten = results[1][key], results[10][key]
        print(f"{key:14}{one * 1000:>10.1f}ms{ten * 1000:>10.1f}ms{ten / one:>8.2f}")
    per_child = results[10]["nightly"] / args.children * 1e6
    print(f"nightly sweep, 10 years: {per_child:.1f} µs per child "
          f"({results[10]['nightly'] / results[10]['baseline']:.0f}x a bare dict lookup)")


if __name__ == "__main__":
    main()
