"""The monthly report loop end to end (F-MONTHLY): draft -> submit -> return -> correct -> resubmit -> acknowledge."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from webapp.reports.models import MonthlyReport, MonthlyReportVersion, ReportAction, ReportEvent, ReportStatus

PERIOD = "2026-10"  # October 2026: started, 31 days; the clock stands at 2026-11-26.

GOOD = {
    "days_expected": "20",
    "days_attended": "18",
    "days_absent": "2",
    "late_count": "1",
    "early_leave_count": "0",
    "absent_illness": "1",
    "absent_unknown": "1",
    "family_contact": "partial",
    "condition": "元気に登校している。",
}


def fill(form, **values):
    for name, value in {**GOOD, **values}.items():
        form[name] = value
    return form


@pytest.fixture
def world(make):
    centre = make.centre()
    facility = make.facility(centre=centre)
    child = make.child(facility=facility, family_name="佐藤", given_name="花子")
    staff = make.account("facility", facility=facility)
    caseworker = make.account("caseworker", centre=centre)
    return {"centre": centre, "facility": facility, "child": child, "staff": staff, "caseworker": caseworker}


def edit_url(child, period=PERIOD):
    return f"/reports/period/{period}/children/{child.id}"


@pytest.mark.req("F-MONTHLY")
def test_full_loop_keeps_every_version_viewable(app, db, world, login_as):
    child = world["child"]

    # The facility sees the child as due and not yet written.
    login_as(world["staff"])
    page = app.get(f"/reports/period/{PERIOD}")
    row = page.html.find("a", string="佐藤 花子").find_parent("tr")
    assert "未作成" in row.get_text()

    # Draft: may be incomplete.
    form = app.get(edit_url(child)).forms[1]
    form["days_expected"] = "20"
    response = form.submit("action", value="save")
    assert response.status_int == 303 and "done=saved" in response.location
    page = response.follow()
    assert "下書きを保存しました。" in page.text
    assert page.forms[1]["days_expected"].value == "20"

    # Submit with complete data.
    form = fill(page.forms[1])
    response = form.submit("action", value="submit").follow()
    assert "提出しました。" in response.text
    row = response.html.find("a", string="佐藤 花子").find_parent("tr")
    assert "提出済" in row.get_text()
    report = db.scalar(sa.select(MonthlyReport).where(MonthlyReport.child_id == child.id))
    assert report.status == ReportStatus.SUBMITTED

    # A submitted report is frozen: the edit page redirects to the read-only view, a forged POST is refused.
    assert app.get(edit_url(child)).status_int == 303
    forged = app.post(edit_url(child), {**GOOD, "action": "save", "edit_token": "new",
                                         "csrf_token": form["csrf_token"].value}, status=409)
    assert "変更できません" in forged.text or "他の職員" in forged.text

    # The caseworker returns it with a comment.
    login_as(world["caseworker"])
    queue = app.get("/centre/review")
    assert "佐藤 花子" in queue.text
    detail = app.get(f"/reports/{report.id}")
    assert "元気に登校している。" in detail.text
    return_form = [f for f in detail.forms.values() if f.action.endswith("/return")][0]
    return_form["comment"] = "欠席理由「不明」の1日について、家庭への確認結果を追記してください。"
    detail = return_form.submit().follow()
    assert "差し戻しました。" in detail.text

    # The facility sees the comment prominently and corrects into version 2.
    login_as(world["staff"])
    page = app.get(edit_url(child))
    notice = page.html.select_one(".returned-comment")
    assert "家庭への確認結果を追記してください" in notice.get_text()
    assert page.forms[1]["condition"].value == "元気に登校している。"
    form = fill(page.forms[1], absent_unknown="0", absent_family="1",
                absence_note="家庭に確認し、親族の用事と判明。")
    form.submit("action", value="submit").follow()

    # The caseworker acknowledges.
    login_as(world["caseworker"])
    detail = app.get(f"/reports/{report.id}")
    assert "親族の用事" in detail.text
    ack_form = [f for f in detail.forms.values() if f.action.endswith("/acknowledge")][0]
    detail = ack_form.submit().follow()
    assert "確認済にしました。" in detail.text
    assert "確認済" in detail.html.select_one(".status").get_text()
    # No more review buttons on an acknowledged report.
    assert not [f for f in detail.forms.values() if f.action.endswith("/acknowledge")]

    # Every version is kept and viewable.
    db.expire_all()
    versions = db.scalars(sa.select(MonthlyReportVersion).where(MonthlyReportVersion.report_id == report.id)
                          .order_by(MonthlyReportVersion.number)).all()
    assert [v.number for v in versions] == [1, 2]
    assert all(v.submitted_at is not None for v in versions)
    v1 = app.get(f"/reports/{report.id}/versions/1")
    assert "不明" in v1.text and "親族の用事" not in v1.text
    v2 = app.get(f"/reports/{report.id}/versions/2")
    assert "親族の用事" in v2.text
    app.get(f"/reports/{report.id}/versions/3", status=404)

    # Every action is an event, in order.
    actions = db.scalars(sa.select(ReportEvent.action).where(ReportEvent.report_id == report.id)
                         .order_by(ReportEvent.id)).all()
    assert actions == [ReportAction.SAVED, ReportAction.SUBMITTED, ReportAction.RETURNED,
                       ReportAction.SUBMITTED, ReportAction.ACKNOWLEDGED]
    history = detail.html.find("h2", string="履歴").find_next("table").get_text()
    assert "家庭への確認結果を追記してください" in history

    # Acknowledged is read-only for the facility.
    login_as(world["staff"])
    assert app.get(edit_url(child)).status_int == 303
    detail = app.get(f"/reports/{report.id}")
    assert "修正して再提出する" not in detail.text and "入力を続ける" not in detail.text

    # The child's page lists the report by month.
    child_page = app.get(f"/children/{child.id}")
    assert "2026年10月" in child_page.text and "確認済" in child_page.text


@pytest.mark.req("F-MONTHLY")
def test_only_submitted_reports_can_be_acknowledged_or_returned(app, db, world, login_as):
    login_as(world["staff"])
    form = fill(app.get(edit_url(world["child"])).forms[1])
    form.submit("action", value="save")
    report = db.scalar(sa.select(MonthlyReport).where(MonthlyReport.child_id == world["child"].id))

    login_as(world["caseworker"])
    detail = app.get(f"/reports/{report.id}")
    assert not [f for f in detail.forms.values() if "/acknowledge" in (f.action or "")]
    token = detail.forms[0]["csrf_token"].value
    response = app.post(f"/reports/{report.id}/acknowledge", {"csrf_token": token}, status=409)
    assert "提出済の報告だけを確認・差戻しできます" in response.text
    response = app.post(f"/reports/{report.id}/return", {"csrf_token": token, "comment": "x"}, status=409)
    assert "提出済の報告だけを確認・差戻しできます" in response.text
    db.expire_all()
    assert db.get(MonthlyReport, report.id).status == ReportStatus.DRAFT


@pytest.mark.req("F-MONTHLY")
def test_return_needs_a_comment_of_at_most_2000_characters(app, db, world, login_as):
    login_as(world["staff"])
    fill(app.get(edit_url(world["child"])).forms[1]).submit("action", value="submit")
    report = db.scalar(sa.select(MonthlyReport).where(MonthlyReport.child_id == world["child"].id))

    login_as(world["caseworker"])
    detail = app.get(f"/reports/{report.id}")
    form = [f for f in detail.forms.values() if f.action.endswith("/return")][0]
    form["comment"] = "   "
    response = form.submit(status=400)
    assert "差し戻す理由を入力してください。" in response.html.select_one("#comment-error").get_text()

    form = [f for f in response.forms.values() if f.action.endswith("/return")][0]
    form["comment"] = "𠮷" * 2001
    response = form.submit(status=400)
    assert "2000文字以内" in response.html.select_one("#comment-error").get_text()
    # The input is kept.
    assert response.html.select_one("#comment").get_text() == "𠮷" * 2001
    db.expire_all()
    assert db.get(MonthlyReport, report.id).status == ReportStatus.SUBMITTED


def test_return_comment_sent_as_a_file_is_a_field_error(app, db, world, login_as):
    login_as(world["staff"])
    fill(app.get(edit_url(world["child"])).forms[1]).submit("action", value="submit")
    report = db.scalar(sa.select(MonthlyReport).where(MonthlyReport.child_id == world["child"].id))
    login_as(world["caseworker"])
    token = app.get(f"/reports/{report.id}").forms[0]["csrf_token"].value
    response = app.post(f"/reports/{report.id}/return", [("csrf_token", token)],
                        upload_files=[("comment", "c.txt", b"x")], status=400)
    assert response.html.select_one("#comment-error") is not None
