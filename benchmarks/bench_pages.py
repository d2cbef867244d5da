"""Benchmark (not a test): every page of issue 19's table at ward scale, 1 and 10 years of history.

Issue 2 item 13, issue 19 items 4 and 6. For each database chosen (SQLite in a
temporary directory; PostgreSQL from MIMAMORI_BENCH_DATABASE_URL, a throwaway
database whose schema ``public`` is dropped) this script

1. migrates it and loads the ``setagaya`` demo (5,000 children, 500 facilities,
   a year of reports); for each ``--years`` N > 1 it then copies that year N - 1
   times into the years before (bench_history.extend_history);
2. starts the real application with ``mimamori serve`` (waitress, 8 threads) in a
   subprocess, and the trivial Pyramid "hello" application (hello_app.py) the same way;
3. for each page — daily attendance, facility home /today, monthly report list,
   alerts list, child timeline, submission matrix, CSV export of 3 months, access
   log, and report submit (POST on fresh drafts saved beforehand, untimed) — measures
   - sequentially (one logged-in user): median and p95 ms over loopback, and the
     CPU ms per request of the app *process* (/proc/<pid>/stat, all its threads,
     so the background access-log and view-record writers count too);
   - 16 users at once, each logged in on its own keep-alive connection: successful
     requests per second, its ratio to hello's in the same run, and the errors;
4. counts SQL statements per request in-process (WebTest, a ``before_cursor_execute``
   listener; the access-log row written synchronously so it is counted);
5. prints the app process's memory (RSS, and USS: its private pages) after start-up
   and after the run, and the CPU growth from the fewest to the most years.

``--paired`` instead serves 1 and 10 years at once and measures them in alternating blocks
(bench_paired.py), to decide the +10 % growth aim under a noisy machine's load.

``--soak SECONDS`` instead runs the GET pages mixed (16 users, one page each) for
that long and prints RSS/USS every 30 s and the growth (issue 19 item 6).

    .venv/bin/python benchmarks/bench_pages.py                       # both databases, 1 and 10 years: 15-30 min each
    .venv/bin/python benchmarks/bench_pages.py --db sqlite --years 1 --pages export matrix --samples 20
    .venv/bin/python benchmarks/bench_pages.py --db sqlite --years 10 --soak 600
    MIMAMORI_BENCH_DATABASE_URL=postgresql+psycopg://user@host/throwaway .venv/bin/python benchmarks/bench_pages.py

Nothing is asserted: the numbers are printed as tables, with the aims of issue 19
marked (daily pages >= 5 % of hello, matrix and export >= 2 %, CPU per request at
most +10 % from 1 to 10 years).
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import datetime as dt
import logging
import os
import pathlib
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import typing
import urllib.request

REPO = pathlib.Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "benchmarks")]

from http_client import Client, free_port  # noqa: E402  (after the path set-up)

SESSION_SECRET = "benchmark-session-secret-" + "k" * 32
# In-process (WebTest) requests as a browser on the app's default public URL (https://localhost)
# sends them: the CSRF check wants a form's Origin to be that URL.
BROWSER_ENVIRON = {"wsgi.url_scheme": "https", "HTTP_HOST": "localhost", "HTTP_ORIGIN": "https://localhost",
                   "REMOTE_ADDR": "127.0.0.1"}
THREADS = 8  # waitress threads, for both applications (as development.ini)
CLIENTS = 16


# --- servers -------------------------------------------------------------------


def write_ini(directory: pathlib.Path, url: str, port: int) -> pathlib.Path:
    ini = directory / "bench.ini"
    ini.write_text(
        "[app:main]\nuse = egg:mimamori\n"
        f"sqlalchemy.url = {url.replace('%', '%%')}\n"
        "mimamori.secure_cookies = false\n"
        "mimamori.second_factor_roles =\n"
        f"mimamori.public_url = http://127.0.0.1:{port}\n"
        f"\n[server:main]\nuse = egg:waitress#main\nlisten = 127.0.0.1:{port}\nthreads = {THREADS}\n",
        encoding="utf-8",
    )
    return ini


def server_env() -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MIMAMORI_")}
    env["MIMAMORI_SESSION_SECRET"] = SESSION_SECRET
    return env


@contextlib.contextmanager
def serving(command: list[str], port: int, log_path: pathlib.Path, health: str):
    with log_path.open("w") as log:
        process = subprocess.Popen(command, cwd=REPO, env=server_env(), stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 60
            while True:
                if process.poll() is not None:
                    raise RuntimeError(f"{command} exited; see {log_path}")
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}{health}", timeout=2):
                        break
                except OSError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.2)
            yield process
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()


# --- database --------------------------------------------------------------------


def fresh_schema(url: str):
    """An engine on ``url`` with the schema migrated from nothing (PostgreSQL: its schema "public"
    dropped first, so only a throwaway database)."""
    from webapp import migrate
    from webapp.db import create_engine

    engine = create_engine(url)
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.exec_driver_sql("DROP SCHEMA IF EXISTS public CASCADE")
            conn.exec_driver_sql("CREATE SCHEMA public")
    migrate.upgrade(url)
    return engine


def in_process_timings(web, path: str, loads: int):
    """Load ``path`` once to warm up, then ``loads`` times in this process (WebTest): the last
    page and the median wall and CPU milliseconds (CPU is the steadier number on a busy machine)."""
    page = web.get(path)
    times, cpu = [], []
    for _ in range(loads):
        started, started_cpu = time.perf_counter(), time.process_time()
        page = web.get(path)
        times.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - started_cpu) * 1000)
    return page, statistics.median(times), statistics.median(cpu)


def caseworker_web(url: str, login: str):
    """The app in this process (WebTest, access log written synchronously and not printed),
    logged in as the demo caseworker ``login``."""
    return webtest_client(in_process_app(url)[0], login)


def prepare_database(url: str, **load_options) -> float:
    """Empty (PostgreSQL), migrate and load the setagaya demo; returns the load's seconds.

    ``load_options`` go to ``demo.load`` (bench_alert_sweep.py fixes ``now``)."""
    import transaction
    from sqlalchemy.orm import sessionmaker

    from webapp import demo
    from webapp.db import session_for

    engine = fresh_schema(url)
    started = time.perf_counter()
    with transaction.manager:
        demo.load(session_for(sessionmaker(bind=engine), transaction.manager), scale="setagaya", **load_options)
    seconds = time.perf_counter() - started
    engine.dispose()
    return seconds


def organisations(url: str) -> dict:
    """Logins to use: facilities with the most and the fewest children, caseworkers by centre size."""
    import sqlalchemy as sa

    from webapp.db import create_engine

    engine = create_engine(url)
    with engine.connect() as conn:
        facility_rows = conn.execute(sa.text(
            "SELECT lower(f.code), f.facility_type, COUNT(c.id) FROM facilities f "
            "JOIN children c ON c.facility_id = f.id AND c.monitoring_end IS NULL "
            "GROUP BY f.code, f.facility_type ORDER BY COUNT(c.id) DESC, f.code")).all()
        centre_rows = conn.execute(sa.text(
            "SELECT ce.code, COUNT(DISTINCT c.facility_id) FROM centres ce "
            "JOIN children c ON c.centre_id = ce.id GROUP BY ce.code ORDER BY 2 DESC")).all()
    engine.dispose()
    return {
        "facilities": [(login, count) for login, _type, count in facility_rows],
        "centres": [(code, count) for code, count in centre_rows],
    }


# --- measurements ----------------------------------------------------------------


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def sequential(call, samples: int, warmup: int = 10, pid: int | None = None) -> dict:
    """Median and p95 ms of ``samples`` calls after ``warmup``; with ``pid``, also the CPU ms per
    call that process spent (all its threads: the request's and the background writers')."""
    for _ in range(warmup):
        call()
    cpu_before = process_cpu_seconds(pid) if pid else 0.0
    times = [call() for _ in range(samples)]
    result = timing_summary(times)
    if pid:
        result["cpu"] = (process_cpu_seconds(pid) - cpu_before) * 1000 / len(times)
    return result


def timing_summary(seconds: list[float]) -> dict:
    return {"median": statistics.median(seconds) * 1000, "p95": percentile(seconds, 0.95) * 1000, "n": len(seconds)}


# --- the app process: CPU and memory from /proc ---------------------------------------

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of ``pid`` so far (all threads), from /proc/<pid>/stat."""
    stat = pathlib.Path(f"/proc/{pid}/stat").read_text()
    # The command name (field 2) may hold spaces: the fields after its closing bracket.
    fields = stat[stat.rindex(")") + 2:].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime, stime (fields 14 and 15)


