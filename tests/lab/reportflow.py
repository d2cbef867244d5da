"""The facility's write path as a browser walks it: log in, find a report that
can still be written, fill in EVERY field with values valid for its month,
submit, and see the report submitted.

It takes a base URL and the demo logins text, so the same code runs through
the lab's VIP (test_20_report.py and the database drills) and against a local
demo server on any date (try_report_locally.py) without the lab.

Why every field: the demo data leaves drafts and returned reports with their
own absence reasons (e.g. 家庭の事情 1, その他 1). Posting fixed counts on top
of such a draft made the reasons add up to more than the days absent, and the
form was refused (issue #17, 菊地 杏奈 2026年11月 on 2026-12-07).
"""

from __future__ import annotations

import dataclasses
import re
from html import unescape
from html.parser import HTMLParser
from urllib.parse import urljoin

import requests

ABSENCE_REASONS = ("absent_illness", "absent_family", "absent_bereavement", "absent_suspension",
                   "absent_unknown", "absent_other")
EDIT_PATH = re.compile(r"/reports/period/([0-9]{4}-[0-9]{2})/children/(\d+)$")
ROW = re.compile(r"<tr>\s*<th scope=\"row\">(.*?)</tr>", re.S)
DAYS_IN_MONTH = re.compile(r"この月は(\d+)日まであります")
SUBMITTED_BADGE = 'class="status status-submitted"'
# On the facility's home (今日やること, /today): the link to the current report month's list.
MONTH_LIST_LINK = re.compile(r'<a\b[^>]*\bid="month-list-link"[^>]*>')


class Forms(HTMLParser):
    """Each <form>'s action and the values its controls would submit."""

    def __init__(self, html: str):
        super().__init__()
        self.forms: list[dict] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.forms.append({"action": a.get("action", ""), "fields": {}})
        elif self.forms and tag in ("input", "textarea", "select") and a.get("name"):
            kind = a.get("type", "text")
            if kind in ("submit", "button") or (kind in ("radio", "checkbox")
                                                  and "checked" not in a):
                return
            self.forms[-1]["fields"][a["name"]] = a.get("value", "")


@dataclasses.dataclass
class Row:
    """One child's line on a facility's month page."""
    name: str
    edit_url: str | None  # None: nothing left to write (submitted or acknowledged)
    new: bool  # no report yet (「入力する」) rather than a draft or a returned one
    submitted: bool


@dataclasses.dataclass
class Submitted:
    child: str
    period: str
    edit_url: str
    values: dict


def facility_login(logins_text: str) -> tuple[str, str]:
    """The first facility login and the shared demo password, from the text
    `mimamori demo-data` prints (kept on app1 as demo-logins.txt)."""
    lines = logins_text.splitlines()
    password = re.search(r"\): (\S+)\s*$", lines[1]).group(1)
    header = next(i for i, line in enumerate(lines) if line.rstrip().endswith("(facility):"))
    return lines[header + 1].split()[0], password


def period_rows(page_url: str, html: str) -> list[Row]:
    rows = []
    for block in ROW.findall(html):
        name = re.sub(r"<[^>]+>", "", block.split("</th>", 1)[0]).strip()
        edit = next((urljoin(page_url, unescape(h)) for h in re.findall(r'href="([^"]+)"', block)
                     if EDIT_PATH.search(unescape(h).split("?")[0])), None)
        rows.append(Row(name=name, edit_url=edit, new="入力する" in block,
                        submitted=SUBMITTED_BADGE in block))
    return rows


def report_values(days_in_month: int) -> dict:
    """A complete, consistent report for a month of ``days_in_month`` days: every
    count the form has, so nothing a draft held is left to contradict them."""
    expected = min(20, days_in_month - 8)
    values = {
        "days_expected": expected, "days_attended": expected - 2, "days_absent": 2,
        "late_count": 1, "early_leave_count": 0,
        **dict.fromkeys(ABSENCE_REASONS, 0), "absent_illness": 1, "absent_unknown": 1,
    }
    values = {k: str(v) for k, v in values.items()}
    values.update(absence_note="", family_contact="partial", condition="元気に登校している。")
    return values


def session(base: str, verify) -> requests.Session:
    s = requests.Session()
    # Only the CA the caller names may vouch for the site: no CA bundle or proxy
    # from the environment (requests lets REQUESTS_CA_BUNDLE beat Session.verify).
    s.trust_env = False
    s.verify = verify
    # As a browser does: the app's CSRF check wants the origin of a form post.
    s.headers["Origin"] = base
    return s


