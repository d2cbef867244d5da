"""The monthly report loop in a real browser (F-MONTHLY, F-UI).

The facility works with the keyboard only — Tab, typing, Space, Enter — as
many school staff do on a shared PC; the centre uses the page normally.
"""

from __future__ import annotations

import re

import pytest

from tests.browser.helpers import focused, log_in, press_and_wait, tab_to

# Tab order of the report form, as a person reads it.
COUNT_FIELDS = (
    "days_expected", "days_attended", "days_absent", "late_count", "early_leave_count",
    "absent_illness", "absent_family", "absent_bereavement", "absent_suspension",
    "absent_unknown", "absent_other",
)
CONDITION = "朝の表情が暗い日がある。𠮷田さんとよく遊んでいる。"


def is_link(text: str):
    return lambda info: info["tag"] == "a" and info["text"].startswith(text)


def is_button(value: str):
    return lambda info: info["tag"] == "button" and info["value"] == value


def type_in_order(page, values: dict[str, str]) -> None:
    """Type each value into the focused field, then Tab on; checks the tab order as it goes."""
    for name, value in values.items():
        assert focused(page)["id"] == name, (name, focused(page))
        page.keyboard.press("ControlOrMeta+a")
        if value:
            page.keyboard.type(value)
        else:
            page.keyboard.press("Delete")
        page.keyboard.press("Tab")


FORM_HREF = re.compile(r"/reports/period/(\d{4}-\d{2})/children/(\d+)$")


def child_without_report(page, server) -> int:
    """A child on the facility's period page with no report at all for that month.

    Chosen by what the test needs, not by position: the demo data (generated
    around the server's clock, with random statuses) puts drafts and returned
    reports of its own on the same page, in an order that changes with the date.
    """
    candidates = {}
    for href in page.locator("main a[href*='/children/']").evaluate_all("links => links.map(a => a.href)"):
        match = FORM_HREF.search(href)
        if match:
            candidates[int(match.group(2))] = match.group(1) + "-01"
    assert candidates, page.locator("main").inner_text()
    for child_id, period in sorted(candidates.items()):
        if not server.query("SELECT 1 FROM monthly_reports WHERE child_id = ? AND period = ?", child_id, period):
            return child_id
    raise AssertionError(f"every child on {page.url} already has a report")


def open_month_list(page) -> None:
    """From the facility's home (今日やること), Tab to the link to the month's list and follow it."""
    assert page.locator("h1").inner_text() == "今日やること"
    tab_to(page, lambda info: info["tag"] == "a" and info["id"] == "month-list-link")
    press_and_wait(page, "Enter")
    assert re.search(r"/reports/period/\d{4}-\d{2}$", page.url), page.url


def open_report_form(page, child_id: int, link_text: str) -> None:
    """From the facility's period page, Tab to this child's link and follow it with Enter."""
    info = tab_to(page, lambda info: is_link(link_text)(info) and info["href"].endswith(f"/children/{child_id}"))
    assert FORM_HREF.search(info["href"]), info
    press_and_wait(page, "Enter")
    assert page.url.endswith(f"/children/{child_id}")


def caseworker_for(server, child_id: int) -> str:
    (code,) = server.query(
        "SELECT centres.code FROM children JOIN centres ON centres.id = children.centre_id WHERE children.id = ?",
        child_id,
    )[0]
    return f"cw-{code}-1"


def report_id_for(server, child_id: int, period_path: str) -> int:
    period = re.search(r"/reports/period/(\d{4}-\d{2})/", period_path).group(1) + "-01"
    return server.query("SELECT id FROM monthly_reports WHERE child_id = ? AND period = ?", child_id, period)[0][0]


def notice(page) -> str:
    return page.locator(".notice").inner_text()


