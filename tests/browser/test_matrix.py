"""The caseworker's submission matrix on a laptop and a tablet (issue #19 item 3; F-DASH, F-UI):
axe clean, no sideways page scroll, cell links at least 24x24 CSS px (WCAG 2.2, 2.5.8), the
facilities to chase first, and every cell's link opening that facility's month with the same
counts. The cells are written in Python (webapp/reports/matrix_cells.py), so this checks the
markup a browser gets, not the template."""

from __future__ import annotations

import re

import pytest

from tests.browser.axe import axe_source, violations
from tests.browser.helpers import log_in

OVERFLOW = "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
VIEWPORTS = {"tablet": {"width": 768, "height": 1024}, "laptop": {"width": 1366, "height": 768}}
CELLS = """() => [...document.querySelectorAll('table.matrix tbody tr')].map(tr => ({
  name: tr.querySelector('th').innerText.trim(),
  cells: [...tr.querySelectorAll('td')].map(td => {
    const a = td.querySelector('a'); const r = a ? a.getBoundingClientRect() : null;
    return {cls: td.className, text: td.innerText.trim(), href: a ? a.getAttribute('href') : null,
            w: r ? r.width : 0, h: r ? r.height : 0};
  }),
}))"""


@pytest.fixture(scope="module")
def axe():
    return axe_source()


@pytest.mark.req("F-DASH", "F-UI")
@pytest.mark.parametrize("size", list(VIEWPORTS))
def test_matrix_is_accessible_and_chases_first(new_page, axe, size):
    mobile = {"has_touch": True, "is_mobile": True} if size == "tablet" else {}
    page = new_page(viewport=VIEWPORTS[size], bypass_csp=True, **mobile)
    log_in(page, "cw-jisou-1")
    assert page.goto("/centre/submissions").status == 200
    assert page.evaluate(OVERFLOW) <= 0, f"matrix overflows at {size}"
    assert violations(page, axe) == []
    rows = page.evaluate(CELLS)
    assert 0 < len(rows) <= 50
    headers = page.locator("table.matrix thead th").count()
    links = [cell for row in rows for cell in row["cells"] if cell["href"]]
    assert all(len(row["cells"]) == headers - 1 for row in rows)
    assert links and min(min(cell["w"], cell["h"]) for cell in links) >= 24
    # Overdue facilities first: once a row without an overdue month is seen, no overdue row follows.
    overdue = ["o" in [cell["cls"] for cell in row["cells"]] for row in rows]
    assert overdue == sorted(overdue, reverse=True)
    for cell in links:
        assert re.fullmatch(r"\d+/\d+(\n?(期限超過|完了))?", cell["text"]), cell
        assert ("期限超過" in cell["text"]) == (cell["cls"] == "o")


@pytest.mark.req("F-DASH")
def test_a_matrix_cell_opens_its_facility_month(new_page):
    page = new_page(viewport=VIEWPORTS["laptop"])
    log_in(page, "cw-jisou-1")
    page.goto("/centre/submissions")
    # Any linked cell: whether the demo has an overdue month depends on the clock the suite runs at.
    # The most recent month of the first facility (the one to chase first, overdue when any is).
    row = next(row for row in page.evaluate(CELLS) if any(cell["href"] for cell in row["cells"]))
    cell = next(cell for cell in reversed(row["cells"]) if cell["href"])
    submitted, due = map(int, cell["text"].split("\n")[0].split("/"))
    page.locator(f"table.matrix a[href='{cell['href']}']").click()
    page.wait_for_load_state()
    assert row["name"].rsplit(" ", 1)[0] in page.locator("h1").inner_text()
    statuses = page.locator("tbody td .status").all_inner_texts()
    assert len(statuses) == due
    assert sum(1 for status in statuses if status in ("提出済", "確認済")) == submitted
    if cell["cls"] == "o":
        assert "期限超過" in page.locator("main").inner_text()