def parse_memory(smaps_rollup: str) -> dict:
    """RSS and USS (private pages: what stopping the process would free) in MB from smaps_rollup."""
    kb = {}
    for line in smaps_rollup.splitlines():
        name, _, rest = line.partition(":")
        parts = rest.split()
        if len(parts) == 2 and parts[1] == "kB":
            kb[name] = int(parts[0])
    return {"rss": kb["Rss"] / 1024, "uss": (kb.get("Private_Clean", 0) + kb.get("Private_Dirty", 0)) / 1024}


def process_memory(pid: int) -> dict:
    return parse_memory(pathlib.Path(f"/proc/{pid}/smaps_rollup").read_text())


class Outcome:
    NOTHING_LEFT = "nothing left"


def concurrent(workers: list, seconds: float) -> tuple[float, int]:
    """(successful requests per second, failed requests) with each worker in its own thread.

    A worker does one request and returns True (success), False (an error
    status such as 500) or Outcome.NOTHING_LEFT.
    """
    barrier = threading.Barrier(len(workers) + 1)
    stop = threading.Event()
    done = [0] * len(workers)
    failed = [0] * len(workers)
    errors: list[BaseException] = []

    def run(index, work):
        barrier.wait()
        try:
            while not stop.is_set():
                outcome = work()
                if outcome is Outcome.NOTHING_LEFT:
                    return
                if outcome:
                    done[index] += 1
                else:
                    failed[index] += 1
        except BaseException as exc:  # noqa: BLE001 — re-raised after the run
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i, w), daemon=True) for i, w in enumerate(workers)]
    for thread in threads:
        thread.start()
    barrier.wait()
    started = time.perf_counter()
    while time.perf_counter() - started < seconds and any(t.is_alive() for t in threads):
        time.sleep(0.05)
    stop.set()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    if errors:
        raise errors[0]
    return sum(done) / elapsed, sum(failed)


