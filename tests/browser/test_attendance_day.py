"""The daily attendance page on a tablet and a laptop (issue #18, F-DAILY, F-UI): targets of at
least 24x24 CSS px (WCAG 2.2, 2.5.8), names that wrap by word, the save bar in view at the top of
the list, no horizontal page overflow, axe clean, and the grade/class filter."""

from __future__ import annotations

import pytest

from tests.browser.axe import axe_source, violations
from tests.browser.helpers import log_in

OVERFLOW = "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
VIEWPORTS = {"tablet": {"width": 768, "height": 1024}, "laptop": {"width": 1366, "height": 768}}
# The facility account whose facility has the most children in a class: the longest list to check.
BUSIEST = """SELECT a.login, c.facility_id, count(*) AS n FROM accounts a
             JOIN children c ON c.facility_id = a.facility_id
             WHERE a.role = 'facility' AND c.class_name IS NOT NULL
             GROUP BY a.login, c.facility_id ORDER BY n DESC, a.login LIMIT 1"""

# Smallest box of each radio and checkbox: the input itself (its label is bigger still).
TARGETS = """() => Array.from(document.querySelectorAll('table.attendance input[type=radio], table.attendance input[type=checkbox]'))
  .map(el => { const r = el.getBoundingClientRect(); return {name: el.name, value: el.value, w: r.width, h: r.height}; })"""
# Per name: how many lines it is drawn on, and the cell's width in characters of its font.
NAMES = """() => Array.from(document.querySelectorAll('table.attendance tbody th > span[id]')).map(el => {
  const size = parseFloat(getComputedStyle(el).fontSize);
  const lines = new Set(Array.from(el.getClientRects()).map(r => Math.round(r.top))).size;
  return {name: el.textContent, lines, chars: el.parentElement.getBoundingClientRect().width / size};
})"""


@pytest.fixture(scope="module")
def axe():
    return axe_source()


@pytest.fixture
def facility_login(server):
    login, facility_id, count = server.query(BUSIEST)[0]
    assert count >= 5, "the demo has no facility with a class"
    return login, facility_id


def open_an_open_day(page) -> None:
    """Today's page, or the last day before it that is open for entry (weekends and holidays are not)."""
    page.goto("/attendance")
    for _ in range(10):
        if page.locator("p.notice-warn").count() == 0:
            break
        page.goto(page.locator("a[rel=prev]").get_attribute("href"))
    assert page.locator("p.notice-warn").count() == 0, "no open day in the last ten days"
    assert page.locator("table.attendance tbody tr").count() >= 5


@pytest.mark.req("F-DAILY", "F-UI")
@pytest.mark.parametrize("size", list(VIEWPORTS))
def test_attendance_day_targets_names_and_save_bar(new_page, facility_login, axe, size, tmp_path):
    mobile = {"has_touch": True, "is_mobile": True} if size == "tablet" else {}
    page = new_page(viewport=VIEWPORTS[size], bypass_csp=True, **mobile)
    log_in(page, facility_login[0])
    open_an_open_day(page)
    assert page.evaluate(OVERFLOW) <= 0, f"the day page overflows horizontally at {size}"

    small = [t for t in page.evaluate(TARGETS) if t["w"] < 24 or t["h"] < 24]
    assert small == [], small[:5]

    names = page.evaluate(NAMES)
    assert names
    squeezed = [n for n in names if n["lines"] > 2 or n["chars"] < 3]
    assert squeezed == [], squeezed[:5]

    # At the top of the list the save button is already on screen, without scrolling
    # (the list is longer than the screen: else there is nothing to prove).
    page.evaluate("() => window.scrollTo(0, 0)")
    height = VIEWPORTS[size]["height"]
    assert page.evaluate("() => document.documentElement.scrollHeight") > height * 1.3
    page.screenshot(path=str(tmp_path / f"attendance-{size}.png"))
    for name in ("保存する", "未入力の児童を全員出席にして保存"):
        box = page.get_by_role("button", name=name, exact=True).bounding_box()
        assert box and 0 <= box["y"] and box["y"] + box["height"] <= height, (name, box)
    assert page.locator(".save-bar").inner_text().startswith("未入力")
    # ... and still at the end of the list.
    page.evaluate("() => window.scrollTo(0, document.body.scrollHeight)")
    box = page.get_by_role("button", name="保存する", exact=True).bounding_box()
    assert box and box["y"] + box["height"] <= height, box

    assert violations(page, axe) == []


@pytest.mark.req("F-DAILY")
def test_filter_by_grade_and_class_in_the_browser(new_page, server, facility_login):
    login, facility_id = facility_login
    grade, class_name = server.query(
        "SELECT grade, class_name FROM children WHERE facility_id = ? AND class_name IS NOT NULL"
        " GROUP BY grade, class_name ORDER BY count(*) DESC LIMIT 1", facility_id)[0]
    page = new_page(viewport=VIEWPORTS["tablet"], has_touch=True, is_mobile=True)
    log_in(page, login)
    open_an_open_day(page)
    total = page.locator("table.attendance tbody tr").count()
    page.locator(".att-filter select[name=grade]").select_option(grade)
    with page.expect_navigation():
        page.get_by_role("button", name="絞り込む").click()
    page.locator(".att-filter select[name=class]").select_option(class_name)
    with page.expect_navigation():
        page.get_by_role("button", name="絞り込む").click()
    shown = page.locator("table.attendance tbody tr").count()
    assert 0 < shown <= total
    assert f"{total}人中{shown}人を表示" in page.locator(".att-filter").inner_text()
    assert f"grade={grade}" in page.url
    # Saving comes back to the same filtered list.
    with page.expect_navigation():
        page.get_by_role("button", name="保存する", exact=True).click()
    assert f"grade={grade}" in page.url and page.locator("table.attendance tbody tr").count() == shown


# The first row whose child is not marked absent yet and has no reason chosen: its child id.
ROW_TO_MARK = """() => { for (const row of document.querySelectorAll('table.attendance tbody tr')) {
  const absent = row.querySelector('input[type=radio][value=absent]');
  const reason = row.querySelector('select[id^=reason-]');
  if (absent && reason && !absent.checked && !reason.value && !reason.disabled) return absent.name.slice(7);
} return null; }"""


@pytest.mark.req("F-DAILY", "F-UI")
@pytest.mark.parametrize("size", list(VIEWPORTS))
def test_tapping_absent_opens_the_reason_list_but_the_keyboard_keeps_its_focus(new_page, facility_login, size):
    mobile = {"has_touch": True, "is_mobile": True} if size == "tablet" else {}
    page = new_page(viewport=VIEWPORTS[size], **mobile)
    log_in(page, facility_login[0])
    open_an_open_day(page)
    child_id = page.evaluate(ROW_TO_MARK)
    assert child_id, "no row left to mark absent"
    absent = page.locator(f"input[name=status-{child_id}][value=absent]")
    if size == "tablet":
        absent.tap()
    else:
        absent.click()
    focused = page.evaluate("() => document.activeElement.id")
    assert focused == f"reason-{child_id}"
    assert page.locator(f"#reason-{child_id}").get_attribute("data-picker-opened") == "1"

    # With the keyboard the arrow keys walk the radio group and the focus stays in it.
    page.reload()
    other = page.evaluate(ROW_TO_MARK)
    page.locator(f"input[name=status-{other}]").first.focus()
    for _ in range(4):
        page.keyboard.press("ArrowRight")
        assert page.evaluate("() => document.activeElement.name") == f"status-{other}"
