"""The facility is emailed when the centre returns a monthly report or answers an urgent report
(F-NOTIFY, F-URGENT, F-MONTHLY; issue 18 item 7): one email per facility address, a link only.
"""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from pyramid.scripting import prepare

from tests.factories import FakeOutbox
from webapp.mail.models import OutboxMessage
from webapp.mail.services import MailOutbox
from webapp.reports.forms import validate_report
from webapp.reports.models import ReportStatus
from webapp.reports.services import NEW_REPORT_TOKEN, ReportService
from webapp.urgent.models import UrgentCategory, UrgentReport, UrgentStatus
from webapp.urgent.services import NewReport, UrgentReportService

OCTOBER = dt.date(2026, 10, 1)
CONTENT = {"days_expected": "20", "days_attended": "19", "days_absent": "1", "absent_illness": "1",
           "family_contact": "yes", "condition": "元気に登校している。"}
COMMENT = "欠席理由について家庭への確認結果を追記してください。"
ANSWER = "保護者に連絡し、本日家庭訪問します。"


@pytest.fixture
def world(make):
    centre = make.centre()
    facility = make.facility(centre=centre)
    quiet = make.facility(centre=centre)  # no account with an address
    return {
        "facility": facility, "quiet": quiet,
        "child": make.child(facility=facility, family_name="𠮷田", given_name="花子"),
        "quiet_child": make.child(facility=quiet, family_name="鈴木", given_name="一郎"),
        "staff": make.account("facility", facility=facility, email="school@city.example.jp"),
        "staff2": make.account("facility", facility=facility, email="vice@city.example.jp"),
        "left": make.account("facility", facility=facility, email="left@city.example.jp", active=False),
        "quiet_staff": make.account("facility", facility=quiet),
        "other": make.account("facility", facility=make.facility(centre=centre), email="other@city.example.jp"),
        "caseworker": make.account("caseworker", centre=centre, email="cw@city.example.jp"),
    }


def submitted_report(db, child, staff):
    values, errors = validate_report(CONTENT, days_in_month=31, submit=True)
    assert errors == {}
    report = ReportService(db).save(child=child, period=OCTOBER, account=staff, values=values,
                                    token=NEW_REPORT_TOKEN, submit=True, today=dt.date(2026, 11, 26))
    db.commit()
    return report


def answered_urgent_report(db, child, staff, caseworker, clock):
    service = UrgentReportService(db, FakeOutbox(), clock)
    report = service.file(staff, NewReport(child=child, category=UrgentCategory.INJURY,
                                           description="左腕にあざ。", observed_at=clock.now()))
    service.acknowledge(report, caseworker)
    db.commit()
    return report


def mails(db):
    db.expire_all()
    return list(db.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.id)))


def assert_no_personal_data(mail, world, *texts):
    text = mail.subject + mail.body
    for personal in ("𠮷田", "花子", world["facility"].name, world["child"].grade.value, "2026", "10月",
                     *texts):
        assert personal not in text, personal


def return_form(page):
    return [f for f in page.forms.values() if f.action.endswith("/return")][0]


@pytest.mark.req("F-MONTHLY", "F-NOTIFY")
def test_returning_a_report_emails_each_facility_address_once_with_a_link_only(app, db, world, login_as):
    report = submitted_report(db, world["child"], world["staff"])
    login_as(world["caseworker"])
    form = return_form(app.get(f"/reports/{report.id}"))
    form["comment"] = COMMENT
    assert "差し戻しました。" in form.submit().follow().text

    queued = mails(db)
    assert sorted(m.recipient for m in queued) == ["school@city.example.jp", "vice@city.example.jp"]
    for mail in queued:
        assert mail.template == "report_returned"
        assert mail.subject == "【見守り】月次報告が差し戻されました"
        assert f"https://localhost/reports/{report.id}\n" in mail.body and "ログイン" in mail.body
        assert_no_personal_data(mail, world, COMMENT, "元気に登校")

    # A second return of the same report is refused (409) and tells nobody again.
    form["comment"] = "もう一度"
    form.submit(status=409)
    assert len(mails(db)) == 2


@pytest.mark.req("F-MONTHLY", "F-NOTIFY")
def test_no_email_for_a_facility_without_addresses_or_a_return_with_a_bad_comment(app, db, world, login_as):
    quiet_report = submitted_report(db, world["quiet_child"], world["quiet_staff"])
    report = submitted_report(db, world["child"], world["staff"])
    login_as(world["caseworker"])
    form = return_form(app.get(f"/reports/{report.id}"))
    form["comment"] = ""  # required: refused before anything changes
    form.submit(status=400)
    assert mails(db) == []
    form = return_form(app.get(f"/reports/{quiet_report.id}"))
    form["comment"] = COMMENT
    form.submit().follow()
    db.expire_all()
    assert db.get(type(quiet_report), quiet_report.id).status == ReportStatus.RETURNED
    assert mails(db) == []