def get_ok(client: Client, path: str):
    """A sequential probe: the request's seconds (fails loudly on an error status)."""
    def call():
        status, _headers, _body, seconds = client.request("GET", path)
        assert status == 200, (path, status)
        return seconds
    return call


def get_load(client: Client, path: str):
    """A concurrent worker: True for 200, False for anything else."""
    return lambda: client.request("GET", path)[0] == 200


class Drafts:
    """Fresh drafts to submit: for each editable child, save a draft (untimed) and keep its form."""

    def __init__(self, client: Client):
        self.client = client
        self.ready: list[tuple[str, dict]] = []

    def editable_paths(self) -> list[str]:
        status, _h, page, _s = self.client.request("GET", "/reports/period/current")
        assert status == 200
        return sorted(set(re.findall(r'href="[^"]*?(/reports/period/\d{4}-\d{2}/children/\d+)"', page)))

    # A complete, valid report: one day absent through illness, family told us.
    CONTENT = {
        "days_expected": "20", "days_attended": "19", "days_absent": "1", "late_count": "0",
        "early_leave_count": "0", "absent_illness": "1", "absent_family": "0", "absent_bereavement": "0",
        "absent_suspension": "0", "absent_unknown": "0", "absent_other": "0", "absence_note": "",
        "family_contact": "yes", "condition": "", "nothing_special": "1",
    }

    def prepare(self, limit: int | None = None) -> int:
        """Save up to ``limit`` drafts (all editable children without one)."""
        for path in self.editable_paths()[:limit]:
            form = {**self.client.form(path), **self.CONTENT, "action": "save"}
            status, _h, body, _s = self.client.request("POST", path, form)
            assert status == 303, (path, status, body[:300])
            # Reload: the saved draft's form carries a new edit token.
            self.ready.append((path, {**self.client.form(path), **self.CONTENT, "action": "submit"}))
        return len(self.ready)

    def submit_timed(self) -> float | None:
        """Submit one prepared draft; its seconds, or None when none is left."""
        if not self.ready:
            return None
        path, form = self.ready.pop()
        status, _h, body, seconds = self.client.request("POST", path, form)
        assert status == 303, (path, status, body[:300])
        return seconds

    def submit_load(self):
        """A concurrent worker (see :func:`concurrent`)."""
        if not self.ready:
            return Outcome.NOTHING_LEFT
        path, form = self.ready.pop()
        return self.client.request("POST", path, form)[0] == 303


