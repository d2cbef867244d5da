"""Paired mode of bench_pages.py (``--paired``): does a page's CPU grow from 1 to 10 years of history?

Issue 19 item 4 asks that no page's CPU per request grow more than 10 % from 1 to
10 years. Measured one after the other, the shared 2-core machine's load moves a
page's CPU by ±20 % between runs, more than the aim. Here both histories are served
*at the same time*, each by its own application process on its own copy of the same
demo (the 10-year database is the 1-year one plus nine copied years), and each page is
measured in short blocks alternating between them (A B B A A B …): what the machine's
load does to one block it does to the neighbouring block of the other side, so the
ratio of a pair of blocks (10 y / 1 y) cancels most of it. Per page we print the median
of the block ratios, a bootstrap 95 % interval of that median and the blocks' min–max,
and the decision against +10 %: **met** (the interval's top ≤ 1.10), **GROWS** (its
bottom > 1.10) or **undecided** (the interval straddles 1.10: more blocks, or a quieter
machine).

CPU is the application process's on-CPU time from ``/proc/<pid>/task/*/schedstat``
(nanoseconds, every thread — the view-record and access-log writers count), not
``/proc/<pid>/stat``'s 10 ms ticks, so blocks can be short.

Deterministic signals beside the timings, which no load can move:
- SQL statements per request, counted in-process on each database (as bench_pages.py);
- on PostgreSQL, per request from ``pg_stat_statements`` (when the server preloads it):
  statements the server ran for that database, rows they returned or changed, and shared
  buffers they touched (hit + read) — the work of reading history. A page whose buffers
  per request grow from 1 to 10 years reads the history; equal buffers mean it does not.
"""

from __future__ import annotations

import contextlib
import math
import random
import sqlite3
import statistics
import time

from bench_pages import (CLIENTS, SUBMIT, Drafts, Page, count_statements, get_ok, logged_in, logins_for,
                         prepare_database, read_context, serving_app)

AIM = 1.10  # issue 19: at most +10 % CPU per request from 1 to 10 years
BLOCK_CPU_MS = 300.0  # CPU of the application per block, roughly: several requests, well above clock noise


# --- statistics ------------------------------------------------------------------------------


def bootstrap_median_interval(ratios: list[float], resamples: int = 4000, seed: int = 19) -> tuple[float, float]:
    """The 2.5th and 97.5th percentiles of the median of ``ratios`` resampled with replacement
    (fixed seed: the same blocks give the same interval)."""
    rng = random.Random(seed)
    medians = sorted(statistics.median(rng.choices(ratios, k=len(ratios))) for _ in range(resamples))
    return medians[int(0.025 * (resamples - 1))], medians[math.ceil(0.975 * (resamples - 1))]


def decide(low: float, high: float, aim: float = AIM) -> str:
    """met: even the interval's top is within the aim; GROWS: even its bottom exceeds it."""
    if high <= aim:
        return "met"
    if low > aim:
        return "GROWS"
    return "undecided"


def summarise(ratios: list[float]) -> dict:
    low, high = bootstrap_median_interval(ratios)
    return {"median": statistics.median(ratios), "low": low, "high": high,
            "min": min(ratios), "max": max(ratios), "blocks": len(ratios), "decision": decide(low, high)}


# --- the application process's CPU, finely ---------------------------------------------------


def process_cpu_ns(pid: int) -> int:
    """On-CPU nanoseconds of every live thread of ``pid`` (first field of each task's schedstat).

    A thread that ends takes its time with it; waitress's workers and the app's writers live as long
    as the process, so a difference over a block is that block's CPU."""
    import pathlib

    total = 0
    for task in pathlib.Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(FileNotFoundError, ProcessLookupError):
            total += int((task / "schedstat").read_text().split()[0])
    return total


# --- pg_stat_statements: statements, rows and buffers per database ----------------------------


class StatementStats:
    """Cumulative (calls, rows, shared buffers hit + read) per database from pg_stat_statements, or
    nothing when the server does not preload it (``available`` is then False)."""

    def __init__(self, url: str):
        import sqlalchemy as sa

        from webapp.db import create_engine

        self.engine = create_engine(str(sa.engine.make_url(url).set(database="postgres")),
                                    isolation_level="AUTOCOMMIT")
        try:
            with self.engine.connect() as conn:
                conn.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
                conn.exec_driver_sql("SELECT 1 FROM pg_stat_statements LIMIT 1")
            self.available = True
        except sa.exc.DBAPIError as exc:
            print(f"(pg_stat_statements not available, no rows or buffers per request: {str(exc).splitlines()[0]})")
            self.available = False

    def snapshot(self, database: str) -> tuple[int, int, int]:
        import sqlalchemy as sa

        if not self.available:
            return (0, 0, 0)
        with self.engine.connect() as conn:
            row = conn.execute(sa.text(
                "SELECT coalesce(sum(s.calls), 0), coalesce(sum(s.rows), 0),"
                " coalesce(sum(s.shared_blks_hit + s.shared_blks_read), 0)"
                " FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid WHERE d.datname = :name"),
                {"name": database}).one()
        return tuple(int(value) for value in row)

    def close(self) -> None:
        self.engine.dispose()


