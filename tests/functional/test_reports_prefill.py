"""The monthly report prefilled from the daily attendance, and the note where they differ (issue #18, F-MONTHLY)."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from tests.functional.test_reports_loop import PERIOD, edit_url, world  # noqa: F401 (fixture)
from webapp.reports.models import MonthlyReport, ReportStatus

# October 2026 for an elementary school: 22 weekdays, minus スポーツの日 (Mon 12 Oct) = 21 open days.
OCT = dt.date(2026, 10, 1)


def day(n):
    return dt.date(2026, 10, n)


def values(page):
    form = page.forms[1]
    return {name: form[name].value for name in (
        "days_expected", "days_attended", "days_absent", "late_count", "early_leave_count", "absent_illness",
        "absent_family", "absent_bereavement", "absent_suspension", "absent_unknown", "absent_other")}


@pytest.fixture
def recorded(make, world):
    """A child with entries on some of October's open days, one of each status and reason."""
    child = world["child"]
    make.attendance(child, day(1))  # present
    make.attendance(child, day(2), "late")
    make.attendance(child, day(5), "left_early")
    for n, reason in ((6, "illness"), (7, "family"), (8, "bereavement"), (9, "unknown"), (13, "other")):
        make.attendance(child, day(n), "absent", absence_reason=reason)
    make.attendance(child, day(14), "absent")  # no reason: counted as absent, in no reason
    make.attendance(child, day(11), "present")  # Sunday: not an open day, ignored
    make.attendance(child, day(12), "present")  # スポーツの日: ignored
    return child


@pytest.mark.req("F-MONTHLY", "F-DAILY")
def test_form_starts_from_the_daily_record_with_a_note(app, world, recorded, login_as):
    login_as(world["staff"])
    page = app.get(edit_url(recorded))
    assert values(page) == {
        "days_expected": "21", "days_attended": "3", "days_absent": "6", "late_count": "1",
        "early_leave_count": "1", "absent_illness": "1", "absent_family": "1", "absent_bereavement": "1",
        "absent_suspension": "0", "absent_unknown": "1", "absent_other": "1",
    }
    # 21 open days, 9 entered on them.
    assert "日々の出欠から自動入力しました（未入力の日 12日）" in page.html.select_one("#daily-prefill").get_text()
    assert "理由が未入力の欠席が1日あります。" in page.text
    assert page.html.select_one("#daily-differences") is None


@pytest.mark.req("F-MONTHLY", "F-DAILY")
def test_monitoring_from_mid_month_counts_only_its_open_days(app, make, world, login_as):
    child = make.child(facility=world["facility"], monitoring_start=day(15))
    make.attendance(child, day(14), "absent", absence_reason="illness")  # before monitoring: ignored
    for n in (15, 16, 19):
        make.attendance(child, day(n))
    login_as(world["staff"])
    page = app.get(edit_url(child))
    # Open days 15, 16, 19-23, 26-30.
    assert values(page)["days_expected"] == "12"
    assert values(page)["days_attended"] == "3"
    assert values(page)["days_absent"] == "0"
    assert "未入力の日 9日" in page.text


@pytest.mark.req("F-MONTHLY")
def test_no_daily_entries_leave_the_form_empty_without_a_note(app, world, login_as):
    login_as(world["staff"])
    page = app.get(edit_url(world["child"]))
    assert values(page)["days_expected"] == ""
    assert values(page)["days_attended"] == ""
    assert page.html.select_one("#daily-prefill") is None
    assert page.html.select_one("#daily-differences") is None


@pytest.mark.req("F-MONTHLY")
def test_a_saved_draft_is_not_overwritten(app, make, world, recorded, login_as):
    make.report(recorded, OCT, status="draft", author=world["staff"], days_expected=20, days_attended=0)
    login_as(world["staff"])
    page = app.get(edit_url(recorded))
    assert values(page)["days_expected"] == "20"
    assert values(page)["days_attended"] == "0"
    assert page.html.select_one("#daily-prefill") is None
    # The draft differs from the daily record: said so.
    note = page.html.select_one("#daily-differences").get_text()
    assert "出席すべき日数: 報告 20日 / 日々の記録 21日" in note


@pytest.mark.req("F-MONTHLY")
def test_edited_prefill_submits_and_both_sides_see_the_difference(app, db, world, recorded, login_as):
    login_as(world["staff"])
    form = app.get(edit_url(recorded)).forms[1]
    # The facility knows better: the 12 days not entered were all attended, and the unreasoned absence was illness.
    form["days_attended"] = "15"
    form["absent_illness"] = "2"
    form["family_contact"] = "partial"
    form["nothing_special"] = True
    response = form.submit("action", value="submit")
    assert response.status_int == 303
    report = db.scalar(sa.select(MonthlyReport).where(MonthlyReport.child_id == recorded.id))
    assert report.status == ReportStatus.SUBMITTED

    expected = ["出席日数: 報告 15日 / 日々の記録 3日", "病気・けが: 報告 2日 / 日々の記録 1日"]
    page = app.get(f"/reports/{report.id}")
    note = page.html.select_one("#daily-differences").get_text()
    assert all(line in note for line in expected)
    assert "出席すべき日数" not in note

    login_as(world["caseworker"])
    page = app.get(f"/reports/{report.id}")
    note = page.html.select_one("#daily-differences").get_text()
    assert all(line in note for line in expected)


