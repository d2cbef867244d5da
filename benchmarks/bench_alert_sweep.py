"""Benchmark (not a test): the alert sweep at ward scale with 1, 3 and 10 years of daily attendance.

Issue 7 item 13. One database with the ``setagaya`` demo data (5,000 children in
500 facilities), then synthetic daily attendance written with bulk inserts
(raw ``executemany`` on SQLite, ``COPY`` on PostgreSQL): every open day of every
child's facility (real holidays, weekly closed days per facility type) has an
entry — present, late, or absent in runs of a few days, sometimes longer, with
a few absences without contact. The history grows backwards in steps (the
last year, then years 2–3, then years 4–10), and after each step the sweep is
measured from scratch:

  cold     the first sweep ever: no sweep state, every child evaluated over its
           latest days (``FIRST_LOOKBACK_DAYS``), alerts raised for recent streaks
  nightly  the next day's sweep: one new day of entries for every child, the
           previous state in place (the job's normal case, every few minutes)
  again    the same sweep once more with nothing new (what most runs do)

Printed: entries in the table, seconds, and the ratio to the 1-year run. The
aim (sub-linear, seconds): the sweep reads the days since the previous sweep
and the running streaks, so its time should not follow the 10x growth of the
history; only index depth (logarithmic) grows.

    .venv/bin/python benchmarks/bench_alert_sweep.py              # SQLite in a temp dir
    MIMAMORI_BENCH_DATABASE_URL=postgresql+psycopg://user@host/throwaway \\
        .venv/bin/python benchmarks/bench_alert_sweep.py           # PostgreSQL (schema dropped first!)
    options: --steps 1 3 10   --seed 7
"""

from __future__ import annotations

import argparse
import bisect
import datetime as dt
import os
import pathlib
import random
import sys
import tempfile
import time

import sqlalchemy as sa
from sqlalchemy.orm import Session

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

from webapp.alerts.models import Alert, AlertEvent, AlertSweepState  # noqa: E402
from webapp.alerts.streaks import Thresholds  # noqa: E402
from webapp.alerts.sweep import AlertSweep  # noqa: E402
from webapp.closed_days import calendar_for  # noqa: E402
from webapp.closed_days.facility_days import DbFacilityDays  # noqa: E402
from webapp.closed_days.services import parse_weekly_setting  # noqa: E402
from webapp.closed_days.sources import JapaneseHolidays  # noqa: E402
from webapp.clock import JST, FixedClock  # noqa: E402
from webapp.db import create_engine  # noqa: E402

TODAY = dt.date(2026, 11, 26)  # the sweep's day; the history ends the day before
COLUMNS = ("created_at", "updated_at", "child_id", "facility_id", "day", "status", "absence_reason",
           "no_contact", "note", "version", "recorded_by_id", "recorded_at")


def registry():
    return {"holiday_source": JapaneseHolidays(), "closed_weekdays": parse_weekly_setting("")}


def prepare(url: str) -> float:
    """The setagaya demo on an emptied, migrated database, as bench_pages.py loads it."""
    from bench_pages import prepare_database

    return prepare_database(url, now=dt.datetime(2026, 11, 26, 1, tzinfo=dt.UTC), password_hash="x")


def _stamp(day: dt.date, sqlite: bool):
    """18:00 JST on ``day`` as the entry's timestamps, in the driver's format."""
    moment = dt.datetime(day.year, day.month, day.day, 18, tzinfo=JST).astimezone(dt.UTC)
    return moment.replace(tzinfo=None).isoformat(" ", timespec="microseconds") if sqlite else moment


class History:
    """Synthetic attendance: each child's days drawn from its own seeded generator."""

    def __init__(self, engine: sa.Engine, seed: int):
        self.engine, self.seed = engine, seed
        self.sqlite = engine.dialect.name == "sqlite"
        with Session(engine) as db:
            self.children = db.execute(sa.text("SELECT id, facility_id FROM children ORDER BY id")).all()
            self.recorder = db.scalar(sa.text("SELECT MIN(id) FROM accounts"))
            calendar = calendar_for(registry(), DbFacilityDays(db))
            self.open_days = {}
            for fid in {fid for _cid, fid in self.children}:
                self.open_days[fid] = calendar.open_days(fid, TODAY.replace(year=TODAY.year - 11), TODAY)

    def rows(self, child_id, facility_id, first: dt.date, last: dt.date, stamp=None):
        rng = random.Random(self.seed * 1_000_003 + child_id * 7919 + first.toordinal())
        run = 0
        days = self.open_days[facility_id]
        for day in days[bisect.bisect_left(days, first):bisect.bisect_right(days, last)]:
            if run == 0:
                draw = rng.random()
                if draw < 0.002:
                    run = rng.randint(3, 12)  # a long absence: what the alerts are for
                elif draw < 0.04:
                    run = rng.randint(1, 3)
            if run:
                run -= 1
                status, reason, no_contact = "absent", rng.choice(("illness", "family", "unknown")), rng.random() < 0.01
            else:
                status, reason, no_contact = ("late" if rng.random() < 0.02 else "present"), None, False
            when = stamp if stamp is not None else _stamp(day, self.sqlite)
            yield (when, when, child_id, facility_id, day.isoformat() if self.sqlite else day, status, reason,
                   int(no_contact) if self.sqlite else no_contact, None, 1, self.recorder, when)

    def write(self, first: dt.date, last: dt.date, stamp=None) -> int:
        written = 0
        with self.engine.begin() as conn:  # whatever the demo data put there: ours replaces it
            conn.execute(sa.text("DELETE FROM attendance_entries WHERE day >= :first AND day <= :last"),
                         {"first": first, "last": last})
        raw = self.engine.raw_connection()
        try:
            cursor = raw.cursor()
            if self.sqlite:
                # The engine runs pysqlite in autocommit mode (webapp.db): without an
                # explicit BEGIN every row would be its own transaction and fsync.
                cursor.execute("BEGIN")
            for start in range(0, len(self.children), 250):
                batch = [row for cid, fid in self.children[start:start + 250]
                         for row in self.rows(cid, fid, first, last, stamp)]
                if self.sqlite:
                    cursor.executemany(
                        f"INSERT INTO attendance_entries ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})",
                        batch)
                else:
                    with cursor.copy(f"COPY attendance_entries ({', '.join(COLUMNS)}) FROM STDIN") as copy:
                        for row in batch:
                            copy.write_row(row)
                written += len(batch)
            raw.commit()
        finally:
            raw.close()
        return written