@pytest.mark.req("F-MONTHLY", "F-UI")
def test_report_from_draft_to_acknowledged_with_the_keyboard(new_page, server):
    facility = new_page()
    log_in(facility, "es001")
    open_month_list(facility)
    child_id = child_without_report(facility, server)
    open_report_form(facility, child_id, "入力する")
    form_url = facility.url

    # 1. Fill everything in, but with one absence reason missing: 2 days absent,
    #    only 1 given a reason. Submit with Enter on the 提出 button.
    tab_to(facility, lambda info: info["id"] == "days_expected")
    type_in_order(facility, {
        "days_expected": "20", "days_attended": "18", "days_absent": "2", "late_count": "1",
        "early_leave_count": "0", "absent_illness": "1", "absent_family": "0", "absent_bereavement": "0",
        "absent_suspension": "0", "absent_unknown": "0", "absent_other": "0", "absence_note": "",
    })
    radio = focused(facility)
    assert (radio["name"], radio["type"]) == ("family_contact", "radio")
    facility.keyboard.press("Space")  # 有
    facility.keyboard.press("Tab")
    assert focused(facility)["id"] == "condition"
    facility.keyboard.type(CONDITION)
    tab_to(facility, is_button("submit"), limit=5)
    press_and_wait(facility, "Enter")

    # The specific error is shown, and everything typed is still there.
    summary = facility.locator(".error-summary").inner_text()
    assert "欠席理由ごとの日数の合計（1日）が欠席日数（2日）と一致しません。" in summary
    assert facility.locator("#condition").input_value() == CONDITION
    assert facility.locator("#days_absent").input_value() == "2"
    assert facility.locator("input[name=family_contact][value=yes]").is_checked()

    # 2. Follow the error's link with Enter, Tab into the reasons, correct 不明,
    #    and press Enter in the field: that saves a draft (the form's first button).
    facility.locator("body").focus()
    tab_to(facility, is_link("欠席理由ごとの日数の合計"))
    facility.keyboard.press("Enter")
    tab_to(facility, lambda info: info["id"] == "absent_unknown", limit=10)
    facility.keyboard.press("ControlOrMeta+a")
    facility.keyboard.type("1")
    press_and_wait(facility, "Enter")
    assert notice(facility) == "下書きを保存しました。"
    assert facility.locator("#absent_unknown").input_value() == "1"

    # 3. Submit the corrected draft.
    tab_to(facility, is_button("submit"))
    press_and_wait(facility, "Enter")
    assert notice(facility) == "提出しました。"
    row = facility.locator("tr", has=facility.locator(f"a[href$='/children/{child_id}']"))
    assert "提出済" in row.inner_text()

    # 4. The centre returns it with a comment.
    report_id = report_id_for(server, child_id, form_url)
    centre = new_page()
    log_in(centre, caseworker_for(server, child_id))
    centre.goto(f"/reports/{report_id}")
    assert CONDITION in centre.locator("main").inner_text()
    centre.locator("#comment").fill("遅刻の回数をもう一度ご確認ください。")
    centre.get_by_role("button", name="差戻し").click()
    centre.wait_for_load_state()
    assert notice(centre) == "差し戻しました。"

    # 5. The facility's home lists the returned report first, with the centre's reason,
    #    and its link opens the form straight away; it corrects the late count and resubmits.
    facility.goto("/")
    returned = facility.locator("section.todo-returned li", has=facility.locator(f"a[href$='/children/{child_id}']"))
    assert "遅刻の回数をもう一度ご確認ください。" in returned.inner_text()
    tab_to(facility, lambda info: info["tag"] == "a" and info["href"].endswith(f"/children/{child_id}")
           and "報告を直す" in info["text"])
    press_and_wait(facility, "Enter")
    assert facility.url == form_url
    assert "遅刻の回数をもう一度ご確認ください。" in facility.locator(".returned-comment").inner_text()
    tab_to(facility, lambda info: info["id"] == "late_count")
    facility.keyboard.press("ControlOrMeta+a")
    facility.keyboard.type("0")
    tab_to(facility, is_button("submit"))
    press_and_wait(facility, "Enter")
    assert notice(facility) == "提出しました。"

    # 6. The centre sees both versions and acknowledges.
    centre.goto(f"/reports/{report_id}")
    versions = centre.locator("section[aria-labelledby=versions-heading]").inner_text()
    assert "1" in versions and "2" in versions
    centre.get_by_role("button", name="確認", exact=True).click()
    centre.wait_for_load_state()
    assert notice(centre) == "確認済にしました。"
    assert "確認済" in centre.locator(".status").first.inner_text()

    # The facility's list now shows it acknowledged, with nothing left to edit.
    facility.reload()
    row = facility.locator("tr", has=facility.locator(f"a[href$='/children/{child_id}']"))
    assert "確認済" in row.inner_text()
    assert row.locator("a.button").count() == 0
    statuses = server.query("SELECT status FROM monthly_reports WHERE id = ?", report_id)
    assert statuses == [("acknowledged",)]
    assert server.query("SELECT COUNT(*) FROM monthly_report_versions WHERE report_id = ?", report_id) == [(2,)]


@pytest.mark.req("F-UI", "F-MONTHLY")
def test_the_whole_loop_works_without_javascript(new_page, server):
    facility = new_page(java_script_enabled=False)
    log_in(facility, "es001")
    facility.locator("a#month-list-link").click()
    facility.wait_for_load_state()
    # A child with no report yet this month (whatever the other tests did).
    child_id = child_without_report(facility, server)
    facility.locator(f"a.button[href$='/children/{child_id}']").click()
    facility.wait_for_load_state()
    form_url = facility.url
    # Every count is typed: a child with daily attendance this month starts with the computed counts.
    counts = {"days_expected": "19", "days_attended": "19", "days_absent": "0", "late_count": "0",
              "early_leave_count": "0", "absent_illness": "0", "absent_family": "0", "absent_bereavement": "0",
              "absent_suspension": "0", "absent_unknown": "0", "absent_other": "0"}
    for name, value in counts.items():
        facility.locator(f"#{name}").fill(value)
    facility.locator("#nothing_special").check()
    facility.get_by_role("button", name="提出", exact=True).click()
    facility.wait_for_load_state()
    assert notice(facility) == "提出しました。"
    # Back on the month's list, where the child is now 提出済.
    assert re.search(r"/reports/period/\d{4}-\d{2}\?done=submitted$", facility.url)
    row = facility.locator("tr", has=facility.locator(f"a[href$='/children/{child_id}']"))
    assert "提出済" in row.inner_text()

    centre = new_page(java_script_enabled=False)
    log_in(centre, caseworker_for(server, child_id))
    centre.goto(f"/reports/{report_id_for(server, child_id, form_url)}")
    assert "特記事項なし" in centre.locator("main").inner_text()
    centre.get_by_role("button", name="確認", exact=True).click()
    centre.wait_for_load_state()
    assert notice(centre) == "確認済にしました。"
    # No page in the loop carries script: CSP forbids inline script and none is needed.
    assert facility.locator("script").count() == 0 and centre.locator("script").count() == 0
