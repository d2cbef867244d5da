"""Benchmark (not a test): how long view records wait in memory before they are committed.

Issue 19 item 1. View records ("who saw which child", S-AUDIT) leave the
request and are appended to the audit chain by the access-log writer's
background thread (webapp/audit/access_writer.py). What a hard kill (SIGKILL,
power loss) can lose is what waits in its queue: this measures, under load,
the time from a request handing its records over to their commit — the
oldest item of each batch, so the worst any record waited.

16 users by default (facility accounts, 35 children each) in this process,
through WebTest against the real application with the production writer,
with no pause between requests: 12 read their daily attendance page in a
loop, 4 read it and save it. Printed: pages
served, errors, view records in the chain, whether the chain verifies, and
the worst and 99th-percentile submit-to-commit seconds.

    .venv/bin/python benchmarks/bench_view_lag.py [--seconds 20] [--users 16] [--savers 4]
    MIMAMORI_BENCH_DATABASE_URL=postgresql+psycopg://…/bench .venv/bin/python benchmarks/bench_view_lag.py

The PostgreSQL database is emptied (schema ``public`` dropped): a throwaway one.
"""

from __future__ import annotations

import argparse
import os
import pathlib
import re
import sys
import tempfile
import threading
import time

import sqlalchemy as sa
from sqlalchemy.orm import sessionmaker
from webtest import TestApp

REPO = pathlib.Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "benchmarks")]

from bench_pages import BROWSER_ENVIRON, fresh_schema  # noqa: E402
from tests.factories import PASSWORD, Factory  # noqa: E402
from webapp.audit import access_writer  # noqa: E402
from webapp.audit.chain import verify_chain  # noqa: E402
from webapp.audit.models import AuditRecord  # noqa: E402
from webapp.clock import FixedClock, parse_instant  # noqa: E402
from webapp.db import create_engine  # noqa: E402

CHILDREN = 35
NOW = parse_instant("2026-11-26T10:00:00+09:00")
DAY_URL = "/attendance/facilities/{}/2026-11-25"


def prepare(url: str, users_count: int) -> list[tuple[int, str]]:
    engine = fresh_schema(url)
    session = sessionmaker(bind=engine, expire_on_commit=False)()
    make = Factory(session)
    users = []
    for _ in range(users_count):
        facility = make.facility()
        staff = make.account("facility", facility=facility)
        for _ in range(CHILDREN):
            make.child(facility=facility)
        users.append((facility, staff))
    session.commit()
    result = [(facility.id, staff.login) for facility, staff in users]
    session.close()
    engine.dispose()
    return result


class TimedWriter(access_writer.BatchedWriter):
    """The production writer, keeping every batch's oldest submit-to-commit seconds."""

    lags: list[float] = []

    def _written(self, oldest_waited: float) -> None:
        super()._written(oldest_waited)
        TimedWriter.lags.append(oldest_waited)


def run(url: str, seconds: float, users_count: int, savers: int) -> None:
    from webapp.config import configure
    from webapp.settings import build_settings

    users = prepare(url, users_count)
    access_writer.BatchedWriter = TimedWriter
    TimedWriter.lags = []
    config = configure(build_settings({
        "sqlalchemy.url": url, "mimamori.session_secret": "bench-" + "x" * 40,
        "mimamori.argon2_time_cost": "1", "mimamori.argon2_memory_cost": "1024",
        "mimamori.second_factor_roles": "", "mimamori.secure_cookies": "false"}, environ={}))
    config.registry["clock"] = FixedClock(NOW)
    wsgi_app = config.make_wsgi_app()
    counts = {"pages": 0, "saves": 0, "errors": 0}
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def user(index: int, facility_id: int, login: str) -> None:
        app = TestApp(wsgi_app, extra_environ=BROWSER_ENVIRON)
        form = app.get("/login").forms[0]
        form["login"], form["password"] = login, PASSWORD
        form.submit()
        round_ = 0
        while time.monotonic() < stop:
            round_ += 1
            page = app.get(DAY_URL.format(facility_id), expect_errors=True)
            ok = page.status_int == 200
            if ok and index < savers:
                form = page.forms["attendance-form"]
                for name in form.fields:
                    if re.match(r"status-\d+$", name):
                        form[name] = "present" if round_ % 2 else "late"
                ok = form.submit("action", value="save", expect_errors=True).status_int == 303
                with lock:
                    counts["saves"] += ok
            with lock:
                counts["pages"] += page.status_int == 200
                counts["errors"] += not ok

    threads = [threading.Thread(target=user, args=(i, f, login)) for i, (f, login) in enumerate(users)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wsgi_app.registry["access_log.writer"].flush()
    engine = create_engine(url)
    with engine.connect() as conn:
        views = conn.scalar(sa.select(sa.func.count()).where(AuditRecord.action == "view"))
        _checked, problems = verify_chain(conn)
    engine.dispose()
    lags = sorted(TimedWriter.lags)
    p99 = lags[int(len(lags) * 0.99) - 1] if lags else 0.0
    print(f"{engine.dialect.name}, {users_count} users ({savers} saving): {counts['pages']} day pages, "
          f"{counts['saves']} saves, {counts['errors']} errors in {seconds:.0f} s; {views} view records (expected {counts['pages'] * CHILDREN}); chain "
          f"{'OK' if not problems else problems[:3]}; {len(lags)} batches, submit-to-commit "
          f"p99 {p99:.3f} s, worst {lags[-1] if lags else 0:.3f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--users", type=int, default=16)
    parser.add_argument("--savers", type=int, default=4, help="how many of the users also save the day")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        run(f"sqlite:///{tmp}/lag.sqlite", args.seconds, args.users, args.savers)
    if os.environ.get("MIMAMORI_BENCH_DATABASE_URL"):
        run(os.environ["MIMAMORI_BENCH_DATABASE_URL"], args.seconds, args.users, args.savers)


if __name__ == "__main__":
    main()