# --- the pages -------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Page:
    """A page measured by GET: who requests it and the path for a given login."""

    key: str
    label: str
    role: str  # "facility", "caseworker" or "auditor": whose logins request it
    aim: float  # the least throughput against hello that issue 19 asks for (0: no aim)
    path: typing.Callable[["Context", str], str]


@dataclasses.dataclass
class Context:
    """What the paths and logins are made of, read from the loaded database."""

    facilities: list[tuple[str, int, int]]  # (login, id, children), most children first
    centres: list[tuple[str, int]]  # (code, facilities), most facilities first
    attendance_day: dt.date  # the latest day with entries
    last_period: dt.date  # the latest report month
    child_of_centre: dict[str, int]  # a child to show the timeline of, per centre

    @property
    def facility_ids(self) -> dict[str, int]:
        return {login: facility_id for login, facility_id, _n in self.facilities}

    def months_before_last(self, months: int) -> dt.date:
        return add_months(self.last_period, -months)


def add_months(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + months
    return day.replace(year=index // 12, month=index % 12 + 1, day=1)


def centre_of(caseworker_login: str) -> str:
    """``cw-<centre>-<n>`` -> ``<centre>``."""
    return caseworker_login[len("cw-"):].rsplit("-", 1)[0]


DAILY, HEAVY = 0.05, 0.02  # issue 19's aims: daily pages >= 5 % of hello, matrix and export >= 2 %
PAGES = [
    Page("attendance", "daily attendance", "facility", DAILY,
         lambda c, login: f"/attendance/facilities/{c.facility_ids[login]}/{c.attendance_day:%Y-%m-%d}"),
    Page("today", "facility home /today", "facility", DAILY, lambda c, login: "/today"),
    Page("period", "monthly report list", "facility", DAILY, lambda c, login: "/reports/period/current"),
    Page("alerts", "alerts list", "caseworker", DAILY, lambda c, login: "/alerts"),
    Page("timeline", "child timeline", "caseworker", DAILY,
         lambda c, login: f"/children/{c.child_of_centre[centre_of(login)]}/timeline"
                          f"?month={c.months_before_last(1):%Y-%m}"),
    Page("matrix", "submission matrix", "caseworker", HEAVY, lambda c, login: "/centre/submissions"),
    Page("export", "CSV export, 3 months", "caseworker", HEAVY,
         lambda c, login: f"/export/reports.csv?from={c.months_before_last(3):%Y-%m}"
                          f"&to={c.months_before_last(1):%Y-%m}"),
    Page("access_log", "access log (auditor)", "auditor", 0.0, lambda c, login: "/logs/access"),
]
SUBMIT = "submit"  # report submit: a POST on fresh drafts, measured apart (class Drafts)
PAGE_KEYS = [p.key for p in PAGES] + [SUBMIT]


def as_date(value) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value)[:10])


def read_context(url: str) -> Context:
    import sqlalchemy as sa

    from webapp.db import create_engine

    engine = create_engine(url)
    with engine.connect() as conn:
        facilities = [tuple(row) for row in conn.execute(sa.text(
            "SELECT lower(f.code), f.id, COUNT(c.id) FROM facilities f "
            "JOIN children c ON c.facility_id = f.id AND c.monitoring_end IS NULL "
            "GROUP BY f.code, f.id ORDER BY COUNT(c.id) DESC, f.code"))]
        centres = [tuple(row) for row in conn.execute(sa.text(
            "SELECT ce.code, COUNT(DISTINCT c.facility_id) FROM centres ce "
            "JOIN children c ON c.centre_id = ce.id GROUP BY ce.code ORDER BY 2 DESC, ce.code"))]
        day = conn.execute(sa.text("SELECT max(day) FROM attendance_entries")).scalar()
        last_period = conn.execute(sa.text("SELECT max(period) FROM monthly_reports")).scalar()
        # Per centre the child with the most daily entries (the demo's entries are at a few facilities).
        child_of_centre = {}
        for code, child_id, _entries in conn.execute(sa.text(
                "SELECT ce.code, c.id, COUNT(a.id) FROM children c JOIN centres ce ON ce.id = c.centre_id "
                "LEFT JOIN attendance_entries a ON a.child_id = c.id GROUP BY ce.code, c.id "
                "ORDER BY ce.code, COUNT(a.id) DESC, c.id")):
            child_of_centre.setdefault(code, child_id)
    engine.dispose()
    return Context(facilities, centres, as_date(day) if day else dt.date.today(), as_date(last_period),
                   child_of_centre)


