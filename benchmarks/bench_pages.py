"""Benchmark (not a test): the pages that take the monthly deadline's load.

Issue 2 item 13. For a fresh database (SQLite in a temporary directory, and
PostgreSQL too when MIMAMORI_BENCH_DATABASE_URL is set) this script

1. migrates it and loads the ``setagaya`` demo data (5,000 children, 500 facilities,
   a year of reports) — the load time is printed too;
2. starts the real application with ``mimamori serve`` (waitress) on a free
   loopback port in a subprocess, and a trivial Pyramid "hello" application
   (benchmarks/hello_app.py) served by waitress the same way, same thread count;
3. logs in over HTTP as facility accounts and caseworkers and measures
   - the facility's period page  GET  /reports/period/current
   - report submit               POST /reports/period/<p>/children/<id>, action=submit,
                                  each time on a fresh draft saved just before (untimed)
   - the caseworker's matrix     GET  /centre/submissions
   sequentially: median and p95 response time over loopback (the client's
   wall time per request; the hello app's time is the floor of that method);
   concurrently: requests per second with 16 client threads, each its own
   logged-in user and keep-alive connection, as a ratio to the hello app's
   requests per second measured the same way in the same run;
4. counts SQL statements per request in-process: the same requests through
   WebTest against the same database, with a ``before_cursor_execute``
   listener on the application's engine (every statement, including session
   lookup and the access log). Each page is counted for a small and a large
   organisation, to show whether the count depends on the rows shown.

Nothing is asserted: the numbers are printed as a table. Run it with

    .venv/bin/python benchmarks/bench_pages.py [--seconds 5] [--samples 200]
    MIMAMORI_BENCH_DATABASE_URL=postgresql+psycopg://user@host/throwaway .venv/bin/python benchmarks/bench_pages.py

The PostgreSQL database is emptied (schema ``public`` dropped) and migrated:
give it a throwaway database.
"""

from __future__ import annotations

import argparse
import contextlib
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
            yield
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
    from webtest import TestApp

    from webapp.config import configure
    from webapp.demo import DEMO_PASSWORD
    from webapp.settings import build_settings

    settings = build_settings({
        "sqlalchemy.url": url, "mimamori.session_secret": SESSION_SECRET,
        "mimamori.secure_cookies": "false", "mimamori.second_factor_roles": "",
        "mimamori.access_log_writer": "sync",
    }, environ={})
    logging.getLogger("mimamori.access").disabled = True
    web = TestApp(configure(settings).make_wsgi_app(), extra_environ=BROWSER_ENVIRON)
    form = web.get("/login").forms[0]
    form["login"], form["password"] = login, DEMO_PASSWORD
    assert form.submit().status_int == 303
    return web


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


def sequential(call, samples: int, warmup: int = 10) -> dict:
    for _ in range(warmup):
        call()
    times = [call() for _ in range(samples)]
    return {"median": statistics.median(times) * 1000, "p95": percentile(times, 0.95) * 1000, "n": len(times)}


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

    def prepare(self) -> int:
        for path in self.editable_paths():
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


def count_statements(url: str, facility_small: str, facility_large: str, facility_spare: str,
                     centre_small: str, centre_large: str) -> dict:
    """SQL statements per request, in-process (WebTest) against the same database."""
    from sqlalchemy import event
    from webtest import TestApp

    from webapp.config import configure
    from webapp.demo import DEMO_PASSWORD
    from webapp.settings import build_settings

    settings = build_settings({
        "sqlalchemy.url": url, "mimamori.session_secret": SESSION_SECRET,
        "mimamori.secure_cookies": "false", "mimamori.second_factor_roles": "",
        # The access-log row on the request's own thread, so it is counted with
        # the request (production batches these rows on a background thread).
        "mimamori.access_log_writer": "sync",
    }, environ={})
    config = configure(settings)
    # The access log's JSON lines on stdout would drown the table; its
    # database rows (and their statements) are still written and counted.
    logging.getLogger("mimamori.access").disabled = True
    engine = config.registry["db.engine"]
    app = config.make_wsgi_app()
    statements = [0]
    event.listen(engine, "before_cursor_execute", lambda *args: statements.__setitem__(0, statements[0] + 1))

    def client(login):
        web = TestApp(app, extra_environ=BROWSER_ENVIRON)
        form = web.get("/login").forms[0]
        form["login"], form["password"] = login, DEMO_PASSWORD
        assert form.submit().status_int == 303
        return web

    def counted(call):
        statements[0] = 0
        call()
        return statements[0]

    counts = {}
    for label, login in (("period_small", facility_small), ("period_large", facility_large)):
        web = client(login)
        web.get("/reports/period/current")  # warm caches (compiled statements, templates)
        counts[label] = counted(lambda: web.get("/reports/period/current"))
    for label, login in (("matrix_small", f"cw-{centre_small}-1"), ("matrix_large", f"cw-{centre_large}-1")):
        web = client(login)
        web.get("/centre/submissions")
        counts[label] = counted(lambda: web.get("/centre/submissions"))

    # Submit: a child of a facility the HTTP runs left alone; save a draft, then count the submit.
    web = client(facility_spare)
    page = web.get("/reports/period/current")
    path = re.search(r'href="[^"]*?(/reports/period/\d{4}-\d{2}/children/\d+)"', page.text).group(1)

    def report_form():
        return next(f for f in web.get(path).forms.values() if f.action.endswith(path))

    form = report_form()
    for name, value in (("days_expected", "20"), ("days_attended", "20"), ("days_absent", "0")):
        form[name] = value
    form["nothing_special"] = True
    assert form.submit("action", value="save").status_int == 303
    form = report_form()
    counts["submit"] = counted(lambda: form.submit("action", value="submit"))
    engine.dispose()
    return counts