def log_in(s: requests.Session, base: str, logins_text: str) -> requests.Response:
    login, password = facility_login(logins_text)
    page = s.get(f"{base}/login", timeout=10)
    form = next(f for f in Forms(page.text).forms if "password" in f["fields"])
    resp = s.post(urljoin(page.url, form["action"] or "/login"), timeout=10,
                  data={**form["fields"], "login": login, "password": password})
    assert resp.status_code == 200 and "/login" not in resp.url, (resp.status_code, resp.url)
    if base.startswith("https:"):
        assert all(c.secure for c in s.cookies), "session cookies must be Secure behind TLS"
    return resp


def month_list(s: requests.Session, landing: requests.Response) -> requests.Response:
    """The current report month's list, reached as a person does: the facility's
    login lands on its home (今日やること), whose 「…の報告一覧へ」 link opens it."""
    assert landing.url.rstrip("/").endswith("/today"), f"the facility's login landed on {landing.url}"
    tag = MONTH_LIST_LINK.search(landing.text)
    assert tag, "no link to the month's report list on the facility's home"
    href = re.search(r'href="([^"]+)"', tag.group(0)).group(1)
    page = s.get(urljoin(landing.url, unescape(href)), timeout=10)
    assert page.status_code == 200 and "/reports/period/" in page.url, (page.status_code, page.url)
    return page


def find_writable(s: requests.Session, first: requests.Response, months: int = 3) -> Row:
    """A child whose report can be written: the facility's current report month
    (``first``, that month's list) first, then earlier months; a child with no
    report at all before a draft or a returned report (their content is
    overwritten in full either way)."""
    page, found = first, []
    for _ in range(months):
        found = [r for r in period_rows(page.url, page.text) if r.edit_url]
        if found:
            break
        prev = re.search(r'href="([^"]+)" rel="prev"', page.text)
        assert prev, "no link to the previous month on the facility's month page"
        page = s.get(urljoin(page.url, unescape(prev.group(1))), timeout=10)
    assert found, f"no report left to write in {months} months of demo data"
    return next((r for r in found if r.new), found[0])


def submit_a_report(base: str, logins_text: str, verify=True) -> Submitted:
    """Log in as the demo facility, submit one report and prove it is submitted.
    Fails (AssertionError) if the form is refused or the submission does not show."""
    s = session(base, verify)
    landing = log_in(s, base, logins_text)
    row = find_writable(s, month_list(s, landing))
    edit = s.get(row.edit_url, timeout=10)
    assert edit.status_code == 200, (edit.status_code, row.edit_url)
    form = next(f for f in Forms(edit.text).forms if "days_expected" in f["fields"])
    days = DAYS_IN_MONTH.search(edit.text)
    assert days, "the report form no longer says how many days the month has"
    values = report_values(int(days.group(1)))
    data = {**form["fields"], **values, "action": "submit"}
    data.pop("nothing_special", None)
    done = s.post(urljoin(edit.url, form["action"]), data=data, timeout=10)
    summary = re.search(r'<div class="error-summary".*?</ul>', done.text, re.S)
    errors = " ".join(re.sub(r"<[^>]+>", " ", summary.group(0)).split()) if summary else None
    assert done.status_code == 200 and "提出しました。" in done.text, (
        f"submitting {row.name}'s report was refused: HTTP {done.status_code} at {done.url}; "
        f"errors {errors or done.text[:300]!r}; posted {values}")

    # Visible as submitted on the month's page the app sent us back to...
    period = EDIT_PATH.search(row.edit_url.split("?")[0]).group(1)
    after = [r for r in period_rows(done.url, done.text) if r.name == row.name]
    assert after and after[0].submitted and not after[0].edit_url, (
        f"{row.name} is not shown as 提出済 on {done.url}")
    # ...and frozen: the edit page now sends the user to the read-only view.
    again = s.get(row.edit_url, allow_redirects=False, timeout=10)
    assert again.status_code == 303, again.status_code
    detail = s.get(urljoin(again.url, again.headers["Location"]), timeout=10)
    assert detail.status_code == 200 and "提出済" in detail.text, detail.url
    return Submitted(child=row.name, period=period, edit_url=row.edit_url, values=values)