def logins_for(role: str, context: Context, count: int, offset: int = 0) -> list[str]:
    """``count`` logins of ``role``: the largest facilities (from ``offset``), caseworkers of every
    centre in turn (largest centre first), or the one auditor (a session each)."""
    if role == "facility":
        return [login for login, _id, _n in context.facilities[offset:offset + count]]
    if role == "caseworker":
        codes = [code for code, _n in context.centres]
        return [f"cw-{codes[i % len(codes)]}-{i // len(codes) + 1}" for i in range(count)]
    return ["auditor"] * count


# --- SQL statements per request ----------------------------------------------------------


def in_process_app(url: str):
    """The application on ``url`` in this process, for WebTest: (WSGI app, its engine). The access-log
    row is written on the request's own thread, so its statements belong to the request (production
    batches these rows on a background thread); its JSON lines on stdout are silenced."""
    from webapp.config import configure
    from webapp.settings import build_settings

    settings = build_settings({
        "sqlalchemy.url": url, "mimamori.session_secret": SESSION_SECRET,
        "mimamori.secure_cookies": "false", "mimamori.second_factor_roles": "",
        "mimamori.access_log_writer": "sync",
    }, environ={})
    config = configure(settings)
    logging.getLogger("mimamori.access").disabled = True
    return config.make_wsgi_app(), config.registry["db.engine"]


def webtest_client(app, login: str):
    """A WebTest client of ``app`` logged in as the demo account ``login``."""
    from webtest import TestApp

    from webapp.demo import DEMO_PASSWORD

    web = TestApp(app, extra_environ=BROWSER_ENVIRON)
    form = web.get("/login").forms[0]
    form["login"], form["password"] = login, DEMO_PASSWORD
    assert form.submit().status_int == 303
    return web


def count_statements(url: str, context: Context, pages: list[Page], submit_facility: str | None) -> dict:
    """SQL statements per request, in-process (WebTest) against the same database: each page for
    its sequential user, the report list for the smallest facility too (``period_small``), and a
    submit at ``submit_facility``."""
    from sqlalchemy import event

    app, engine = in_process_app(url)
    statements = [0]
    event.listen(engine, "before_cursor_execute", lambda *args: statements.__setitem__(0, statements[0] + 1))

    def client(login):
        return webtest_client(app, login)

    def counted(call):
        statements[0] = 0
        call()
        return statements[0]

    counts = {}
    measured = [(page.key, page, logins_for(page.role, context, 1)[0]) for page in pages]
    if any(page.key == "period" for page in pages):
        period = next(page for page in pages if page.key == "period")
        measured.append(("period_small", period, context.facilities[-1][0]))
    for key, page, login in measured:
        web = client(login)
        path = page.path(context, login)
        web.get(path)  # warm caches (compiled statements, templates)
        counts[key] = counted(lambda: web.get(path))

    if submit_facility:
        # A child of a facility the HTTP runs left alone; save a draft, then count the submit.
        web = client(submit_facility)
        page = web.get("/reports/period/current")
        path = re.search(r'href="[^"]*?(/reports/period/\d{4}-\d{2}/children/\d+)"', page.text).group(1)

        def report_form():
            return next(f for f in web.get(path).forms.values() if f.action.endswith(path))

        form = report_form()
        for name, value in (("days_expected", "20"), ("days_attended", "20"), ("days_absent", "0")):
            form[name] = value
        # 様子 or 特記事項なし, not both: a returned report's form brings its old 様子 back.
        form["condition"], form["nothing_special"] = "", True
        assert form.submit("action", value="save").status_int == 303
        form = report_form()
        counts[SUBMIT] = counted(lambda: form.submit("action", value="submit"))
    engine.dispose()
    return counts


# --- the run -------------------------------------------------------------------------


@contextlib.contextmanager
def serving_app(url: str):
    """The application on ``url`` served by waitress in its own process: yields (port, process id,
    log directory)."""
    tmp = pathlib.Path(tempfile.mkdtemp(prefix="mimamori-bench-"))
    port = free_port()
    ini = write_ini(tmp, url, port)
    with serving([sys.executable, "-m", "webapp.cli", "-c", str(ini), "serve"], port, tmp / "app.log",
                 "/healthz") as app:
        yield port, app.pid, tmp