# --- the run -------------------------------------------------------------------------


def bench(url: str, label: str, seconds: float, samples: int) -> None:
    print(f"\n== {label}: {url.split('@')[-1]}", flush=True)
    load_seconds = prepare_database(url)
    print(f"setagaya demo data loaded in {load_seconds:.1f} s", flush=True)
    orgs = organisations(url)
    facilities = orgs["facilities"]
    large_facility, large_n = facilities[0]
    small_facility, small_n = facilities[-1]
    large_centre, large_centre_n = orgs["centres"][0]
    small_centre, small_centre_n = orgs["centres"][-1]

    tmp = pathlib.Path(tempfile.mkdtemp(prefix="mimamori-bench-"))
    app_port, hello_port = free_port(), free_port()
    ini = write_ini(tmp, url, app_port)
    app_cmd = [sys.executable, "-m", "webapp.cli", "-c", str(ini), "serve"]
    hello_cmd = [sys.executable, str(REPO / "benchmarks" / "hello_app.py"), f"127.0.0.1:{hello_port}", str(THREADS)]
    results = {}
    with serving(hello_cmd, hello_port, tmp / "hello.log", "/"), \
            serving(app_cmd, app_port, tmp / "app.log", "/healthz"):
        hello = Client(hello_port)
        results["hello"] = sequential(get_ok(hello, "/"), samples)
        results["hello"]["rps"], results["hello"]["errors"] = concurrent(
            [get_load(Client(hello_port), "/") for _ in range(CLIENTS)], seconds)

        # Facility period page: the largest facility sequentially; 16 facilities concurrently.
        facility = Client(app_port)
        facility.login(large_facility)
        results["period"] = sequential(get_ok(facility, "/reports/period/current"), samples)
        period_clients = []
        for login, _n in facilities[:CLIENTS]:
            client = Client(app_port)
            client.login(login)
            period_clients.append(get_load(client, "/reports/period/current"))
        results["period"]["rps"], results["period"]["errors"] = concurrent(period_clients, seconds)

        # Matrix: the largest centre's caseworker sequentially; 16 caseworkers concurrently.
        caseworker = Client(app_port)
        caseworker.login(f"cw-{large_centre}-1")
        results["matrix"] = sequential(get_ok(caseworker, "/centre/submissions"), samples)
        matrix_clients = []
        for index in range(CLIENTS):
            code, _n = orgs["centres"][index % len(orgs["centres"])]
            client = Client(app_port)
            client.login(f"cw-{code}-{index // len(orgs['centres']) + 1}")
            matrix_clients.append(get_load(client, "/centre/submissions"))
        results["matrix"]["rps"], results["matrix"]["errors"] = concurrent(matrix_clients, seconds)

        # Submit: fresh drafts at the largest facilities, prepared one after
        # the other (untimed; concurrent preparation is what is measured next).
        pools = []
        for login, _n in facilities[: CLIENTS + 4]:
            client = Client(app_port)
            client.login(login)
            pool = Drafts(client)
            pool.prepare()
            pools.append(pool)
        sequential_pools, concurrent_pools = pools[:4], pools[4:]
        submit_times = [t for pool in sequential_pools for t in iter(pool.submit_timed, None)]
        results["submit"] = {"median": statistics.median(submit_times) * 1000,
                             "p95": percentile(submit_times, 0.95) * 1000, "n": len(submit_times)}
        results["submit"]["concurrent_n"] = sum(len(p.ready) for p in concurrent_pools)
        results["submit"]["rps"], results["submit"]["errors"] = concurrent(
            [p.submit_load for p in concurrent_pools], seconds)

    spare_facility = facilities[CLIENTS + 6][0]
    counts = count_statements(url, small_facility, large_facility, spare_facility, small_centre, large_centre)
    hello_rps = results["hello"]["rps"]
    rows = [
        ("trivial Pyramid view (baseline)", results["hello"], "0"),
        (f"facility period page ({large_n} children)", results["period"],
         f"{counts['period_large']} ({counts['period_small']} with {small_n} child{'ren' if small_n != 1 else ''})"),
        ("report submit (fresh draft)", results["submit"], f"{counts['submit']}"),
        (f"centre matrix ({large_centre_n} facilities)", results["matrix"],
         f"{counts['matrix_large']} ({counts['matrix_small']} with {small_centre_n} facilities)"),
    ]
    print(f"\nwaitress threads={THREADS}, {CLIENTS} concurrent clients, {os.cpu_count()} CPUs; "
          f"times in ms over loopback, sequential ({samples} samples; submit: {results['submit']['n']})")
    header = (f"{'page':<42} {'median':>8} {'p95':>8} {'req/s @16':>10} {'vs hello':>9} {'errors':>7}"
              "  SQL statements/request")
    print(header)
    print("-" * len(header))
    for name, r, sql in rows:
        print(f"{name:<42} {r['median']:8.1f} {r['p95']:8.1f} {r['rps']:10.0f} {r['rps'] / hello_rps:9.3f}"
              f" {r['errors']:7d}  {sql}")
    print(f"(concurrent submit: {results['submit']['concurrent_n']} prepared drafts; "
          f"SQL counted in-process with WebTest; logs in {tmp})")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="duration of each concurrent run")
    parser.add_argument("--samples", type=int, default=200, help="sequential requests per page")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="mimamori-bench-db-") as directory:
        bench(f"sqlite:///{directory}/bench.sqlite", "SQLite", args.seconds, args.samples)
    pg_url = os.environ.get("MIMAMORI_BENCH_DATABASE_URL")
    if pg_url:
        bench(pg_url, "PostgreSQL", args.seconds, args.samples)
    return 0


if __name__ == "__main__":
    sys.exit(main())
