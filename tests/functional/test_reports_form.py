"""The facility's monthly report form: validation beside each field, input kept, conflicts, bad input (F-MONTHLY)."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from tests.functional.test_reports_loop import GOOD, PERIOD, edit_url, fill, world  # noqa: F401 (fixture)
from webapp.clock import JST
from webapp.reports.models import MonthlyReport, MonthlyReportVersion, ReportStatus


def error_text(page, field):
    element = page.html.select_one(f"#{field}-error")
    return element.get_text() if element else ""


@pytest.mark.req("F-MONTHLY", "F-UI")
@pytest.mark.parametrize("changes, field, message", [
    ({"days_absent": "3"}, "days_absent", "出席日数と欠席日数の合計（21日）が出席すべき日数（20日）と一致しません。"),
    ({"days_expected": "32"}, "days_expected", "0から31までの数を入力してください。"),
    ({"days_attended": "-1"}, "days_attended", "0から31までの数を入力してください。"),
    ({"days_attended": "十八"}, "days_attended", "半角の整数で入力してください。"),
    ({"early_leave_count": "19"}, "early_leave_count", "早退の回数は出席日数（18日）以下にしてください。"),
    ({"absent_unknown": "0"}, "absence_reasons", "欠席理由ごとの日数の合計（1日）が欠席日数（2日）と一致しません。"),
    ({"condition": ""}, "condition", "様子を書くか、「特記事項なし」にチェックしてください。"),
    ({"nothing_special": True}, "condition", "様子を書くか「特記事項なし」を選ぶか、どちらか一方にしてください。"),
    ({"condition": "😀𠮷" * 5000}, "condition", "2000文字以内で入力してください（現在10000文字）。"),
    ({"absence_note": "あ" * 201}, "absence_note", "200文字以内"),
])
def test_each_rule_shows_its_message_beside_the_field_and_keeps_the_input(app, db, world, login_as,
                                                                          changes, field, message):
    login_as(world["staff"])
    form = fill(app.get(edit_url(world["child"])).forms[1], **changes)
    response = form.submit("action", value="submit", status=400)
    assert message in error_text(response, field)
    assert response.html.select_one(".error-summary") is not None
    kept = response.forms[1]
    for name, value in {**GOOD, **changes}.items():
        if name == "nothing_special":
            assert kept[name].checked is True
        else:
            assert kept[name].value == value
    assert db.scalar(sa.select(sa.func.count()).select_from(MonthlyReport)) == 0


@pytest.mark.req("F-MONTHLY")
def test_family_contact_is_required_when_a_day_was_absent(app, world, login_as):
    login_as(world["staff"])
    form = app.get(edit_url(world["child"])).forms[1]
    for name, value in GOOD.items():
        if name != "family_contact":
            form[name] = value
    response = form.submit("action", value="submit", status=400)
    assert "欠席がある月は、家庭からの連絡の有無を選んでください。" in error_text(response, "family_contact")


@pytest.mark.req("F-MONTHLY")
def test_full_width_digits_and_rare_kanji_are_accepted(app, db, world, login_as):
    login_as(world["staff"])
    form = fill(app.get(edit_url(world["child"])).forms[1], days_expected="２０", days_attended="１８",
                condition="𠮷野さんと😀遊んでいた")
    form.submit("action", value="submit").follow()
    version = db.scalar(sa.select(MonthlyReportVersion))
    assert version.days_expected == 20 and version.condition == "𠮷野さんと😀遊んでいた"


@pytest.mark.req("F-MONTHLY")
def test_draft_save_is_lenient_but_rejects_impossible_values(app, db, world, login_as):
    login_as(world["staff"])
    form = app.get(edit_url(world["child"])).forms[1]
    form["days_expected"] = "10"
    form["days_attended"] = "8"
    form["days_absent"] = "5"
    response = form.submit("action", value="save", status=400)
    assert "一致しません" in error_text(response, "days_absent")
    form = response.forms[1]
    form["days_absent"] = ""
    form.submit("action", value="save").follow()
    report = db.scalar(sa.select(MonthlyReport))
    assert report.status == ReportStatus.DRAFT


@pytest.mark.req("F-MONTHLY")
def test_two_staff_saving_the_same_draft_get_a_conflict_not_a_silent_overwrite(app, db, world, login_as):
    login_as(world["staff"])
    fill(app.get(edit_url(world["child"])).forms[1]).submit("action", value="save")
    first = app.get(edit_url(world["child"])).forms[1]
    second = app.get(edit_url(world["child"])).forms[1]
    fill(first, condition="一人目が書いた様子").submit("action", value="save")
    response = fill(second, condition="二人目が書いた様子").submit("action", value="save", status=409)
    assert "他の職員がこの報告を先に保存しました" in response.text
    assert response.forms[1]["condition"].value == "二人目が書いた様子"  # input kept
    db.expire_all()
    assert db.scalar(sa.select(MonthlyReportVersion.condition)) == "一人目が書いた様子"
    # Having seen the message, saving again deliberately goes through.
    response.forms[1].submit("action", value="save").follow()
    db.expire_all()
    assert db.scalar(sa.select(MonthlyReportVersion.condition)) == "二人目が書いた様子"


@pytest.mark.req("F-MONTHLY")
def test_a_month_that_has_not_started_cannot_be_reported(app, db, world, login_as, clock):
    login_as(world["staff"])
    page = app.get("/reports/period/2026-12")
    assert "この月はまだ始まっていないため" in page.text
    assert "入力する" not in page.text
    page = app.get(edit_url(world["child"], "2026-12"))
    assert len(page.forms) == 1  # only the logout form
    token = page.forms[0]["csrf_token"].value
    response = app.post(edit_url(world["child"], "2026-12"),
                        {**GOOD, "action": "submit", "edit_token": "new", "csrf_token": token}, status=400)
    assert "この月はまだ始まっていないため、報告は作成できません。" in response.text
    assert db.scalar(sa.select(sa.func.count()).select_from(MonthlyReport)) == 0
    # On the first of the month it opens.
    clock.set(dt.datetime(2026, 12, 1, 8, 0, tzinfo=JST))
    login_as(world["staff"])  # the idle session timed out meanwhile
    assert "入力する" in app.get("/reports/period/2026-12").text


@pytest.mark.req("F-MONTHLY")
def test_current_period_follows_the_deadline(app, world, login_as, clock):
    login_as(world["staff"])
    assert "2026年11月 月次報告" in app.get("/reports/period/current").text
    clock.set(dt.datetime(2026, 11, 10, 9, 0, tzinfo=JST))
    assert "2026年10月 月次報告" in app.get("/reports/period/current").text


@pytest.mark.req("F-UI", "S-WEB")
@pytest.mark.parametrize("path", [
    "/reports/period/2026-13",
    "/reports/period/abc",
    "/reports/period/0000-01",
    "/reports/period/%F0%9F%98%80",
    "/reports/period/2026-10/children/99999999999999999999",
    "/reports/period/2026-13/children/1",
    "/reports/99999999999999999999",
    "/reports/1/versions/99999999999999999999",
    "/children/99999999999999999999",
])
def test_garbage_urls_are_404_not_500(app, world, login_as, path):
    login_as(world["staff"])
    app.get(path, status=404)


@pytest.mark.req("F-MONTHLY")
def test_child_not_due_that_month_is_404(app, world, login_as):
    login_as(world["staff"])
    app.get(edit_url(world["child"], "2026-03"), status=404)  # monitoring starts in April


def test_unknown_action_only_saves_a_draft(app, db, world, login_as):
    login_as(world["staff"])
    form = fill(app.get(edit_url(world["child"])).forms[1])
    fields = dict(form.submit_fields())
    fields["action"] = "delete-everything"
    app.post(edit_url(world["child"]), fields, status=303)
    assert db.scalar(sa.select(MonthlyReport.status)) == ReportStatus.DRAFT


def test_a_file_upload_instead_of_text_is_a_field_error_not_a_500(app, world, login_as):
    login_as(world["staff"])
    form = fill(app.get(edit_url(world["child"])).forms[1])
    fields = [(k, v) for k, v in form.submit_fields() if k not in ("condition", "days_expected")]
    fields.append(("action", "submit"))
    response = app.post(edit_url(world["child"]), fields,
                        upload_files=[("condition", "x.txt", b"=1+1"), ("days_expected", "y.txt", b"20")],
                        status=400)
    assert error_text(response, "condition") and error_text(response, "days_expected")


@pytest.mark.req("F-UI")
def test_report_pages_have_english_as_second_locale(app, world, login_as):
    login_as(world["staff"])
    app.get("/locale/en?next=/")
    page = app.get(f"/reports/period/{PERIOD}")
    assert "Monthly report" in page.text and "Not started" in page.text
    form = app.get(edit_url(world["child"])).forms[1]
    response = fill(form, days_absent="3").submit("action", value="submit", status=400)
    assert "Days attended plus days absent (21) does not equal days expected (20)." in response.text
