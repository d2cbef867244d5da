"""Benchmark (not a test): pages at ward scale with 1 and 10 years of history (issue 19 items 2 and 3).

Loads the setagaya demo (12 months of reports) into the SQLite file given, if it
does not exist, migrates it to this tree's head, and with ``--history-years N``
(N > 1) copies the demo's reports, their versions and events, and its daily
attendance N - 1 times into the years before (bulk ``INSERT ... SELECT``; once
per file). Then, in-process through WebTest like bench_matrix.py, it times the
caseworker's pages of the largest centre: median wall and CPU ms of this process
after a warm-up, and the ratio of the CPU time to ``/help/index`` (the baseline
of the run).

    cp /tmp/h1.sqlite /tmp/h10.sqlite   # after a first run with the 1-year file
    .venv/bin/python benchmarks/bench_history.py --db /tmp/h1.sqlite
    .venv/bin/python benchmarks/bench_history.py --db /tmp/h10.sqlite --history-years 10
"""

from __future__ import annotations

import argparse
import pathlib
import sys

REPO = pathlib.Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "benchmarks")]

from bench_pages import caseworker_web, in_process_timings, organisations, prepare_database  # noqa: E402


def extend_history(url: str, years: int) -> None:
    """Copy the demo's year of reports (with versions and events) and attendance ``years - 1`` times backwards."""
    import sqlalchemy as sa

    from webapp.db import create_engine

    engine = create_engine(url)
    with engine.begin() as conn:
        first = conn.execute(sa.text("SELECT min(period) FROM monthly_reports")).scalar()
        last = conn.execute(sa.text("SELECT max(period) FROM monthly_reports")).scalar()
        span = conn.execute(sa.text("SELECT count(DISTINCT period) FROM monthly_reports")).scalar()
        if span > 12:
            print(f"  history already extended ({span} months)", flush=True)
            return
        for k in range(1, years):
            shift = f"-{12 * k} months"
            conn.execute(sa.text(
                "INSERT INTO monthly_reports (child_id, facility_id, period, status, submitted_at, acknowledged_at,"
                " acknowledged_by_id, created_at, updated_at)"
                " SELECT child_id, facility_id, date(period, :shift), 'acknowledged', submitted_at, submitted_at,"
                " acknowledged_by_id, created_at, updated_at FROM monthly_reports"
                " WHERE period BETWEEN :first AND :last AND submitted_at IS NOT NULL"),
                {"shift": shift, "first": first, "last": last})
            join = ("FROM monthly_reports old JOIN monthly_reports new ON new.child_id = old.child_id"
                    " AND new.period = date(old.period, :shift) AND old.period BETWEEN :first AND :last")
            columns = conn.execute(sa.text("SELECT * FROM monthly_report_versions LIMIT 0")).keys()
            copied = [c for c in columns if c not in ("id", "report_id")]
            conn.execute(sa.text(
                f"INSERT INTO monthly_report_versions (report_id, {', '.join(copied)})"
                f" SELECT new.id, {', '.join('v.' + c for c in copied)} FROM monthly_report_versions v"
                f" JOIN ({'SELECT old.id AS old_id, new.id AS id ' + join}) new ON new.old_id = v.report_id"),
                {"shift": shift, "first": first, "last": last})
            conn.execute(sa.text(
                "INSERT INTO report_events (report_id, action, version_number, account_id, comment, created_at)"
                # The same moment k years earlier (the year rewritten in the stored text), so the
                # copied events stay out of the months the timeline shows.
                " SELECT new.id, e.action, e.version_number, e.account_id, e.comment,"
                " printf('%04d', CAST(substr(e.created_at, 1, 4) AS INTEGER) - :years) || substr(e.created_at, 5)"
                f" FROM report_events e JOIN ({'SELECT old.id AS old_id, new.id AS id ' + join}) new"
                " ON new.old_id = e.report_id"),
                {"shift": shift, "first": first, "last": last, "years": k})
            entry_columns = [c for c in conn.execute(sa.text("SELECT * FROM attendance_entries LIMIT 0")).keys()
                             if c not in ("id", "day")]
            conn.execute(sa.text(
                f"INSERT OR IGNORE INTO attendance_entries (day, {', '.join(entry_columns)})"
                f" SELECT date(day, :days), {', '.join(entry_columns)} FROM attendance_entries"
                " WHERE day >= :first_day"),
                {"days": f"-{364 * k} days", "first_day": first})
        conn.exec_driver_sql("ANALYZE")
        counts = {table: conn.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar()
                  for table in ("monthly_reports", "monthly_report_versions", "report_events", "attendance_entries")}
    engine.dispose()
    print(f"  history: {counts}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True, type=pathlib.Path)
    parser.add_argument("--history-years", type=int, default=1)
    parser.add_argument("--loads", type=int, default=9)
    args = parser.parse_args()
    url = f"sqlite:///{args.db}"
    if not args.db.exists():
        print(f"loading the setagaya demo into {args.db} ...", flush=True)
        print(f"  loaded in {prepare_database(url):.0f} s", flush=True)
    from webapp import migrate

    migrate.upgrade(url)
    if args.history_years > 1:
        extend_history(url, args.history_years)

    import sqlalchemy as sa

    from webapp.db import create_engine

    centre = organisations(url)["centres"][0][0]
    engine = create_engine(url)
    with engine.connect() as conn:
        last = conn.execute(sa.text("SELECT max(period) FROM monthly_reports")).scalar()
        child_id = conn.execute(sa.text(
            "SELECT c.id FROM children c JOIN centres ce ON ce.id = c.centre_id"
            " LEFT JOIN attendance_entries a ON a.child_id = c.id WHERE ce.code = :code"
            " GROUP BY c.id ORDER BY count(a.id) DESC, c.id LIMIT 1"), {"code": centre}).scalar()
    engine.dispose()
    last = dt_date(last)
    first = _add_months(last, -3)
    month = _add_months(last, -1)
    paths = [
        "/help/index",
        f"/export/reports.csv?from={first:%Y-%m}&to={month:%Y-%m}",
        f"/children/{child_id}/timeline?month={month:%Y-%m}",
        "/centre/review",
        "/centre/submissions",
    ]
    web = caseworker_web(url, f"cw-{centre}-1")

    print(f"caseworker cw-{centre}-1, history {args.history_years} year(s), {args.loads} loads each"
          " (median, after one warm-up)")
    print(f"{'path':50} {'bytes':>9} {'wall ms':>8} {'CPU ms':>7} {'vs hello':>8}")
    baseline = None
    for path in paths:
        page, wall_ms, cpu_ms = in_process_timings(web, path, args.loads)
        baseline = baseline or cpu_ms
        print(f"{path:50} {len(page.body):>9,} {wall_ms:>8.1f} {cpu_ms:>7.1f}"
              f" {cpu_ms / baseline:>8.2f}", flush=True)


def dt_date(value):
    import datetime as dt

    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))


def _add_months(day, months: int):
    index = day.year * 12 + day.month - 1 + months
    return day.replace(year=index // 12, month=index % 12 + 1, day=1)


if __name__ == "__main__":
    main()