def reset(engine, history_start: dt.date) -> None:
    with engine.begin() as conn:
        conn.execute(sa.delete(AlertEvent.__table__))  # their history first (it refers to them)
        conn.execute(sa.delete(Alert.__table__))
        conn.execute(sa.delete(AlertSweepState.__table__))
        conn.execute(sa.text("DELETE FROM mail_outbox"))
        conn.execute(sa.text("DELETE FROM attendance_entries WHERE day >= :today"), {"today": TODAY})
        conn.execute(sa.text("UPDATE children SET monitoring_start = :start, monitoring_end = NULL"),
                     {"start": history_start})
        conn.exec_driver_sql("ANALYZE")  # fresh statistics after the bulk load, as autovacuum would


def sweep(engine, day: dt.date):
    clock = FixedClock(dt.datetime(day.year, day.month, day.day, 10, tzinfo=JST))
    started = time.perf_counter()
    with Session(engine) as db, db.begin():
        calendar = calendar_for(registry(), DbFacilityDays(db))
        result = AlertSweep(db, calendar, Thresholds(), clock).run()
    return time.perf_counter() - started, result


def count(engine) -> int:
    with engine.connect() as conn:
        return conn.scalar(sa.text("SELECT COUNT(*) FROM attendance_entries"))


def bench(url: str, label: str, steps: list[int], seed: int) -> None:
    print(f"\n== {label} ==")
    print(f"demo data (setagaya) loaded in {prepare(url):.1f} s")
    engine = create_engine(url)
    history = History(engine, seed)
    print(f"{len(history.children)} children in {len(history.open_days)} facilities")
    covered = 0
    results = []
    for years in steps:
        started = time.perf_counter()
        first = TODAY.replace(year=TODAY.year - years)
        last = TODAY.replace(year=TODAY.year - covered) - dt.timedelta(days=1)
        written = history.write(first, last)
        covered = years
        reset(engine, first)
        load_seconds = time.perf_counter() - started
        cold, cold_result = sweep(engine, TODAY)
        # The next day's entries, written "now" (after the cold sweep's watermark).
        history.write(TODAY, TODAY, stamp=_now_stamp(history.sqlite))
        nightly, nightly_result = sweep(engine, TODAY + dt.timedelta(days=1))
        again, _ = sweep(engine, TODAY + dt.timedelta(days=1))
        results.append((years, count(engine), cold, nightly, again))
        print(f"{years:>2} year(s): +{written:,} entries in {load_seconds:.0f} s; "
              f"cold {cold:.2f} s ({cold_result.raised} raised), nightly {nightly:.2f} s "
              f"({nightly_result.raised} raised), again {again:.2f} s")
    base = results[0]
    print(f"\n{'years':>5} {'entries':>12} {'cold s':>8} {'ratio':>6} {'nightly s':>10} {'ratio':>6} {'again s':>8} {'ratio':>6}")
    for years, entries, cold, nightly, again in results:
        print(f"{years:>5} {entries:>12,} {cold:>8.2f} {cold / base[2]:>6.2f} {nightly:>10.2f} {nightly / base[3]:>6.2f} "
              f"{again:>8.2f} {again / base[4]:>6.2f}")
    engine.dispose()


def _now_stamp(sqlite: bool):
    now = dt.datetime.now(dt.UTC)
    return now.replace(tzinfo=None).isoformat(" ", timespec="microseconds") if sqlite else now


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, nargs="+", default=[1, 3, 10])
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    steps = sorted(set(args.steps))
    with tempfile.TemporaryDirectory(prefix="mimamori-bench-sweep-") as directory:
        bench(f"sqlite:///{directory}/bench.sqlite", "SQLite", steps, args.seed)
    pg_url = os.environ.get("MIMAMORI_BENCH_DATABASE_URL")
    if pg_url:
        bench(pg_url, "PostgreSQL", steps, args.seed)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
