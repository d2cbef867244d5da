"""Browser tests: the real application under waitress, driven by Debian's Chromium.

One server per run: a fresh SQLite database in a temporary directory, migrated
and loaded with the small demo data through the ``mimamori`` command, then
``mimamori serve`` on a free loopback port — the same commands the README uses.
Playwright drives ``/usr/bin/chromium`` (``apt-get install chromium
fonts-noto-cjk``); ``playwright install`` is never needed.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import pathlib
import sqlite3
import subprocess
import sys

import pytest

from tests.dates import pinned_now
from webapp.manuals.demo_server import free_port, run_cli, wait_until_healthy

REPO = pathlib.Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("MIMAMORI_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",  # the tests run as root in CI containers
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# MIMAMORI_TEST_NOW=ISO starts both servers' clocks (and their demo data) at that
# instant instead of the real time; ci/test runs the browser tests both ways.
_NOW = pinned_now()
CLOCK = f"from:{_NOW.isoformat()}" if _NOW else None
# Fixed so a failing run can be reproduced; it protects nothing but a test server.
SESSION_SECRET = "browser-tests-session-secret-" + "b" * 32


@dataclasses.dataclass
class Server:
    url: str
    database: pathlib.Path
    logins_text: str

    def query(self, sql: str, *params):
        """Read the application's database directly (to find ids the UI shows)."""
        with contextlib.closing(sqlite3.connect(f"file:{self.database}?mode=ro", uri=True)) as conn:
            return conn.execute(sql, params).fetchall()


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("browser")
    database = tmp / "mimamori.sqlite"
    port = free_port()
    ini = tmp / "browser.ini"
    ini.write_text(
        "[app:main]\n"
        "use = egg:mimamori\n"
        f"sqlalchemy.url = sqlite:///{database}\n"
        # Plain http on loopback, as in development.ini.
        "mimamori.secure_cookies = false\n"
        # No phone in CI: no role is forced to enrol a second factor.
        "mimamori.second_factor_roles =\n"
        # Forms are accepted only from the server's own origin (webapp.csrf).
        f"mimamori.public_url = http://127.0.0.1:{port}\n"
        + (f"mimamori.clock = {CLOCK}\n" if CLOCK else "")
        + "\n[server:main]\n"
        "use = egg:waitress#main\n"
        f"listen = 127.0.0.1:{port}\n"
        "threads = 4\n",
        encoding="utf-8",
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("MIMAMORI_")}
    env["MIMAMORI_SESSION_SECRET"] = SESSION_SECRET
    run_cli(ini, "migrate", env=env, timeout=300)
    logins_text = run_cli(ini, "demo-data", "--scale", "small", env=env, timeout=300)
    log = (tmp / "server.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "webapp.cli", "-c", str(ini), "serve"],
        cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_healthy(url, process, timeout=30)
        yield Server(url=url, database=database, logins_text=logins_text)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


@pytest.fixture(scope="session")
def walk_url():
    """A second demo server for the walkthroughs, which change its data (reports, alerts, accounts)."""
    from webapp.manuals.demo_server import demo_server

    with demo_server(clock=CLOCK) as url:
        yield url


@pytest.fixture(scope="session")
def tablet_walk_url():
    """The walkthroughs again at tablet size need data of their own (each walk uses up what it acts on)."""
    from webapp.manuals.demo_server import demo_server

    with demo_server(clock=CLOCK) as url:
        yield url


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def new_page(browser, server):
    """``new_page(**context_options)``: a page in a fresh browser context (own cookies)."""
    contexts = []

    def _new_page(**options):
        options.setdefault("locale", "ja-JP")
        options.setdefault("viewport", {"width": 1280, "height": 900})
        context = browser.new_context(base_url=server.url, **options)
        context.set_default_timeout(15_000)
        contexts.append(context)
        return context.new_page()

    yield _new_page
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_page):
    return new_page()