def in_request(wsgi_app, action):
    """Runs ``action(request)`` in a request transaction that is then rolled back."""
    env = prepare(registry=wsgi_app.registry)
    request = env["request"]
    try:
        request.tm.begin()
        action(request)
        request.db.flush()
        assert request.db.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)) > 0
        request.tm.abort()
    finally:
        env["closer"]()


@pytest.mark.req("F-MONTHLY", "F-URGENT", "F-NOTIFY")
def test_a_rolled_back_return_or_answer_sends_nothing(wsgi_app, db, world, clock):
    report = submitted_report(db, world["child"], world["staff"])
    urgent = answered_urgent_report(db, world["child"], world["staff"], world["caseworker"], clock)

    def return_it(request):
        service = ReportService(request.db, request.find_service(MailOutbox))
        service.return_report(request.db.get(type(report), report.id),
                              request.db.get(type(world["caseworker"]), world["caseworker"].id), COMMENT)

    def answer_it(request):
        service = UrgentReportService(request.db, request.find_service(MailOutbox), clock)
        service.respond(request.db.get(UrgentReport, urgent.id),
                        request.db.get(type(world["caseworker"]), world["caseworker"].id), ANSWER, shared=True)

    in_request(wsgi_app, return_it)
    in_request(wsgi_app, answer_it)
    assert mails(db) == []
    assert db.get(type(report), report.id).status == ReportStatus.SUBMITTED


@pytest.mark.req("F-URGENT", "F-NOTIFY")
def test_answering_an_urgent_report_emails_the_facility_an_internal_note_does_not(app, db, world, login_as,
                                                                                  clock):
    urgent = answered_urgent_report(db, world["child"], world["staff"], world["caseworker"], clock)
    login_as(world["caseworker"])
    form = app.get(f"/urgent/{urgent.id}").forms["respond-form"]
    form["response"] = "内部メモ：過去に同様の通告あり。"
    page = form.submit().follow()
    assert mails(db) == []

    form = page.forms["respond-form"]
    form["response"] = ANSWER
    form["shared"] = True
    page = form.submit().follow()
    queued = mails(db)
    assert sorted(m.recipient for m in queued) == ["school@city.example.jp", "vice@city.example.jp"]
    for mail in queued:
        assert mail.template == "urgent_answered"
        assert "返信" in mail.subject and f"https://localhost/urgent/{urgent.id}\n" in mail.body
        assert_no_personal_data(mail, world, ANSWER, "あざ", "injury", "けが")

    # Closed: a reply is refused (409) and nobody is emailed.
    form = page.forms["close-form"]
    form["closing_note"] = "安全を確認。"
    form.submit().follow()
    db.expire_all()
    assert db.get(UrgentReport, urgent.id).status == UrgentStatus.CLOSED
    app.post(f"/urgent/{urgent.id}/respond", {"response": ANSWER, "shared": "1",
                                              "csrf_token": form["csrf_token"].value}, status=409)
    assert len(mails(db)) == 2


@pytest.mark.req("F-URGENT", "F-NOTIFY")
def test_answering_a_quiet_facilitys_urgent_report_emails_nobody(app, db, world, login_as, clock):
    urgent = answered_urgent_report(db, world["quiet_child"], world["quiet_staff"], world["caseworker"], clock)
    login_as(world["caseworker"])
    form = app.get(f"/urgent/{urgent.id}").forms["respond-form"]
    form["response"] = ANSWER
    form["shared"] = True
    assert "対応を記録しました" in form.submit().follow().text
    assert mails(db) == []


@pytest.mark.req("F-NOTIFY")
def test_the_admin_outbox_page_lists_the_return_mail_newest_first(app, db, make, world, login_as):
    report = submitted_report(db, world["child"], world["staff"])
    login_as(world["caseworker"])
    form = return_form(app.get(f"/reports/{report.id}"))
    form["comment"] = COMMENT
    form.submit().follow()
    login_as(make.account("admin"))
    table = app.get("/admin/mail").html.select_one("#mail-recent")
    rows = [row.get_text(" ", strip=True) for row in table.select("tbody tr")]
    assert len(rows) == 2
    assert all("月次報告が差し戻されました" in row and "送信待ち" in row for row in rows)
    assert {"school@city.example.jp", "vice@city.example.jp"} == {
        address for row in rows for address in ("school@city.example.jp", "vice@city.example.jp") if address in row}
    ids = [int(row.split()[0]) for row in rows]
    assert ids == sorted(ids, reverse=True)
    assert COMMENT not in table.get_text()
