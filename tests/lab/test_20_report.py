"""A facility account logs in through the VIP over verified TLS and submits a
monthly report (F-MONTHLY through the whole deployed stack: HAProxy, both app
nodes with a shared session secret, PostgreSQL over internal TLS)."""

import re
from html.parser import HTMLParser
from urllib.parse import urljoin

import pytest
import requests

from labkit import BASE, on

# The same values the functional tests call good: consistent days and reasons.
REPORT = {
    "days_expected": "20", "days_attended": "18", "days_absent": "2", "late_count": "1",
    "early_leave_count": "0", "absent_illness": "1", "absent_unknown": "1",
    "family_contact": "partial", "condition": "元気に登校している。",
}
EDIT_LINK = re.compile(r'href="([^"]*?/reports/period/[0-9-]+/children/\d+)"')


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


def demo_facility_login() -> tuple[str, str]:
    text = on("app1", "cat /var/lib/mimamori/demo-logins.txt")
    password = re.search(r"\): (\S+)\s*$", text.splitlines()[1]).group(1)
    lines = text.splitlines()
    header = next(i for i, line in enumerate(lines) if line.rstrip().endswith("(facility):"))
    return lines[header + 1].split()[0], password


@pytest.mark.req("F-MONTHLY", "S-TLS")
def test_facility_logs_in_and_submits_a_monthly_report(acme_ca):
    log_in_and_submit_a_report(acme_ca)


def log_in_and_submit_a_report(acme_ca: str) -> None:
    """The whole write path through the VIP; the database drills call it too,
    to prove the app writes again after a failover without a restart."""
    login, password = demo_facility_login()
    s = requests.Session()
    # Only the lab's ACME root may vouch for the site: no CA bundle or proxy
    # from the environment (requests lets REQUESTS_CA_BUNDLE beat Session.verify).
    s.trust_env = False
    s.verify = acme_ca
    # As a browser does: the app's CSRF check wants the origin of an HTTPS form post.
    s.headers["Origin"] = BASE

    page = s.get(f"{BASE}/login", timeout=10)
    form = next(f for f in Forms(page.text).forms if "password" in f["fields"])
    resp = s.post(urljoin(page.url, form["action"] or "/login"), timeout=10,
                  data={**form["fields"], "login": login, "password": password})
    assert resp.status_code == 200 and "/login" not in resp.url, resp.url
    assert all(c.secure for c in s.cookies), "session cookies must be Secure behind TLS"

    # The facility's landing page is its current report month; look back a little
    # if that month has nothing left to write.
    links, period_page = [], resp
    for _ in range(3):
        links = EDIT_LINK.findall(period_page.text)
        if links:
            break
        prev = re.search(r'href="([^"]+)" rel="prev"', period_page.text)
        period_page = s.get(urljoin(period_page.url, prev.group(1)), timeout=10)
    assert links, "no report left to write in the demo data"
    edit_url = urljoin(period_page.url, links[0].replace("&amp;", "&"))

    edit = s.get(edit_url, timeout=10)
    form = next(f for f in Forms(edit.text).forms if "days_expected" in f["fields"])
    data = {**form["fields"], **REPORT, "action": "submit"}
    data.pop("nothing_special", None)
    done = s.post(urljoin(edit.url, form["action"]), data=data, timeout=10)
    assert done.status_code == 200, done.text[:500]
    assert "提出しました。" in done.text

    # Submitted reports are frozen: the edit page now sends the user to the read-only view.
    again = s.get(edit_url, allow_redirects=False, timeout=10)
    assert again.status_code == 303
