"""Benchmark (not a test): how many actions each daily task takes in Chromium, and how long.

Issue 18 item 11. For each task a user does every day or every month, a script
does it in Chromium the shortest way the screens offer, counting what a person
would do: each click or tap, each key pressed (a typed character is one key),
and a choice from a drop-down as two (open it, pick). Logging in is not counted;
every task starts on the role's first screen after login. Wall time is the
script's, with no thinking time: it measures the screens' and server's part.

    .venv/bin/python benchmarks/bench_tasks.py                      # this checkout
    .venv/bin/python benchmarks/bench_tasks.py --repo /path/to/old  # another checkout, e.g. before issue 18

``--repo`` measures another checkout of Mimamori (it needs its own ``.venv``, see
the README): the scenario (``task_scenario.py``) is built with that checkout's
code and its server is started from it, while this script drives Chromium.
The tasks look for what each screen offers (a to-do link, 「提出して次へ」, bulk
acknowledgement) and fall back to what an older screen has, so the same script
measures before and after.

Tasks (the scenario's data is fixed, the app's clock is 2026-12-08 09:00 JST):

1. attendance — a school's 35-child class, 2 absent today (illness);
2. monthly — November's reports for those 35 children, daily attendance recorded
   (2 children absent one day, with contact); aim <= 2 actions per child;
3. review — a caseworker clears 50 submitted reports, 5 with a concern: each
   concern read and acknowledged one by one, the 45 others; aim <= 4 actions for the 45;
4. alert — a caseworker acknowledges a child's 8-day no-contact absence streak.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import os
import pathlib
import re
import secrets
import sqlite3
import subprocess
import sys
import tempfile
import time

REPO = pathlib.Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "benchmarks")]

from task_scenario import ini_text  # noqa: E402

from webapp.manuals.demo_server import free_port, wait_until_healthy  # noqa: E402

# What the November reports hold when typed by hand (19 open days); the 2 absent children differ.
TYPED_REPORT = {"days_expected": "19", "days_attended": "19", "days_absent": "0", "late_count": "0",
                "early_leave_count": "0", "absent_illness": "0"}


@dataclasses.dataclass
class Actions:
    """What a person would do, counted; ``pages`` is how many screens they waited for."""

    clicks: int = 0
    keys: int = 0
    pages: int = 0

    @property
    def total(self) -> int:
        return self.clicks + self.keys


class User:
    """A Playwright page plus the count of what was done on it."""

    def __init__(self, page):
        self.page = page
        self.done = Actions()

    def click(self, locator, *, navigates: bool = True) -> None:
        self.done.clicks += 1
        if navigates:
            self.done.pages += 1
            with self.page.expect_navigation():
                locator.click()
            self.page.wait_for_load_state()
        else:
            locator.click()

    def check(self, locator) -> None:
        self.click(locator, navigates=False)

    def choose(self, select, value: str) -> None:
        self.done.clicks += 2  # open the drop-down, pick the option
        select.select_option(value)

    def type(self, field, text: str) -> None:
        self.done.clicks += 1  # into the field
        self.done.keys += len(text) + 1  # select what is there (one key: Ctrl+A counts as one), then type
        field.fill(text)

    def has(self, locator) -> bool:
        return locator.count() > 0


def login(page, base: str, user: str, password: str) -> None:
    page.goto(base + "/login")
    page.locator("#login").fill(user)
    page.locator("#password").fill(password)
    with page.expect_navigation():
        page.get_by_role("button", name="ログイン").click()
    page.wait_for_load_state()
    assert "/login" not in page.url, page.locator("main").inner_text()


def menu(page, name: str):
    return page.locator("nav .menu a", has_text=name).first


# --- the tasks --------------------------------------------------------------------------------

def attendance(user: User, facts: dict) -> str:
    page = user.page
    todo = page.locator("main a", has_text="今日の出欠")
    user.click(todo.first if user.has(todo) else menu(page, "日々の出欠"))
    assert page.locator("table.attendance").is_visible(), page.url
    for child_id in facts["absent_today"]:
        user.check(page.locator(f"input[name=status-{child_id}][value=absent]"))
        reasons = page.locator(f"#reason-{child_id}")
        # The page may open the list itself when 欠席 is tapped (static/attendance.js): one tap left.
        if reasons.get_attribute("data-picker-opened") == "1":
            user.done.clicks += 1
            reasons.select_option("illness")
        else:
            user.choose(reasons, "illness")
    user.click(page.get_by_role("button", name="未入力の児童を全員出席にして保存"))
    assert "出欠を保存しました" in page.locator(".notice").inner_text()
    assert page.locator("table.attendance").get_by_text("未入力", exact=True).count() == 0
    return f"{facts['children']} children, {len(facts['absent_today'])} absent"


def open_month_list(user: User) -> None:
    page = user.page
    if user.has(page.locator("a.button", has_text="入力する")):
        return
    link = page.locator("main a", has_text=re.compile("月次報告|報告の一覧"))
    user.click(link.first if user.has(link) else menu(page, "月次報告"))


def fill_report_form(user: User) -> None:
    page = user.page
    if not page.locator("#days_expected").input_value():
        # No prefill: every count typed from the class register (an absent child's differ; the count is the same).
        for name, value in TYPED_REPORT.items():
            user.type(page.locator(f"#{name}"), value)
    if int(page.locator("#days_absent").input_value() or 0) > 0 and not user.has(
            page.locator("input[name=family_contact]:checked")):
        user.check(page.locator("input[name=family_contact]").first)
    if not page.locator("#condition").input_value() and not page.locator("#nothing_special").is_checked():
        user.check(page.locator("#nothing_special"))
    next_button = page.get_by_role("button", name="提出して次へ")
    user.click(next_button if user.has(next_button) else page.get_by_role("button", name="提出", exact=True))
    errors = page.locator(".field-error")
    assert errors.count() == 0, errors.all_inner_texts()


def monthly(user: User, facts: dict) -> str:
    page = user.page
    in_order = page.locator("main a", has_text="未提出の報告を順に入力する")
    if user.has(in_order):
        user.click(in_order.first)
    else:
        open_month_list(user)
    submitted = 0
    while submitted < facts["children"]:
        if not user.has(page.locator("#days_expected")):
            user.click(page.locator("a.button", has_text="入力する").first)
        fill_report_form(user)
        submitted += 1
    if not user.has(page.locator("a.button", has_text="入力する")) and user.has(page.locator("#days_expected")):
        raise AssertionError("still on a form after the last child")
    return f"{submitted} reports"


def review(user: User, facts: dict) -> str:
    page = user.page
    user.click(menu(page, "確認待ち"))
    whole_page = page.get_by_role("button", name=re.compile("懸念なしの報告をすべて選"))
    if user.has(whole_page):
        user.click(whole_page)
        user.click(page.get_by_role("button", name=re.compile(r"\d+件を確認済にする")))
    cleared = 0
    while cleared < facts["reports"]:
        rows = page.locator("table tbody tr th a")
        if not user.has(rows):
            break
        if not user.has(page.locator("#comment")):
            user.click(rows.first)
        next_button = page.get_by_role("button", name="確認して次へ")
        if user.has(next_button):
            while user.has(page.get_by_role("button", name="確認して次へ")):
                user.click(page.get_by_role("button", name="確認して次へ"))
                cleared += 1
        else:
            user.click(page.get_by_role("button", name="確認", exact=True))
            user.click(menu(page, "確認待ち"))
            cleared += 1
    return f"{facts['reports']} reports, {facts['concerns']} with a concern"


def alert(user: User, facts: dict) -> str:
    page = user.page
    user.click(menu(page, "アラート"))
    acknowledged = 0
    while True:
        link = page.locator(f"main a[href*='/alerts/']", has_text="欠席続")
        if not user.has(link):
            link = page.locator("main tr", has_text="欠席続").locator("a")
        opened = [row for row in link.all() if "未対応" in (row.locator("xpath=ancestor::tr").inner_text())]
        if not opened:
            break
        user.click(opened[0])
        user.click(page.get_by_role("button", name="確認した"))
        acknowledged += 1
        user.click(menu(page, "アラート"))
    assert acknowledged, "no open alert for the streak child"
    return f"{acknowledged} alert(s) for one streak"


TASKS = {"attendance": ("facility_login", attendance), "monthly": ("facility_login", monthly),
         "review": ("caseworker_login", review), "alert": ("caseworker_login", alert)}


# --- running ------------------------------------------------------------------------------------

@contextlib.contextmanager
def server(repo: pathlib.Path, workdir: pathlib.Path):
    python = repo / ".venv" / "bin" / "python"
    database = workdir / "tasks.sqlite"
    env = {k: v for k, v in os.environ.items() if not k.startswith("MIMAMORI_")}
    env["MIMAMORI_SESSION_SECRET"] = secrets.token_urlsafe(40)
    built = subprocess.run([str(python), str(REPO / "benchmarks" / "task_scenario.py"), "--repo", str(repo),
                            "--db", str(database)], cwd=repo, env=env, capture_output=True, text=True)
    if built.returncode:
        sys.exit(built.stderr[-3000:])
    facts = json.loads(built.stdout.strip().splitlines()[-1])
    port = free_port()
    ini = workdir / "serve.ini"
    ini.write_text(ini_text(database, port), encoding="utf-8")
    log = (workdir / "server.log").open("w")
    process = subprocess.Popen([str(python), "-m", "webapp.cli", "-c", str(ini), "serve"], cwd=repo, env=env,
                               stdout=log, stderr=subprocess.STDOUT)
    try:
        url = f"http://127.0.0.1:{port}"
        wait_until_healthy(url, process)
        yield url, facts, database
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()


def left_over(database: pathlib.Path) -> dict:
    """What the tasks should have left at zero, read from the database afterwards."""
    with contextlib.closing(sqlite3.connect(database)) as db:
        return {
            "submitted reports in the queue": db.execute(
                "SELECT count(*) FROM monthly_reports r JOIN facilities f ON f.id = r.facility_id "
                "JOIN centres c ON c.id = f.centre_id WHERE c.code = 'BENCH1' AND r.status = 'submitted'").fetchone()[0],
            "open alerts": db.execute("SELECT count(*) FROM alerts WHERE status = 'open'").fetchone()[0],
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repo", type=pathlib.Path, default=REPO, help="the checkout to measure (default: this one)")
    parser.add_argument("--viewport", default="1366x768", help="WIDTHxHEIGHT (768x1024 for a tablet)")
    parser.add_argument("--only", choices=sorted(TASKS), action="append", help="run only these tasks")
    args = parser.parse_args()
    width, height = (int(n) for n in args.viewport.split("x"))
    commit = subprocess.run(["git", "-C", str(args.repo), "log", "-1", "--format=%h %s"], capture_output=True,
                            text=True).stdout.strip()
    from playwright.sync_api import sync_playwright

    from webapp.manuals.browser import CHROMIUM, CHROMIUM_ARGS, new_context

    print(f"checkout: {args.repo} ({commit[:70]})\nviewport: {width}x{height}\n")
    print(f"{'task':<11} {'actions':>7} {'clicks':>6} {'keys':>5} {'pages':>5} {'seconds':>7}  what")
    with tempfile.TemporaryDirectory(prefix="bench-tasks-") as tmp, server(args.repo, pathlib.Path(tmp)) as (
            base, facts, database), sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        for name in args.only or TASKS:
            login_key, task = TASKS[name]
            context = new_context(browser, base, viewport={"width": width, "height": height})
            page = context.new_page()
            login(page, base, facts[login_key], facts["password"])
            user = User(page)
            started = time.perf_counter()
            what = task(user, facts)
            seconds = time.perf_counter() - started
            done = user.done
            print(f"{name:<11} {done.total:>7} {done.clicks:>6} {done.keys:>5} {done.pages:>5} {seconds:>7.1f}  {what}",
                  flush=True)
            context.close()
        print(f"\nleft afterwards: {left_over(database)}")


if __name__ == "__main__":
    main()