# --- the two databases -----------------------------------------------------------------------


def prepare_pair(url: str, directory: str) -> tuple[str, str]:
    """The 1-year database at ``url`` (the demo) and a copy of it with nine more years: (url 1 y, url 10 y)."""
    import sqlalchemy as sa

    from bench_history import extend_history

    print(f"setagaya demo data loaded in {prepare_database(url):.1f} s", flush=True)
    started = time.perf_counter()
    if url.startswith("sqlite"):
        url_10 = f"sqlite:///{directory}/bench-10y.sqlite"
        # The backup API, not a file copy: a consistent image whatever the WAL holds.
        with contextlib.closing(sqlite3.connect(sa.engine.make_url(url).database)) as source, \
                contextlib.closing(sqlite3.connect(sa.engine.make_url(url_10).database)) as copy:
            source.backup(copy)
    else:
        from webapp.db import create_engine

        source = sa.engine.make_url(url)
        url_10 = str(source.set(database=f"{source.database}_10y"))
        admin = create_engine(str(source.set(database="postgres")), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{source.database}_10y"')
            conn.exec_driver_sql(f'CREATE DATABASE "{source.database}_10y" TEMPLATE "{source.database}"')
        admin.dispose()
    extend_history(url_10, 10)
    print(f"10-year copy made in {time.perf_counter() - started:.0f} s", flush=True)
    return url, url_10


# --- measuring -------------------------------------------------------------------------------


class Side:
    """One history length: its application process, the sequential client and the pg counters."""

    def __init__(self, years: int, url: str, port: int, pid: int):
        self.years, self.url, self.port, self.pid = years, url, port, pid
        self.database = url.rsplit("/", 1)[-1]


def block_cpu_ms(side: Side, call, requests: int) -> float:
    started = process_cpu_ns(side.pid)
    for _ in range(requests):
        call()
    return (process_cpu_ns(side.pid) - started) / 1e6 / requests


def page_calls(page: Page | None, sides: list[Side], context, blocks: int) -> tuple[dict, int]:
    """For each side a zero-argument request (a GET of ``page``, or a submit for ``page`` None) and
    the requests per block, sized from a warm-up so a block is ~BLOCK_CPU_MS of CPU."""
    calls = {}
    if page is None:
        per_block = 3
        for side in sides:
            pools, ready = [], 0
            for login in logins_for("facility", context, CLIENTS, offset=1):
                pool = Drafts(logged_in(side.port, login))
                ready += pool.prepare(blocks * per_block + 2 - ready)
                pools.append(pool)
                if ready >= blocks * per_block + 2:
                    break

            def submit(pools=pools):
                while not pools[-1].ready:
                    pools.pop()
                return pools[-1].submit_timed()
            calls[side.years] = submit
        time.sleep(1)  # the drafts' view and access-log records written before the first block
        return calls, per_block
    login = logins_for(page.role, context, 1)[0]
    warm = []
    for side in sides:
        calls[side.years] = get_ok(logged_in(side.port, login), page.path(context, login))
        block_cpu_ms(side, calls[side.years], 5)  # compiled statements, templates, caches
        warm.append(block_cpu_ms(side, calls[side.years], 5))
    return calls, max(2, min(40, round(BLOCK_CPU_MS / max(1.0, min(warm)))))


def measure_pair(page: Page | None, sides: list[Side], context, blocks: int, stats) -> dict:
    """``blocks`` pairs of blocks, A B then B A in turn; the ratio of each pair and the medians."""
    calls, per_block = page_calls(page, sides, context, blocks)
    counters = {side.years: stats.snapshot(side.database) if stats else None for side in sides}
    cpu = {side.years: [] for side in sides}
    for index in range(blocks):
        for side in (sides if index % 2 == 0 else sides[::-1]):
            cpu[side.years].append(block_cpu_ms(side, calls[side.years], per_block))
    low, high = (side.years for side in sides)
    result = summarise([b / a for a, b in zip(cpu[low], cpu[high])])
    result.update(per_block=per_block, cpu={years: statistics.median(values) for years, values in cpu.items()})
    if stats:
        time.sleep(1.5)  # the access-log writer's batch of the last block
        requests = blocks * per_block
        result["pg"] = {}
        for side in sides:
            after = stats.snapshot(side.database)
            result["pg"][side.years] = tuple((a - b) / requests for a, b in zip(after, counters[side.years]))
    return result


# --- the run and its table -------------------------------------------------------------------


def bench_paired(url: str, label: str, directory: str, pages: list[Page], submit: bool, blocks: int) -> dict:
    print(f"\n== paired, {label}: {url.split('@')[-1]}", flush=True)
    url_1, url_10 = prepare_pair(url, directory)
    context = read_context(url_1)
    stats = StatementStats(url_1) if not url.startswith("sqlite") else None
    if stats and not stats.available:
        stats = None
    results = {}
    with contextlib.ExitStack() as stack:
        sides = []
        for years, side_url in ((1, url_1), (10, url_10)):
            port, pid, logs = stack.enter_context(serving_app(side_url))
            sides.append(Side(years, side_url, port, pid))
            print(f"  {years} y: app pid {pid} on port {port} (logs in {logs})", flush=True)
        for page in pages + ([None] if submit else []):
            key = page.key if page else SUBMIT
            results[key] = measure_pair(page, sides, context, blocks, stats)
            # Each page's line as soon as it is measured: a run that fails later keeps what it had.
            print(f"  {key} done: {result_line(results[key])}", flush=True)
    if stats:
        stats.close()
    # Statement counts on copies at rest; the submit at a facility the timed submits left alone.
    submit_facility = context.facilities[CLIENTS + 2][0] if submit else None
    counts = {1: {}, 10: {}}
    try:
        counts = {years: count_statements(side_url, context, pages, submit_facility)
                  for years, side_url in ((1, url_1), (10, url_10))}
    except Exception as exc:  # noqa: BLE001 — the timings are worth printing without the counts
        print(f"(SQL statements not counted: {exc!r:.300})")
    print_paired(label, pages, submit, results, counts, blocks)
    return results


def result_line(r: dict) -> str:
    line = (f"1y {r['cpu'][1]:.1f} ms, 10y {r['cpu'][10]:.1f} ms, 10y/1y {r['median']:.3f}"
            f" [{r['low']:.3f}-{r['high']:.3f}] min-max {r['min']:.2f}-{r['max']:.2f} {r['decision']}")
    if "pg" in r:
        line += " pg per request (stmts, rows, buffers) " + " / ".join(
            "{:.1f}, {:.0f}, {:.0f}".format(*r["pg"][years]) for years in (1, 10))
    return line


def print_paired(label: str, pages: list[Page], submit: bool, results: dict, counts: dict, blocks: int) -> None:
    keys = [(page.key, page.label) for page in pages] + ([(SUBMIT, "report submit")] if submit else [])
    print(f"\n{label}, paired: 1 and 10 years served at once, {blocks} blocks each, alternating; CPU ms per "
          f"request of each app process (median of blocks); 10y/1y: median of the block ratios, bootstrap "
          f"95 % interval, min-max; aim at most x{AIM:.2f}")
    header = (f"{'page':<26} {'n/blk':>5} {'1y CPU':>7} {'10y CPU':>7} {'10y/1y':>6} {'95 % interval':>13}"
              f" {'min-max':>11} {'decision':>9} {'SQL 1y/10y':>10}")
    with_pg = any("pg" in r for r in results.values())
    if with_pg:
        header += f" {'pg stmts 1y/10y':>15} {'rows 1y/10y':>13} {'buffers 1y/10y':>15}"
    print(header)
    print("-" * len(header))
    for key, name in keys:
        r = results[key]
        line = (f"{name:<26} {r['per_block']:5d} {r['cpu'][1]:7.1f} {r['cpu'][10]:7.1f} {r['median']:6.3f}"
                f" {r['low']:6.3f}-{r['high']:6.3f} {r['min']:5.2f}-{r['max']:5.2f} {r['decision']:>9}"
                f" {counts[1].get(key, '')!s:>4}/{counts[10].get(key, '')!s:<5}")
        if "pg" in r:
            (s1, r1, b1), (s10, r10, b10) = r["pg"][1], r["pg"][10]
            line += f" {s1:7.1f}/{s10:<7.1f} {r1:6.0f}/{r10:<6.0f} {b1:7.0f}/{b10:<7.0f}"
        print(line)
    print("(n/blk: requests per block; pg columns per request from pg_stat_statements, the access-log writer's"
          " statements included)", flush=True)