@pytest.mark.req("F-MONTHLY", "S-WEB")
def test_another_facilitys_child_stays_out_of_reach(app, make, login_as):
    other = make.child()
    make.attendance(other, day(1))
    login_as(make.account("facility"))
    app.get(edit_url(other), status=404)


@pytest.mark.req("F-MONTHLY", "F-HELP")
def test_the_form_links_the_help_page_that_explains_the_prefill(app, world, login_as):
    login_as(world["staff"])
    page = app.get(edit_url(world["child"]))
    help_page = page.click(href="/help/monthly_report")
    assert "日々の出欠から自動入力しました" in help_page.text
    assert "報告 18日 / 日々の記録 17日" in help_page.text


@pytest.mark.req("F-MONTHLY", "F-DAILY")
def test_family_contact_starts_from_the_absences_no_contact_flags(app, make, world, login_as):
    contacted = make.child(facility=world["facility"], given_name="連絡有")
    make.attendance(contacted, day(6), "absent", absence_reason="illness")
    silent = make.child(facility=world["facility"], given_name="連絡無")
    make.attendance(silent, day(6), "absent", absence_reason="unknown", no_contact=True)
    present = make.child(facility=world["facility"], given_name="出席")
    make.attendance(present, day(6))
    login_as(world["staff"])
    for child, expected in ((contacted, "yes"), (silent, "no"), (present, None)):
        form = app.get(edit_url(child)).forms[1]
        assert form["family_contact"].value == expected, child.given_name


def _submit_next(app, child):
    form = app.get(edit_url(child)).forms[1]
    for name, value in {"days_expected": "21", "days_attended": "21", "days_absent": "0"}.items():
        form[name] = value
    form["nothing_special"] = True
    return form.submit("action", value="submit_next")


@pytest.mark.req("F-MONTHLY")
def test_submit_and_next_opens_the_next_report_still_to_do_then_the_list(app, db, make, world, login_as):
    # The month's list order is by kana: あ (done already), い, う (a draft), え; the world's child is さとう.
    facility = world["facility"]
    first, second, third, fourth = (make.child(facility=facility, family_name_kana=kana, given_name_kana="")
                                    for kana in ("あ", "い", "う", "え"))
    make.report(first, OCT)
    make.report(third, OCT, status="draft")
    login_as(world["staff"])

    response = _submit_next(app, second)
    assert response.status_int == 303
    assert response.location.endswith(f"{edit_url(third)}?done=submitted_next")
    assert "提出しました。次の児童の報告を表示しています。" in response.follow().text
    # From the last in list order it wraps round to the first still to do, skipping submitted ones.
    assert _submit_next(app, world["child"]).location.endswith(f"{edit_url(third)}?done=submitted_next")
    assert _submit_next(app, third).location.endswith(f"{edit_url(fourth)}?done=submitted_next")
    last = _submit_next(app, fourth)
    assert last.location.endswith(f"/reports/period/{PERIOD}?done=submitted_all")
    assert "この月に入力が残っている報告はありません。" in last.follow().text
    statuses = db.scalars(sa.select(MonthlyReport.status).where(MonthlyReport.period == OCT)).all()
    assert sorted(statuses) == [ReportStatus.SUBMITTED] * 5


@pytest.mark.req("F-MONTHLY")
def test_submit_and_next_with_errors_stays_on_the_form_keeping_what_was_typed(app, world, login_as):
    login_as(world["staff"])
    form = app.get(edit_url(world["child"])).forms[1]
    form["days_expected"] = "21"
    form["days_attended"] = "abc"
    response = form.submit("action", value="submit_next", status=400)
    assert response.forms[1]["days_attended"].value == "abc"
    assert response.forms[1]["days_expected"].value == "21"


@pytest.mark.req("F-MONTHLY")
def test_enter_in_order_starts_at_the_first_report_still_to_do(app, make, world, login_as):
    facility = world["facility"]
    done, draft = (make.child(facility=facility, family_name_kana=kana, given_name_kana="") for kana in ("あ", "い"))
    make.report(done, OCT)
    make.report(draft, OCT, status="draft")
    login_as(world["staff"])
    listing = app.get(f"/reports/period/{PERIOD}")
    link = listing.html.find("a", string="未提出の報告を順に入力する")
    assert link["href"].endswith(f"/reports/period/{PERIOD}/next")
    assert "残り2件" in link.parent.get_text()
    assert app.get(link["href"]).location.endswith(edit_url(draft))
    # Nothing left to do: the list, and no link on it.
    make.report(world["child"], OCT)
    make.db.query(MonthlyReport).filter(MonthlyReport.child_id == draft.id).update({"status": ReportStatus.SUBMITTED})
    assert app.get(f"/reports/period/{PERIOD}/next").location.endswith(f"/reports/period/{PERIOD}")
    assert app.get(f"/reports/period/{PERIOD}").html.find("a", string="未提出の報告を順に入力する") is None


def test_enter_in_order_refuses_a_bad_month_and_other_roles(app, make, world, login_as):
    login_as(world["staff"])
    app.get("/reports/period/2026-13/next", status=404)
    login_as(world["caseworker"])
    assert app.get(f"/reports/period/{PERIOD}/next", expect_errors=True).status_int in (403, 404)