@contextlib.contextmanager
def servers(url: str):
    """The application and the hello baseline, each served by waitress in its own process:
    yields (app port, app process id, hello port, log directory)."""
    hello_port = free_port()
    with serving_app(url) as (app_port, pid, tmp), \
            serving([sys.executable, str(REPO / "benchmarks" / "hello_app.py"), f"127.0.0.1:{hello_port}",
                     str(THREADS)], hello_port, tmp / "hello.log", "/"):
        yield app_port, pid, hello_port, tmp


def logged_in(port: int, login: str) -> Client:
    client = Client(port)
    client.login(login)
    return client


def measure_submit(port: int, pid: int, context: Context, offset: int, samples: int, seconds: float) -> dict:
    """Submit on fresh drafts at 20 facilities from ``offset`` (drafts saved beforehand, untimed):
    4 facilities' drafts one after the other, then 16 facilities at once."""
    per_pool = max(1, samples // 4)
    pools = []
    for index, login in enumerate(logins_for("facility", context, CLIENTS + 4, offset)):
        pool = Drafts(logged_in(port, login))
        # Enough for the sequential samples; at most 12 each for the concurrent run (~190 submits).
        pool.prepare(per_pool if index < 4 else 12)
        pools.append(pool)
    sequential_pools, concurrent_pools = pools[:4], pools[4:]
    cpu_before = process_cpu_seconds(pid)
    submit_times = [t for pool in sequential_pools for t in iter(pool.submit_timed, None)]
    result = timing_summary(submit_times)
    result["cpu"] = (process_cpu_seconds(pid) - cpu_before) * 1000 / len(submit_times)
    result["concurrent_n"] = sum(len(p.ready) for p in concurrent_pools)
    result["rps"], result["errors"] = concurrent([p.submit_load for p in concurrent_pools], seconds)
    return result


def measure_page(page: Page, port: int, pid: int, context: Context, samples: int, seconds: float) -> dict:
    """The page sequentially (its first login) and with 16 users at once."""
    logins = logins_for(page.role, context, CLIENTS)
    first = logged_in(port, logins[0])
    result = sequential(get_ok(first, page.path(context, logins[0])), samples, pid=pid)
    workers = [get_load(logged_in(port, login), page.path(context, login)) for login in logins]
    result["rps"], result["errors"] = concurrent(workers, seconds)
    return result


def bench_years(url: str, label: str, years: int, run_index: int, pages: list[Page], submit: bool,
                seconds: float, samples: int) -> dict:
    """Every page chosen, measured at the history loaded now; prints the table and returns the results."""
    context = read_context(url)
    offset = 1 + run_index * (CLIENTS + 6)  # fresh facilities for each run's submits
    results = {}
    with servers(url) as (app_port, pid, hello_port, logs):
        memory_idle = process_memory(pid)
        hello = Client(hello_port)
        results["hello"] = sequential(get_ok(hello, "/"), samples)
        results["hello"]["rps"], results["hello"]["errors"] = concurrent(
            [get_load(Client(hello_port), "/") for _ in range(CLIENTS)], seconds)
        for page in pages:
            results[page.key] = measure_page(page, app_port, pid, context, samples, seconds)
            print(f"  {page.key} done", flush=True)
        if submit:
            results[SUBMIT] = measure_submit(app_port, pid, context, offset, samples, seconds)
        memory = process_memory(pid)
    counts = count_statements(url, context, pages, context.facilities[offset + CLIENTS + 5][0] if submit else None)
    print_table(label, years, context, pages, submit, results, counts, samples)
    print(f"app process memory: after start-up RSS {memory_idle['rss']:.0f} MB, USS {memory_idle['uss']:.0f} MB;"
          f" after the run RSS {memory['rss']:.0f} MB, USS {memory['uss']:.0f} MB   (logs in {logs})", flush=True)
    results["memory"] = memory
    return results


def aim_mark(ratio: float, aim: float) -> str:
    if not aim:
        return "-"
    return "ok" if ratio >= aim else f"< {aim:.0%}"


def print_table(label, years, context, pages, submit, results, counts, samples) -> None:
    hello_rps = results["hello"]["rps"]
    largest_login, _id, largest_n = context.facilities[0]
    rows = [("hello (baseline)", results["hello"], None, 0.0)]
    rows += [(page.label, results[page.key], counts.get(page.key), page.aim) for page in pages]
    if submit:
        rows.append(("report submit (fresh draft)", results[SUBMIT], counts.get(SUBMIT), DAILY))
    print(f"\n{label}, {years} year(s) of history: waitress threads={THREADS}, {CLIENTS} concurrent users, "
          f"{os.cpu_count()} CPUs; ms over loopback, {samples} sequential samples; "
          f"facility pages as {largest_login} ({largest_n} children), caseworker pages as "
          f"cw-{context.centres[0][0]}-1 ({context.centres[0][1]} facilities)")
    header = (f"{'page':<30} {'req/s':>7} {'vs hello':>8} {'aim':>5} {'median':>7} {'p95':>7} "
              f"{'CPU ms':>7} {'SQL':>4} {'errors':>6}")
    print(header)
    print("-" * len(header))
    for name, r, sql, aim in rows:
        ratio = r["rps"] / hello_rps
        print(f"{name:<30} {r['rps']:7.1f} {ratio:8.2%} {aim_mark(ratio, aim) if sql is not None else '':>5}"
              f" {r['median']:7.1f} {r['p95']:7.1f} {r.get('cpu', 0.0):7.1f}"
              f" {'' if sql is None else sql:>4} {r['errors']:6d}")
    if "period_small" in counts:
        print(f"(SQL: the report list {counts['period']} statements for {largest_n} children, "
              f"{counts['period_small']} for {context.facilities[-1][2]})")
    if submit:
        print(f"(concurrent submit: {results[SUBMIT]['concurrent_n']} prepared drafts; "
              f"submit's median/p95/CPU over {results[SUBMIT]['n']} sequential submits)")


def print_growth(label: str, by_years: dict[int, dict], keys: list[str]) -> None:
    """CPU ms per request at the fewest and the most years, and the growth (aim: at most +10 %)."""
    low, high = min(by_years), max(by_years)
    if low == high:
        return
    print(f"\n{label}: CPU ms per request, {low} -> {high} years (aim: at most +10 %)")
    for key in keys:
        before, after = by_years[low][key]["cpu"], by_years[high][key]["cpu"]
        growth = (after - before) / before if before else 0.0
        print(f"  {key:<12} {before:7.1f} {after:7.1f} {growth:+7.1%} {'ok' if growth <= 0.10 else 'GROWS'}")


def bench(url: str, label: str, years_list: list[int], pages: list[Page], submit: bool,
          seconds: float, samples: int) -> None:
    print(f"\n== {label}: {url.split('@')[-1]}", flush=True)
    load_seconds = prepare_database(url)
    print(f"setagaya demo data loaded in {load_seconds:.1f} s", flush=True)
    by_years = {}
    for run_index, years in enumerate(sorted(years_list)):
        if years > 1:
            from bench_history import extend_history

            started = time.perf_counter()
            extend_history(url, years)
            print(f"history extended to {years} years in {time.perf_counter() - started:.0f} s", flush=True)
        by_years[years] = bench_years(url, label, years, run_index, pages, submit, seconds, samples)
    print_growth(label, by_years, [p.key for p in pages] + ([SUBMIT] if submit else []))


# --- soak: memory over a long mixed load ------------------------------------------------------


def soak(url: str, label: str, years: int, pages: list[Page], duration: float, every: float = 30.0) -> None:
    """16 users, each on one of ``pages`` in turn, for ``duration`` s; the app process's RSS and USS
    every ``every`` seconds and the growth from the first sample after warm-up to the last."""
    print(f"\n== soak, {label}: {url.split('@')[-1]}", flush=True)
    print(f"setagaya demo data loaded in {prepare_database(url):.1f} s", flush=True)
    if years > 1:
        from bench_history import extend_history

        extend_history(url, years)
    context = read_context(url)
    with servers(url) as (port, pid, _hello_port, logs):
        workers, served = [], [0]
        for index in range(CLIENTS):
            page = pages[index % len(pages)]
            login = logins_for(page.role, context, index + 1)[index]
            load = get_load(logged_in(port, login), page.path(context, login))

            def counted(load=load):
                ok = load()
                served[0] += 1
                return ok
            workers.append(counted)
        samples = [(0.0, process_memory(pid), 0)]
        print(f"{'s':>5} {'requests':>9} {'RSS MB':>7} {'USS MB':>7}   (pages: {', '.join(p.key for p in pages)})")
        print(f"{0:5.0f} {0:9d} {samples[0][1]['rss']:7.1f} {samples[0][1]['uss']:7.1f}", flush=True)
        stop = threading.Event()

        def sample():
            started = time.monotonic()
            while not stop.wait(every - (time.monotonic() - started) % every):
                memory = process_memory(pid)
                samples.append((time.monotonic() - started, memory, served[0]))
                print(f"{samples[-1][0]:5.0f} {served[0]:9d} {memory['rss']:7.1f} {memory['uss']:7.1f}", flush=True)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        rps, errors = concurrent(workers, duration)
        stop.set()
        sampler.join()
    print_soak_summary(samples, rps, errors, logs)


def print_soak_summary(samples, rps, errors, logs) -> None:
    growth = soak_growth(samples)
    print(f"{rps:.1f} req/s, {errors} errors; RSS start-up {samples[0][1]['rss']:.1f} MB, "
          f"after the first interval {growth['first']:.1f} MB, at the end {growth['last']:.1f} MB: "
          f"{growth['growth']:+.1f} MB since the first interval, "
          f"{growth['second_half']:+.1f} MB over the second half   (logs in {logs})", flush=True)


def soak_growth(samples: list[tuple[float, dict, int]]) -> dict:
    """RSS growth of a soak: from the first sample under load (the first includes warming caches)
    to the last, and over the second half of the samples under load (steady state)."""
    loaded = samples[1:] or samples
    first, last = loaded[0][1]["rss"], loaded[-1][1]["rss"]
    middle = loaded[len(loaded) // 2][1]["rss"]
    return {"first": first, "last": last, "growth": last - first, "second_half": last - middle}


# --- command line -------------------------------------------------------------------------


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="duration of each concurrent run")
    parser.add_argument("--samples", type=int, default=100, help="sequential requests per page")
    parser.add_argument("--db", nargs="+", choices=("sqlite", "postgresql"), default=["sqlite", "postgresql"],
                        help="databases (PostgreSQL: MIMAMORI_BENCH_DATABASE_URL, a throwaway database)")
    parser.add_argument("--years", nargs="+", type=int, default=[1, 10], help="years of history (1 = the demo)")
    parser.add_argument("--pages", nargs="+", choices=PAGE_KEYS, default=PAGE_KEYS)
    parser.add_argument("--soak", type=float, metavar="SECONDS",
                        help="instead: mixed load of the GET pages for SECONDS on the first --db at the "
                             "most --years, printing the app process's memory every 30 s")
    parser.add_argument("--paired", action="store_true",
                        help="instead: 1 and 10 years served at once and measured in alternating blocks, "
                             "deciding the +10 %% CPU growth aim per page under noise (bench_paired.py)")
    parser.add_argument("--blocks", type=int, default=20, help="with --paired: pairs of blocks per page")
    args = parser.parse_args(argv)
    pages = [page for page in PAGES if page.key in args.pages]
    pg_url = os.environ.get("MIMAMORI_BENCH_DATABASE_URL")
    if "postgresql" in args.db and not pg_url:
        if args.db == ["postgresql"]:
            parser.error("--db postgresql needs MIMAMORI_BENCH_DATABASE_URL")
        print("(PostgreSQL skipped: MIMAMORI_BENCH_DATABASE_URL is not set)")
    targets = [("SQLite", None) if db == "sqlite" else ("PostgreSQL", pg_url)
               for db in args.db if db == "sqlite" or pg_url]
    for label, url in targets:
        with tempfile.TemporaryDirectory(prefix="mimamori-bench-db-") as directory:
            url = url or f"sqlite:///{directory}/bench.sqlite"
            if args.paired:
                from bench_paired import bench_paired

                bench_paired(url, label, directory, pages, SUBMIT in args.pages, args.blocks)
                continue
            if args.soak:
                soak(url, label, max(args.years), pages, args.soak)
                return 0
            bench(url, label, args.years, pages, SUBMIT in args.pages, args.seconds, args.samples)
    return 0


if __name__ == "__main__":
    sys.exit(main())
