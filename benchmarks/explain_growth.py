"""Which statement of a page reads more with ten years of history? (issue 19 item 4; PostgreSQL only)

For each page given, the request is made in-process (WebTest) against two databases — the
1-year demo and its 10-year copy, as ``bench_pages.py --paired`` leaves them on PostgreSQL
(``<db>`` and ``<db>_10y``) — recording every statement with its parameters; each SELECT is
then run again under ``EXPLAIN (ANALYZE, BUFFERS)`` on its own database and the shared
buffers (hit + read) compared. Printed: per page the buffers of every statement whose
buffers differ between the two, with the plan's top node, and the page's totals; with
``--plans`` the whole plan of those statements at 10 years.

    MIMAMORI_BENCH_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:55475/bench \\
        .venv/bin/python benchmarks/explain_growth.py period attendance timeline

Pages: the GET pages of bench_pages.py (``--pages`` keys).
"""

from __future__ import annotations

import argparse
import os
import sys

from bench_pages import PAGES, in_process_app, logins_for, read_context, webtest_client


def page_statements(url: str, path: str, login: str) -> list[tuple[str, object]]:
    """(statement, parameters) of one GET of ``path`` as ``login``, after a warm-up request."""
    from sqlalchemy import event

    app, engine = in_process_app(url)
    web = webtest_client(app, login)
    web.get(path)
    recorded: list[tuple[str, object]] = []
    event.listen(engine, "before_cursor_execute",
                 lambda conn, cursor, statement, parameters, *rest: recorded.append((statement, parameters)))
    web.get(path)
    return recorded


GENERIC = False  # --generic


def explain(url: str, statement: str, parameters, options: str) -> list:
    """The rows of ``EXPLAIN (options) statement`` on ``url`` (rolled back: EXPLAIN ANALYZE runs it)."""
    from webapp.db import create_engine

    engine = create_engine(url)
    connection = engine.raw_connection()
    try:
        cursor = connection.cursor()
        if GENERIC:
            # As the served app runs a statement psycopg has prepared (after 5 executions): the plan
            # PostgreSQL may then keep is the generic one, made without the parameters' values.
            cursor.execute("SET plan_cache_mode = force_generic_plan")
        cursor.execute(f"EXPLAIN ({options}) " + statement, parameters or None)
        rows = cursor.fetchall()
        connection.rollback()
    finally:
        connection.close()
        engine.dispose()
    return rows


def buffers(url: str, statement: str, parameters) -> tuple[int, str]:
    """Shared buffers (hit + read) of ``statement`` under EXPLAIN ANALYZE, and its plan's top node."""
    plan = explain(url, statement, parameters, "ANALYZE, BUFFERS, FORMAT JSON")[0][0][0]["Plan"]
    return plan.get("Shared Hit Blocks", 0) + plan.get("Shared Read Blocks", 0), plan["Node Type"]


def compare(url_1: str, url_10: str, key: str, show_plans: bool) -> None:
    page = next(p for p in PAGES if p.key == key)
    context = read_context(url_1)
    login = logins_for(page.role, context, 1)[0]
    path = page.path(context, login)
    runs = {years: page_statements(url, path, login) for years, url in ((1, url_1), (10, url_10))}
    print(f"\n{key}: GET {path} as {login}; {len(runs[1])} statements at 1 y, {len(runs[10])} at 10 y")
    totals = {1: 0, 10: 0}
    for index, ((statement, params_1), (statement_10, params_10)) in enumerate(zip(runs[1], runs[10])):
        if not statement.lstrip().upper().startswith(("SELECT", "WITH")):
            continue
        b1, _node = buffers(url_1, statement, params_1)
        b10, node = buffers(url_10, statement_10, params_10)
        totals[1] += b1
        totals[10] += b10
        if b1 != b10:
            print(f"  #{index:<3} buffers {b1:6d} -> {b10:6d}  {node:<18} {' '.join(statement.split())[:150]}")
            if show_plans:
                print(f"      parameters: {params_10}")
                for (line,) in explain(url_10, statement_10, params_10, "ANALYZE, BUFFERS"):
                    print("      " + line)
    print(f"  page's SELECTs: {totals[1]} -> {totals[10]} shared buffers")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("pages", nargs="+", choices=[p.key for p in PAGES])
    parser.add_argument("--plans", action="store_true", help="print the 10-year plan of each statement that grows")
    parser.add_argument("--generic", action="store_true",
                        help="generic plans (plan_cache_mode = force_generic_plan), as prepared statements get")
    args = parser.parse_args(argv)
    global GENERIC
    GENERIC = args.generic
    url = os.environ.get("MIMAMORI_BENCH_DATABASE_URL")
    if not url or not url.startswith("postgresql"):
        parser.error("needs MIMAMORI_BENCH_DATABASE_URL: the PostgreSQL database bench_pages.py --paired loaded")
    for key in args.pages:
        compare(url, f"{url}_10y", key, args.plans)
    return 0


if __name__ == "__main__":
    sys.exit(main())
