"""Benchmark (not a test): the request floor — what every logged-in page pays before its own work.

Issue 19 item 4. In this process (WebTest, the access-log row written
synchronously so its statements and CPU count with the request), on the
setagaya demo in SQLite, a cheap authenticated page (``/help/index``: no query
of its own, the base layout only) is requested ``--requests`` times for a
facility account and a caseworker; printed per login:

- CPU ms per request (``time.process_time``: this process's CPU, the steadier
  number on a busy machine) in the least and the median of ``--rounds`` rounds,
  and the median wall ms;
- SQL statements per request (a ``before_cursor_execute`` listener), and with
  ``--sql`` each statement of one request;
- with ``--profile``, the functions that take the most time (cProfile) over the
  same requests.

``--html DIR`` also writes the HTML of the daily pages (help, /today,
attendance, report list, alerts, timeline) with the CSRF tokens masked, so two
checkouts' output can be compared with ``diff -r``.

    .venv/bin/python benchmarks/bench_floor.py --db /tmp/floor.sqlite [--requests 200 --rounds 5] [--sql] [--profile]

The database is migrated and loaded with the setagaya demo (a few minutes) only
when the file does not exist yet, so before/after runs can share it (copy it:
requests write access-log rows).
"""

from __future__ import annotations

import argparse
import cProfile
import pathlib
import pstats
import re
import statistics
import sys
import time

REPO = pathlib.Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "benchmarks")]

from bench_pages import (  # noqa: E402  (after the path set-up)
    PAGES,
    caseworker_web,
    logins_for,
    prepare_database,
    read_context,
)

FLOOR_PATH = "/help/index"
CSRF_VALUE = re.compile(r'(name="csrf_token"[^>]*value=")[^"]*(")|(value=")[^"]*("[^>]*name="csrf_token")')
HTML_PAGES = ("attendance", "today", "period", "alerts", "timeline")


def count_statements(web):
    """A counter of the SQL statements sent by ``web``'s application, and the last statements seen."""
    from sqlalchemy import event

    engine = web.app.registry["db.engine"]
    seen: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda _c, _cur, statement, *_a: seen.append(statement))
    return seen


def measure(web, path: str, requests: int, rounds: int, profile: bool) -> dict:
    """CPU ms per request in each of ``rounds`` rounds of ``requests``: on a loaded machine the
    least round is the steadier figure (other processes only ever add to it)."""
    web.get(path)
    web.get(path)  # warm: compiled statements, templates
    statements = count_statements(web)
    web.get(path)
    one_request = list(statements)
    walls, cpu_per_round = [], []
    profiler = cProfile.Profile() if profile else None
    if profiler:
        profiler.enable()
    for _ in range(rounds):
        cpu_started = time.process_time()
        for _ in range(requests):
            started = time.perf_counter()
            web.get(path)
            walls.append((time.perf_counter() - started) * 1000)
        cpu_per_round.append((time.process_time() - cpu_started) * 1000 / requests)
    if profiler:
        profiler.disable()
    return {"cpu": min(cpu_per_round), "cpu_median": statistics.median(cpu_per_round),
            "wall": statistics.median(walls), "sql": one_request, "profiler": profiler}


def masked(html: str) -> str:
    return CSRF_VALUE.sub(lambda m: (m.group(1) or m.group(3)) + "CSRF" + (m.group(2) or m.group(4)), html)


def write_html(directory: pathlib.Path, webs: dict, context) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    pages = {page.key: page for page in PAGES}
    for role, web in webs.items():
        login = web.login
        for key in HTML_PAGES:
            page = pages[key]
            if page.role != role:
                continue
            (directory / f"{key}.html").write_text(masked(web.get(page.path(context, login)).text), encoding="utf-8")
        (directory / f"help-{role}.html").write_text(masked(web.get(FLOOR_PATH).text), encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True, type=pathlib.Path)
    parser.add_argument("--requests", type=int, default=200, help="requests per round")
    parser.add_argument("--rounds", type=int, default=5, help="rounds; the least CPU round is printed first")
    parser.add_argument("--path", default=FLOOR_PATH, help=f"the page to measure (default {FLOOR_PATH})")
    parser.add_argument("--sql", action="store_true", help="print the statements of one request")
    parser.add_argument("--profile", action="store_true", help="cProfile: the top functions by own time")
    parser.add_argument("--html", type=pathlib.Path, metavar="DIR", help="write the daily pages' HTML there")
    args = parser.parse_args()
    url = f"sqlite:///{args.db}"
    if not args.db.exists():
        print(f"loading the setagaya demo into {args.db} ...", flush=True)
        print(f"  loaded in {prepare_database(url):.0f} s", flush=True)
    context = read_context(url)
    webs = {}
    for role in ("facility", "caseworker"):
        login = logins_for(role, context, 1)[0]
        webs[role] = caseworker_web(url, login)
        webs[role].login = login

    print(f"{args.path}, {args.rounds} rounds of {args.requests} requests each, in-process "
          f"(WebTest, SQLite, access log written synchronously); CPU ms per request: least and median round")
    print(f"{'login':24} {'CPU ms':>7} {'median':>7} {'wall ms':>8} {'SQL':>4}")
    for role, web in webs.items():
        result = measure(web, args.path, args.requests, args.rounds, args.profile)
        print(f"{role + ' ' + web.login:24} {result['cpu']:7.2f} {result['cpu_median']:7.2f} {result['wall']:8.2f}"
              f" {len(result['sql']):4d}", flush=True)
        if args.sql:
            for statement in result["sql"]:
                print("    " + " ".join(statement.split())[:160])
        if result["profiler"]:
            stats = pstats.Stats(result["profiler"]).strip_dirs()
            stats.sort_stats("tottime").print_stats(25)
            stats.sort_stats("cumulative").print_stats(40)
    if args.html:
        write_html(args.html, webs, context)
        print(f"HTML written to {args.html}")


if __name__ == "__main__":
    main()
