"""Japanese text renders, and pages fit a tablet (F-UI)."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from tests.browser.helpers import log_in

# Pages each role uses most, checked at tablet width.
TABLET_PAGES = {
    # "/" is the facility's to-do home (/today); the month's list was the home before and stays checked.
    "es001": ["/", "/reports/period/current", "/children"],
    "cw-setagaya-1": ["/", "/centre/review", "/children"],
    "admin": ["/admin", "/admin/facilities", "/admin/accounts"],
}
# 幅 of the body must not exceed the viewport; wide tables scroll inside their own box.
OVERFLOW = "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"


@pytest.mark.req("F-UI")
def test_japanese_text_renders_with_a_japanese_font(page, tmp_path):
    page.goto("/login")
    assert "見守り" in page.locator("body").inner_text()
    assert page.title().endswith("見守り")
    shot = tmp_path / "login.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 5_000
    # A glyph-level check: CJK text drawn with a real Japanese font is as wide
    # as the font says a full-width character is (about one em each), not the
    # narrow boxes of a missing glyph.
    width = page.evaluate("""() => {
        const ctx = document.createElement('canvas').getContext('2d');
        ctx.font = '20px sans-serif';
        return ctx.measureText('見守り').width;
    }""")
    assert 55 <= width <= 65, width
    if shutil.which("fc-match"):
        family = subprocess.run(["fc-match", ":lang=ja", "family"], capture_output=True, text=True).stdout
        assert "CJK" in family or "Noto" in family, family


@pytest.mark.req("F-UI")
def test_rare_kanji_in_names_render(page, server, tmp_path):
    # The demo gives the showcase school a child with a rare-kanji family name.
    log_in(page, "es001")
    page.goto("/children")
    text = page.locator("main").inner_text()
    rare = [name for (name,) in server.query("SELECT family_name FROM children")
            if any(ch in name for ch in "髙﨑𠮷邉齋濵瀨")]
    assert rare and any(name in text for name in rare)
    page.screenshot(path=str(tmp_path / "children.png"))
    assert (tmp_path / "children.png").stat().st_size > 5_000


@pytest.mark.req("F-UI")
@pytest.mark.parametrize("login", list(TABLET_PAGES))
def test_pages_fit_a_tablet_without_horizontal_scrolling(new_page, login):
    page = new_page(viewport={"width": 768, "height": 1024}, has_touch=True, is_mobile=True)
    log_in(page, login)
    for path in TABLET_PAGES[login]:
        response = page.goto(path)
        assert response.status == 200, path
        assert page.evaluate(OVERFLOW) <= 0, f"{path} overflows horizontally at 768px"


@pytest.mark.req("F-UI")
def test_report_form_and_matrix_fit_a_tablet(new_page):
    page = new_page(viewport={"width": 768, "height": 1024}, has_touch=True, is_mobile=True)
    log_in(page, "es001")
    page.goto("/reports/period/current")  # the month's list (login lands on the to-do home)
    # Any child's form will do (入力する or 続きを入力: both open the form).
    link = page.locator("main a.button[href*='/children/']").first
    page.goto(link.get_attribute("href"))
    assert page.locator("#days_expected").is_visible()
    assert page.evaluate(OVERFLOW) <= 0, "report form overflows at 768px"

    centre = new_page(viewport={"width": 768, "height": 1024}, has_touch=True, is_mobile=True)
    log_in(centre, "cw-setagaya-1")
    centre.goto("/centre/submissions?months=12")
    # Twelve months do not fit in 768px: the table scrolls in its own box, the page does not.
    assert centre.locator(".table-scroll table").is_visible()
    assert centre.evaluate(OVERFLOW) <= 0, "matrix page overflows at 768px"


# Per matrix page at 768px: the narrowest facility-name cell and status word, in units of the
# font size, how many lines the status words take, the smallest cell link, and the first column's position.
MATRIX_LAYOUT = """() => {
  const em = el => parseFloat(getComputedStyle(el).fontSize);
  const names = [...document.querySelectorAll('table.matrix tbody th')];
  const flags = [...document.querySelectorAll('table.matrix td b')];
  const links = [...document.querySelectorAll('table.matrix td a')].map(a => a.getBoundingClientRect());
  const lineHeight = el => parseFloat(getComputedStyle(el).lineHeight) || em(el) * 1.6;
  return {
    rows: names.length,
    nameEms: Math.min(...names.map(th => th.getBoundingClientRect().width / em(th))),
    flagLines: Math.max(0, ...flags.map(b => Math.round(b.getBoundingClientRect().height / lineHeight(b)))),
    flags: flags.length,
    linkMin: Math.min(...links.map(r => Math.min(r.width, r.height))),
    sticky: names.length ? getComputedStyle(names[0]).position : '',
    scrolls: (() => { const box = document.querySelector('.table-scroll');
                      return box ? box.scrollWidth > box.clientWidth : false; })(),
  };
}"""


@pytest.mark.req("F-UI")
@pytest.mark.parametrize("query", ["", "?months=12"])
def test_matrix_reads_on_a_tablet(new_page, query):
    page = new_page(viewport={"width": 768, "height": 1024}, has_touch=True, is_mobile=True)
    log_in(page, "cw-setagaya-1")
    assert page.goto("/centre/submissions" + query).status == 200
    assert page.evaluate(OVERFLOW) <= 0, "matrix page overflows at 768px"
    layout = page.evaluate(MATRIX_LAYOUT)
    assert layout["rows"] > 0, layout
    # Facility names wrap by words in a column several characters wide, never one character a line.
    assert layout["nameEms"] > 4, layout
    # 「期限超過」「完了」 stay on one line (not 「期限超/過」).
    assert layout["flags"] > 0 and layout["flagLines"] == 1, layout
    assert layout["linkMin"] >= 24, layout
    if layout["scrolls"]:
        # The table scrolls in its own box: the facility column stays in view.
        assert layout["sticky"] == "sticky", layout


# Checkboxes, buttons and page links of the review queue, and the review buttons of a report.
REVIEW_TARGETS = ("table.review-queue input[type=checkbox]", ".bulk-actions button", ".queue-filters button",
                  ".pager a")


@pytest.mark.req("F-UI")
def test_review_queue_targets_are_at_least_24px_on_a_tablet(new_page):
    page = new_page(viewport={"width": 768, "height": 1024}, has_touch=True, is_mobile=True)
    log_in(page, "cw-setagaya-1")
    page.goto("/centre/review")
    small = []
    for selector in REVIEW_TARGETS:
        boxes = [page.locator(selector).nth(i).bounding_box() for i in range(min(page.locator(selector).count(), 10))]
        # The small demo may fit on one page: then there are no page links to measure.
        assert boxes or selector == ".pager a", f"nothing matches {selector}"
        small += [(selector, box) for box in boxes if box["width"] < 24 or box["height"] < 24]
    assert page.evaluate(OVERFLOW) <= 0, "review queue overflows at 768px"
    page.goto(page.locator("table.review-queue tbody th a").first.get_attribute("href"))
    for button in (page.get_by_role("button", name="確認して次へ"), page.get_by_role("button", name="確認", exact=True)):
        box = button.bounding_box()
        if box["width"] < 24 or box["height"] < 24:
            small.append(("review button", box))
    assert small == []
