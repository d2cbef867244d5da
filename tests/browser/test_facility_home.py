"""The facility's home, today's to-do, on a laptop and a tablet (issue #18 item 4; F-UI, F-DAILY,
F-MONTHLY, F-MSG, F-NOTICE): login lands there, its counts agree with the database, every link and
button is at least 24x24 CSS px (WCAG 2.2, 2.5.8), the page does not scroll sideways, axe is clean."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from tests.browser.axe import axe_source, violations
from tests.browser.helpers import log_in

OVERFLOW = "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
VIEWPORTS = {"tablet": {"width": 768, "height": 1024}, "laptop": {"width": 1366, "height": 768}}
LOGIN = "es001"
# Every link and button of the page body with its box.
TARGETS = """() => Array.from(document.querySelectorAll('main a, main button'))
  .map(el => { const r = el.getBoundingClientRect(); return {text: el.innerText.trim(), w: r.width, h: r.height}; })"""
# Returned reports the facility may see (webapp.reports.scope for a facility: its own reports of
# children now at the facility whose monitoring has not ended before the previous month).
RETURNED = """SELECT count(*) FROM monthly_reports r JOIN children c ON c.id = r.child_id
              WHERE r.status = 'returned' AND r.facility_id = ? AND c.facility_id = ?
                AND (c.monitoring_end IS NULL OR c.monitoring_end >= ?)"""
MONITORED_TODAY = """SELECT count(*), count(e.id) FROM children c
                     LEFT JOIN attendance_entries e ON e.child_id = c.id AND e.day = ? AND e.facility_id = ?
                     WHERE c.facility_id = ? AND c.monitoring_start <= ?
                       AND (c.monitoring_end IS NULL OR c.monitoring_end >= ?)"""


@pytest.fixture(scope="module")
def axe():
    return axe_source()


def shown_today(page) -> dt.date:
    """The app's today, as the page states it (the server's clock, not this machine's)."""
    year, month, day = map(int, re.search(r"(\d{4})年(\d{1,2})月(\d{1,2})日", page.locator(".today-date").inner_text()).groups())
    return dt.date(year, month, day)


def text(page, selector: str) -> str:
    return " ".join(page.locator(selector).inner_text().split())


@pytest.mark.req("F-UI", "F-DAILY", "F-MONTHLY", "F-MSG", "F-NOTICE")
@pytest.mark.parametrize("size", list(VIEWPORTS))
def test_facility_lands_on_the_to_do_home(new_page, server, axe, size, tmp_path):
    mobile = {"has_touch": True, "is_mobile": True} if size == "tablet" else {}
    page = new_page(viewport=VIEWPORTS[size], bypass_csp=True, **mobile)
    log_in(page, LOGIN)
    assert page.url.endswith("/today"), page.url
    assert page.locator("h1").inner_text() == "今日やること"
    page.screenshot(path=str(tmp_path / f"today-{size}.png"), full_page=True)
    (facility_id,) = server.query("SELECT facility_id FROM accounts WHERE login = ?", LOGIN)[0]
    today = shown_today(page)
    first_of_previous = (today.replace(day=1) - dt.timedelta(days=1)).replace(day=1)

    # The month's list is one link away, in the menu and on the page.
    month_link = page.locator("a#month-list-link")
    assert re.search(r"/reports/period/\d{4}-\d{2}$", month_link.get_attribute("href"))
    assert page.locator("nav a", has_text="月次報告").count() == 1
    month = text(page, "section#todo-month")
    assert "提出期限" in month
    assert re.search(r"未提出 \d+件|すべて提出済み|報告が必要な児童はいません", month), month

    # Returned reports: as many as the database holds for the facility, each linking to its form.
    (returned,) = server.query(RETURNED, facility_id, facility_id, first_of_previous.isoformat())[0]
    if returned:
        assert f"差し戻された報告 {returned}件" in text(page, "section.todo-returned")
        for href in page.locator("section.todo-returned li a").evaluate_all("links => links.map(a => a.href)"):
            assert re.search(r"/reports/period/\d{4}-\d{2}/children/\d+$", href), href
    else:
        assert page.locator("section.todo-returned").count() == 0

    # Today's attendance, when asked for: the count of children not yet entered, from the database.
    if page.locator("section.todo-attendance").count():
        children, entered = server.query(MONITORED_TODAY, today.isoformat(), facility_id, facility_id,
                                         today.isoformat(), today.isoformat())[0]
        link = page.locator("a#todo-attendance-link")
        if entered < children:
            assert link.get_attribute("href").endswith(f"/attendance/facilities/{facility_id}/{today.isoformat()}")
            assert f"未入力 {children - entered}人 / {children}人" in link.inner_text()
        else:
            assert link.count() == 0 and "入力済み" in text(page, "section.todo-attendance")

    # Unread messages: the same count as the menu's badge.
    badge = page.locator("nav a[href$='/messages'] .badge")
    messages = text(page, "li.todo-messages")
    if badge.count():
        assert badge.inner_text().strip() in messages
    else:
        assert "未読はありません" in messages
    assert page.locator("li.todo-notices a[href$='/notices']").count() == 1

    assert page.evaluate(OVERFLOW) <= 0, f"the home page overflows horizontally at {size}"
    small = [t for t in page.evaluate(TARGETS) if t["w"] < 24 or t["h"] < 24]
    assert small == [], small[:5]
    assert violations(page, axe) == []

    # The month's link works with the keyboard's Enter as with a tap.
    with page.expect_navigation():
        month_link.focus()
        page.keyboard.press("Enter")
    assert re.search(r"/reports/period/\d{4}-\d{2}$", page.url)
