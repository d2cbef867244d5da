"""A ward's day for Locust (issue 19 item 5), run by benchmarks/bench_ward_day.py.

Three kinds of users, each logging in as a real account of the ward-scale demo
(``mimamori demo-data --alongside``) the way a browser does: the login form's
CSRF token, the Origin header on every form post, the caseworkers' second
factor. Rates are the ward's, times ``WARD_DAY_SPEEDUP`` (10):

- the morning's attendance: 500 facilities, each once within the first hour
  (log in, 今日やること, today's attendance page, save, log out);
- the deadline day's monthly reports: about 5,000 in the 8-hour working day,
  each one report page and its submission;
- 100 caseworkers, each reading a page every 5 minutes: the review queue, the
  submission matrix and a child's timeline.

Environment: WARD_DAY_LOGINS (the ``--alongside`` output: role, login, second
factor secret per line), WARD_DAY_PASSWORD, WARD_DAY_CA (the CA file to verify
TLS against; unset for plain HTTP), WARD_DAY_FAILURES (a JSON-lines file each
failed request is appended to, with its time, so the caller can tell failures
inside the database switchover from the others).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import json
import os
import re
import struct
import sys
import time
from html import unescape
from pathlib import Path
from urllib.parse import urljoin

from locust import HttpUser, constant_pacing, events, task

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "lab"))
import reportflow  # noqa: E402  (the report form, filled as the lab's report test fills it)

SPEEDUP = float(os.environ.get("WARD_DAY_SPEEDUP", "10"))
PASSWORD = os.environ.get("WARD_DAY_PASSWORD", "mimamori-demo-2026")
CA = os.environ.get("WARD_DAY_CA") or True
FAILURES = os.environ.get("WARD_DAY_FAILURES")

# The ward's real rhythm, per second, before the speed-up.
ATTENDANCE_PER_S = 500 / 3600          # 500 facilities within the morning's first hour
REPORTS_PER_S = 5000 / (8 * 3600)      # the deadline day's reports over the working day
CASEWORKER_PAGE_EVERY_S = 300          # one page every 5 minutes per caseworker
# Simulated users of each kind; the rates above do not depend on them (a
# smaller crowd each comes more often). WARD_DAY_USERS=2,3,5 for a quick try.
ATTENDANCE_USERS, REPORT_USERS, CASEWORKER_USERS = (
    int(n) for n in os.environ.get("WARD_DAY_USERS", "20,30,100").split(","))


def _logins() -> dict[str, list[tuple[str, str]]]:
    by_role: dict[str, list[tuple[str, str]]] = {}
    for line in Path(os.environ["WARD_DAY_LOGINS"]).read_text().splitlines():
        parts = line.split("\t")
        if len(parts) == 3:
            by_role.setdefault(parts[0], []).append((parts[1], parts[2]))
    return by_role


LOGINS = _logins()
# Attendance walks the facilities from the first, reports from the last, so
# the two seldom share an account at the same moment.
ATTENDANCE_FACILITIES = itertools.cycle(LOGINS["facility"])
REPORT_FACILITIES = itertools.cycle(reversed(LOGINS["facility"]))
CASEWORKERS = iter(LOGINS["caseworker"])


def totp(secret: str, at: float | None = None) -> str:
    """RFC 6238 code (SHA-1, 6 digits, 30 s), what an authenticator app shows."""
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    digest = hmac.new(key, struct.pack(">Q", int((at or time.time()) // 30)), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    return str((struct.unpack(">I", digest[offset:offset + 4])[0] & 0x7FFFFFFF) % 1_000_000).zfill(6)


@events.request.add_listener
def _record_failure(request_type, name, response, exception, start_time=None, **_kwargs):
    if exception is None or not FAILURES:
        return
    status = getattr(response, "status_code", 0) or 0
    kind = f"HTTP {status}" if status else type(exception).__name__
    if status and status < 400:
        kind = f"HTTP {status}: {str(exception)[:80]}"
    with open(FAILURES, "a") as out:
        out.write(json.dumps({"at": start_time or time.time(), "page": f"{request_type} {name}",
                              "kind": kind}) + "\n")


class WardUser(HttpUser):
    abstract = True

    def on_start(self):
        self.client.trust_env = False
        self.client.verify = CA
        self.client.headers["Origin"] = self.host.rstrip("/")

    def form(self, html: str, field: str) -> dict | None:
        return next((f for f in reportflow.Forms(html).forms if field in f["fields"]), None)

    def post_form(self, page, form: dict, data: dict, name: str, expect: str):
        """POST a form found on ``page``; a reply without ``expect`` is a failure."""
        with self.client.post(urljoin(page.url, unescape(form["action"])), data=data, name=name,
                              catch_response=True) as resp:
            if resp.status_code == 200 and expect not in resp.text:
                resp.failure(f"refused: {expect!r} not on {resp.url}")
            return resp

    def log_in(self, login: str, secret: str = "-") -> bool:
        self.client.cookies.clear()
        page = self.client.get("/login", name="/login")
        form = page.status_code == 200 and self.form(page.text, "password")
        if not form:
            return False
        data = {**form["fields"], "login": login, "password": PASSWORD}
        resp = self.post_form(page, form, data, "/login", "")
        if secret != "-" and "/login/verify" in resp.url:
            verify = self.form(resp.text, "code")
            resp = self.post_form(resp, verify, {**verify["fields"], "code": totp(secret)},
                                  "/login/verify", "")
        return resp.status_code == 200 and "/login" not in resp.url

    def log_out(self, page) -> None:
        form = next((f for f in reportflow.Forms(page.text).forms if f["action"].endswith("/logout")), None)
        if form:
            self.post_form(page, form, form["fields"], "/logout", "")


class MorningAttendance(WardUser):
    fixed_count = ATTENDANCE_USERS
    wait_time = constant_pacing(ATTENDANCE_USERS / (ATTENDANCE_PER_S * SPEEDUP))

    @task
    def enter_todays_attendance(self):
        login, _secret = next(ATTENDANCE_FACILITIES)
        if not self.log_in(login):
            return
        self.client.get("/today", name="/today")
        day = self.client.get("/attendance", name="/attendance/facilities/[id]/[today]")
        form = next((f for f in reportflow.Forms(day.text).forms
                     if "/attendance/facilities/" in f["action"] and "csrf_token" in f["fields"]), None)
        if not form:
            return  # closed today, or no children to enter: nothing a person would do either
        done = self.post_form(day, form, {**form["fields"], "action": "all_present"},
                              "/attendance/facilities/[id]/[today]", "")
        self.log_out(done)


class DeadlineReports(WardUser):
    fixed_count = REPORT_USERS
    wait_time = constant_pacing(REPORT_USERS / (REPORTS_PER_S * SPEEDUP))

    def on_start(self):
        super().on_start()
        self.month_list = None

    def next_facility(self) -> None:
        login, _secret = next(REPORT_FACILITIES)
        self.month_list = None
        if self.log_in(login):
            landing = self.client.get("/today", name="/today")
            link = reportflow.MONTH_LIST_LINK.search(landing.text)
            if link:
                self.month_list = urljoin(landing.url, unescape(re.search(r'href="([^"]+)"', link.group(0)).group(1)))

    @task
    def submit_one_report(self):
        if self.month_list is None:
            self.next_facility()
            if self.month_list is None:
                return
        page = self.client.get(self.month_list, name="/reports/period/[month]")
        rows = [r for r in reportflow.period_rows(page.url, page.text) if r.edit_url]
        if not rows:
            self.next_facility()  # this facility has reported every child: the next one
            return
        edit = self.client.get(rows[0].edit_url, name="/reports/period/[month]/children/[id]")
        form = edit.status_code == 200 and self.form(edit.text, "days_expected")
        days = reportflow.DAYS_IN_MONTH.search(edit.text)
        if not form or not days:
            return
        data = {**form["fields"], **reportflow.report_values(int(days.group(1))), "action": "submit"}
        data.pop("nothing_special", None)
        self.post_form(edit, form, data, "/reports/period/[month]/children/[id]", "提出しました。")


class Caseworker(WardUser):
    fixed_count = CASEWORKER_USERS
    wait_time = constant_pacing(CASEWORKER_PAGE_EVERY_S / SPEEDUP)

    def on_start(self):
        super().on_start()
        login, secret = next(CASEWORKERS)
        self.logged_in = self.log_in(login, secret)
        self.children: list[str] = []
        if self.logged_in:  # the children the timelines are read for: the centre's list's first page
            listing = self.client.get("/children", name="/children")
            self.children = list(dict.fromkeys(re.findall(r'href="[^"]*?/children/(\d+)"', listing.text)))
        self.children_read = itertools.cycle(self.children or [None])
        self.turn = itertools.cycle(("queue", "matrix", "timeline"))

    @task
    def read_a_page(self):
        if not self.logged_in:
            return
        page = next(self.turn)
        if page == "queue":
            self.client.get("/centre/review", name="/centre/review")
        elif page == "matrix":
            self.client.get("/centre/submissions", name="/centre/submissions")
        elif (child := next(self.children_read)) is not None:
            self.client.get(f"/children/{child}/timeline", name="/children/[id]/timeline")
