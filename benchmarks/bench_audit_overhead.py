"""Benchmark (not a test): what the access log and the change records add to a request.

Issue 3 item 12. Two copies of the application run in this one process over
the same database: one as in production, one with ``mimamori.access_log =
false`` and ``mimamori.change_records = false`` (benchmark-only switches).
The same facility account, logged in to each, alternately

  read:  GET  /reports/period/<last month>/children/<id>   (the report form; a recorded child view)
  write: POST the same form, saving the draft              (a report version: change records)

Requests alternate between the two copies (A B A B …), so drift of the
machine hits both alike. The server time of a request is measured by a WSGI
wrapper around the application (from the call until the body has been
read), so WebTest's own work is not counted. Printed: median and p95 per
copy, and the overhead ratio of the medians. The aim is under 10 %.

    .venv/bin/python benchmarks/bench_audit_overhead.py [--iterations 300]
    MIMAMORI_BENCH_DATABASE_URL=postgresql+psycopg://…/bench .venv/bin/python benchmarks/bench_audit_overhead.py

The PostgreSQL database named by MIMAMORI_BENCH_DATABASE_URL is emptied
(schema ``public`` dropped) and migrated: give it a throwaway database.
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import os
import pathlib
import re
import statistics
import sys
import tempfile
import time

import sqlalchemy as sa
import transaction
from sqlalchemy.orm import sessionmaker
from webtest import TestApp

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

from webapp import migrate  # noqa: E402
from webapp.accounts.models import Account  # noqa: E402
from webapp.accounts.services import PasswordService  # noqa: E402
from webapp.audit.recorder import install_recorder, system_actor  # noqa: E402
from webapp.authz import Role  # noqa: E402
from webapp.children.models import Child, Grade  # noqa: E402
from webapp.clock import JST  # noqa: E402
from webapp.db import create_engine, session_for  # noqa: E402
from webapp.organisations.models import Centre, CentreKind, Facility, FacilityType  # noqa: E402

PASSWORD = "bench-password-2026-long"
REPORT = {
    "days_expected": "20", "days_attended": "18", "days_absent": "2", "late_count": "1",
    "early_leave_count": "0", "absent_illness": "1", "absent_unknown": "1", "family_contact": "partial",
    "condition": "元気に過ごしている。", "action": "save",
}


class ServerTimer:
    """WSGI wrapper: records how long the application took for each request."""

    def __init__(self, app):
        self.app = app
        self.last = 0.0

    def __call__(self, environ, start_response):
        t0 = time.perf_counter()
        body = b"".join(self.app(environ, start_response))
        self.last = time.perf_counter() - t0
        return [body]


def prepare_database(url: str) -> dict:
    engine = create_engine(url)
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.exec_driver_sql("DROP SCHEMA IF EXISTS public CASCADE")
            conn.exec_driver_sql("CREATE SCHEMA public")
    engine.dispose()
    migrate.upgrade(url)
    engine = create_engine(url)
    factory = sessionmaker(bind=engine)
    install_recorder(factory)
    with transaction.manager:
        db = session_for(factory, transaction.manager, actor=system_actor("benchmark"))
        centre = Centre(code="B001", name="ベンチ子ども家庭支援センター", kind=CentreKind.SUPPORT_CENTRE)
        facility = Facility(code="BF0001", name="ベンチ小学校", facility_type=FacilityType.ELEMENTARY, centre=centre)
        child = Child(facility=facility, centre=centre, family_name="試験", given_name="花子",
                      family_name_kana="しけん", given_name_kana="はなこ", grade=Grade.ES3,
                      monitoring_start=dt.date(2020, 4, 1))
        account = Account(login="bench-facility", display_name="ベンチ職員", role=Role.FACILITY, facility=facility,
                          password_hash=PasswordService(time_cost=1, memory_cost=1024).hash(PASSWORD))
        db.add_all([centre, facility, child, account])
        db.flush()
        ids = {"child_id": child.id, "login": account.login}
    engine.dispose()
    return ids


def make_app(url: str, *, access_log: bool, change_records: bool) -> tuple[TestApp, ServerTimer]:
    from webapp.config import configure
    from webapp.settings import build_settings

    settings = {
        "sqlalchemy.url": url,
        "mimamori.session_secret": "b" * 40,
        "mimamori.second_factor_roles": "",
        "mimamori.argon2_time_cost": "1",
        "mimamori.argon2_memory_cost": "1024",
        "mimamori.access_log": "true" if access_log else "false",
        "mimamori.change_records": "true" if change_records else "false",
    }
    timer = ServerTimer(configure(build_settings(settings, environ={})).make_wsgi_app())
    client = TestApp(timer, extra_environ={"wsgi.url_scheme": "https", "HTTP_HOST": "localhost",
                                           "HTTP_ORIGIN": "https://localhost", "REMOTE_ADDR": "192.0.2.10"})
    return client, timer


def log_in(client: TestApp, login: str) -> None:
    form = client.get("/login").forms[0]
    form["login"] = login
    form["password"] = PASSWORD
    assert form.submit().status_int == 303


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


# name -> (access log, change records)
VARIANTS = {"off": (False, False), "on": (True, True)}
BREAKDOWN = {"access": (True, False), "changes": (False, True)}


def run(url: str, iterations: int, warmup: int, breakdown: bool) -> None:
    ids = prepare_database(url)
    last_month = (dt.datetime.now(JST).date().replace(day=1) - dt.timedelta(days=1)).strftime("%Y-%m")
    path = f"/reports/period/{last_month}/children/{ids['child_id']}"
    variants = {**VARIANTS, **(BREAKDOWN if breakdown else {})}
    apps = {name: make_app(url, access_log=a, change_records=c) for name, (a, c) in variants.items()}
    # The JSON lines still get formatted and written, but to /dev/null, not the terminal.
    devnull = open(os.devnull, "w")  # noqa: SIM115 - open for the whole run
    for handler in logging.getLogger("mimamori.access").handlers:
        handler.setStream(devnull)
    for client, _timer in apps.values():
        log_in(client, ids["login"])

    times = {(name, kind): [] for name in apps for kind in ("read", "write")}
    order = list(apps.items())
    for i in range(warmup + iterations):
        # Rotate who goes first, so no copy always follows the same one.
        for name, (client, timer) in order[i % len(order):] + order[:i % len(order)]:
            page = client.get(path)
            read = timer.last
            token = re.search(r'name="edit_token" value="([^"]+)"', page.text).group(1)
            csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
            response = client.post(path, {**REPORT, "edit_token": token, "csrf_token": csrf})
            assert response.status_int == 303, response.text[:300]
            if i >= warmup:
                times[(name, "read")].append(read)
                times[(name, "write")].append(timer.last)

    engine = create_engine(url)
    with engine.connect() as conn:
        records = conn.execute(sa.text("SELECT count(*) FROM audit_records")).scalar()
        access_rows = conn.execute(sa.text("SELECT count(*) FROM access_log")).scalar()
    engine.dispose()
    print(f"\n{engine.dialect.name}: {iterations} iterations per request kind and copy "
          f"({warmup} warm-up); {records} change records and {access_rows} access-log rows written")
    print(f"{'request':<8}{'logging':<9}{'median ms':>10}{'p95 ms':>10}")
    for kind in ("read", "write"):
        for name in apps:
            values = times[(name, kind)]
            print(f"{kind:<8}{name:<9}{statistics.median(values) * 1000:>10.2f}{percentile(values, 0.95) * 1000:>10.2f}")
        off = statistics.median(times[("off", kind)])
        p95_off = percentile(times[("off", kind)], 0.95)
        for name in [n for n in apps if n != "off"]:
            on, p95_on = statistics.median(times[(name, kind)]), percentile(times[(name, kind)], 0.95)
            print(f"{kind:<8}overhead of {name!r}: median {(on / off - 1) * 100:+.1f}% ({(on - off) * 1000:+.2f} ms),"
                  f" p95 {(p95_on / p95_off - 1) * 100:+.1f}%")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--iterations", type=int, default=300)
    parser.add_argument("--warmup", type=int, default=30)
    parser.add_argument("--breakdown", action="store_true",
                        help="also run copies with only the access log and only the change records on")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        run(f"sqlite:///{tmp}/bench.sqlite", args.iterations, args.warmup, args.breakdown)
    pg = os.environ.get("MIMAMORI_BENCH_DATABASE_URL")
    if pg:
        run(pg, args.iterations, args.warmup, args.breakdown)
    else:
        print("\n(set MIMAMORI_BENCH_DATABASE_URL to a throwaway PostgreSQL database to measure it too)")


if __name__ == "__main__":
    main()
