"""A child's timeline in the browser (issue #19 item 4; F-DASH, F-UI): the calendar's SVG and the
day-by-day table are written in Python (webapp/timeline/svg.py, day_table.py), so this checks what a
browser gets: axe clean on a laptop and a tablet, no sideways scroll, one drawn day and one table
row per day of the month with the same status, and the table opening for keyboard users."""

from __future__ import annotations

import re

import pytest

from tests.browser.axe import axe_source, violations
from tests.browser.helpers import log_in

OVERFLOW = "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
VIEWPORTS = {"tablet": {"width": 768, "height": 1024}, "laptop": {"width": 1366, "height": 768}}
DAYS = """() => ({
  drawn: [...document.querySelectorAll('svg.tl-cal g[data-day]')].map(g => {
    const r = g.getBoundingClientRect();
    return {day: g.dataset.day, status: g.dataset.status, w: r.width, h: r.height};
  }),
  rows: [...document.querySelectorAll('details.tl-days tbody tr')].map(tr => ({
    day: tr.querySelector('time').getAttribute('datetime'), status: tr.className.replace('tl-day-', ''),
  })),
})"""


@pytest.fixture(scope="module")
def axe():
    return axe_source()


def open_a_timeline(page) -> None:
    log_in(page, "cw-jisou-1")
    page.goto("/children")
    href = next(h for h in page.locator("main a").evaluate_all("links => links.map(a => a.getAttribute('href'))")
                if h and re.search(r"/children/\d+$", h))
    page.goto(href)
    page.get_by_role("link", name="時系列と出欠カレンダーを見る").click()
    page.wait_for_load_state()


@pytest.mark.req("F-DASH", "F-UI")
@pytest.mark.parametrize("size", list(VIEWPORTS))
def test_timeline_calendar_and_its_table_agree_and_are_accessible(new_page, axe, size):
    mobile = {"has_touch": True, "is_mobile": True} if size == "tablet" else {}
    page = new_page(viewport=VIEWPORTS[size], bypass_csp=True, **mobile)
    open_a_timeline(page)
    assert re.search(r"/children/\d+/timeline", page.url)
    assert page.evaluate(OVERFLOW) <= 0, f"timeline overflows at {size}"
    assert violations(page, axe) == []
    found = page.evaluate(DAYS)
    assert len(found["drawn"]) >= 28
    assert [(d["day"], d["status"]) for d in found["drawn"]] == [(r["day"], r["status"]) for r in found["rows"]]
    assert min(min(d["w"], d["h"]) for d in found["drawn"]) > 20  # drawn, not collapsed
    summary = page.locator("details.tl-days summary")
    summary.focus()
    page.keyboard.press("Enter")
    assert page.locator("details.tl-days tbody tr").first.is_visible()
