"""The data `bench_tasks.py` needs, built in a fresh SQLite database (not a test, not the demo).

Run by bench_tasks.py with the Python of the checkout being measured (``--repo``), so
an older checkout builds the same scenario with its own models:

    <repo>/.venv/bin/python benchmarks/task_scenario.py --repo <repo> --db /tmp/x.sqlite

It prints one JSON object: the logins and the ids the tasks start from. The app's
clock for the run is ``CLOCK`` (a Tuesday, school open, November's reports due on
the 10th), so the scenario never depends on the day it is run:

Every child is watched from 1 November, so November is the only month due.

- facility ``bench-school``: 35 children in one class (3年1組), every open day of
  November recorded, 2 children absent one day each (contact made), no November
  report yet; today's attendance not entered;
- centre ``bench-centre``: 50 submitted November reports from 5 other schools,
  5 of them with a concern (2 with a condition written, 3 absent 5 days), and one
  child absent the last 8 open days with no contact from the family, swept by
  the app's own alert job (``mimamori jobs run``), so each checkout raises the
  alerts it raises for such a streak.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import pathlib
import secrets
import subprocess
import sys

CLOCK = "fixed:2026-12-08T09:00:00+09:00"
PERIOD = dt.date(2026, 11, 1)
# November 2026's weekdays without 文化の日 (3rd) and 勤労感謝の日 (23rd).
NOVEMBER_OPEN_DAYS = [PERIOD + dt.timedelta(days=n) for n in range(30)
                      if (PERIOD + dt.timedelta(days=n)).weekday() < 5
                      and (PERIOD + dt.timedelta(days=n)).day not in (3, 23)]
# The streak: the last 8 open days before the clock's day (26 Nov - 7 Dec).
STREAK_DAYS = [dt.date(2026, 11, 26), dt.date(2026, 11, 27), dt.date(2026, 11, 30), dt.date(2026, 12, 1),
               dt.date(2026, 12, 2), dt.date(2026, 12, 3), dt.date(2026, 12, 4), dt.date(2026, 12, 7)]
SUBMITTED_AT = dt.datetime(2026, 12, 2, 1, 0, tzinfo=dt.timezone.utc)


def ini_text(database: pathlib.Path, port: int) -> str:
    return ("[app:main]\nuse = egg:mimamori\n"
            f"sqlalchemy.url = sqlite:///{database}\n"
            "mimamori.secure_cookies = false\nmimamori.second_factor_roles =\nmimamori.mail = null\n"
            f"mimamori.clock = {CLOCK}\n"
            f"mimamori.public_url = http://127.0.0.1:{port}\n"
            f"\n[server:main]\nuse = egg:waitress#main\nlisten = 127.0.0.1:{port}\nthreads = 4\n")


def build(db) -> dict:
    from tests.factories import PASSWORD, Factory
    from webapp.children.models import Grade
    from webapp.reports.models import MonthlyReport

    make = Factory(db)
    admin = make.account("admin", login="bench-admin")

    # The school of the attendance and monthly-report tasks, under its own centre so its
    # reports do not join the caseworker's queue.
    school = make.facility(centre=make.centre(code="BENCH2", name="ベンチ第二センター"), name="ベンチ小学校")
    make.account("facility", login="bench-school", facility=school)
    kana = "あいうえおかきくけこさしすせそたちつてとなにぬねのはひふへほまみむめも"
    children = [make.child(facility=school, family_name="見守", given_name=f"児童{n:02d}",
                           family_name_kana="みまもり", given_name_kana=kana[n] * 2,
                           grade=Grade.ES3, class_name="1組", monitoring_start=PERIOD) for n in range(35)]
    absent = {children[4].id: NOVEMBER_OPEN_DAYS[5], children[20].id: NOVEMBER_OPEN_DAYS[12]}
    for child in children:
        for day in NOVEMBER_OPEN_DAYS:
            if absent.get(child.id) == day:
                make.attendance(child, day, status="absent", recorder=admin, absence_reason="illness")
            else:
                make.attendance(child, day, recorder=admin)

    # The caseworker's centre: 50 submitted reports, 5 with a concern.
    centre = make.centre(code="BENCH1", name="ベンチ子ども家庭支援センター")
    make.account("caseworker", login="bench-centre", centre=centre)
    facilities = [make.facility(centre=centre, name=f"ベンチ第{n + 1}小学校") for n in range(5)]
    for n in range(50):
        child = make.child(facility=facilities[n % 5], given_name=f"確認{n:02d}", grade=Grade.ES4,
                           monitoring_start=PERIOD)
        content = {}
        if n in (7, 31):
            content = {"condition": "朝食をとらずに登校することが続いている。", "nothing_special": False}
        elif n in (12, 25, 44):
            content = {"days_expected": 19, "days_attended": 14, "days_absent": 5, "absent_illness": 5}
        else:
            content = {"days_expected": 19, "days_attended": 19}
        make.report(child, PERIOD, **content)
    db.query(MonthlyReport).filter(MonthlyReport.period == PERIOD).update({"submitted_at": SUBMITTED_AT})

    streak_child = make.child(facility=facilities[0], given_name="欠席続", grade=Grade.ES2, monitoring_start=PERIOD)
    for day in NOVEMBER_OPEN_DAYS:
        if day < STREAK_DAYS[0]:
            make.attendance(streak_child, day, recorder=admin)
    for day in STREAK_DAYS:
        make.attendance(streak_child, day, status="absent", recorder=admin, absence_reason="unknown",
                        no_contact=True)
    return {"password": PASSWORD, "facility_login": "bench-school", "caseworker_login": "bench-centre",
            "period": PERIOD.isoformat(), "children": len(children), "absent_today": [children[9].id, children[27].id],
            "streak_child": streak_child.id, "reports": 50, "concerns": 5}


def run(cli: list[str], *args: str, repo: pathlib.Path, env: dict) -> None:
    result = subprocess.run([*cli, *args], cwd=repo, env=env, capture_output=True, text=True)
    if result.returncode:
        sys.exit(f"mimamori {' '.join(args)} failed: {result.stderr[-2000:]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repo", required=True, type=pathlib.Path)
    parser.add_argument("--db", required=True, type=pathlib.Path)
    args = parser.parse_args()
    sys.path.insert(0, str(args.repo))
    ini = args.db.with_suffix(".ini")
    ini.write_text(ini_text(args.db, 0), encoding="utf-8")
    cli = [sys.executable, "-m", "webapp.cli", "-c", str(ini)]
    env = {**os.environ, "MIMAMORI_SESSION_SECRET": os.environ.get("MIMAMORI_SESSION_SECRET") or secrets.token_urlsafe(40)}
    run(cli, "migrate", repo=args.repo, env=env)

    from sqlalchemy.orm import Session

    from webapp.db import create_engine

    engine = create_engine(f"sqlite:///{args.db}")
    with Session(engine) as db, db.begin():
        facts = build(db)
    engine.dispose()
    # The checkout's own sweep raises the streak's alerts (and nothing else is due at CLOCK).
    run(cli, "jobs", "run", repo=args.repo, env=env)
    print(json.dumps(facts))


if __name__ == "__main__":
    main()
