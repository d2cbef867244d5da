"""ReportService, the submission matrix and the export, without a web request."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest

from tests.factories import FakeOutbox
from webapp.children.scope import Scope
from webapp.reports import export
from webapp.reports.forms import validate_report
from webapp.reports.matrix import SubmissionMatrixService
from webapp.reports.models import ReportStatus
from webapp.reports.services import (
    NEW_REPORT_TOKEN,
    EditConflict,
    NotEditable,
    NotOpenYet,
    ReportService,
    WrongStatus,
    edit_token,
)

TODAY = dt.date(2026, 11, 26)
OCTOBER = dt.date(2026, 10, 1)
GOOD = {"days_expected": "20", "days_attended": "19", "days_absent": "1", "absent_illness": "1",
        "family_contact": "yes", "condition": "元気"}


def content(**changes):
    values, errors = validate_report({**GOOD, **changes}, days_in_month=31, submit=True)
    assert errors == {}
    return values


@pytest.fixture
def setup(db, make):
    centre = make.centre()
    facility = make.facility(centre=centre)
    child = make.child(facility=facility)
    staff = make.account("facility", facility=facility)
    caseworker = make.account("caseworker", centre=centre)
    return ReportService(db, FakeOutbox()), child, staff, caseworker


def save(service, child, staff, token=NEW_REPORT_TOKEN, submit=False, period=OCTOBER, **changes):
    return service.save(child=child, period=period, account=staff, values=content(**changes),
                        token=token, submit=submit, today=TODAY)


@pytest.mark.req("F-MONTHLY")
def test_draft_is_edited_in_place_and_submission_freezes_it(setup):
    service, child, staff, _cw = setup
    report = save(service, child, staff)
    assert report.status == ReportStatus.DRAFT and len(report.versions) == 1
    report = save(service, child, staff, token=edit_token(report), condition="少し元気がない")
    assert len(report.versions) == 1 and report.versions[0].condition == "少し元気がない"
    report = save(service, child, staff, token=edit_token(report), submit=True)
    assert report.status == ReportStatus.SUBMITTED and report.versions[0].is_frozen
    with pytest.raises(NotEditable):
        save(service, child, staff, token=edit_token(report))


@pytest.mark.req("F-MONTHLY")
def test_a_stale_token_is_a_conflict_not_an_overwrite(setup):
    service, child, staff, _cw = setup
    report = save(service, child, staff)
    stale = edit_token(report)
    save(service, child, staff, token=stale, condition="先に保存した内容")
    with pytest.raises(EditConflict):
        save(service, child, staff, token=stale, condition="後から保存しようとした内容")
    assert report.versions[0].condition == "先に保存した内容"
    # Two people both starting a new report: the second one is told, not failed.
    with pytest.raises(EditConflict):
        save(service, child, staff, token=NEW_REPORT_TOKEN)
    with pytest.raises(EditConflict):
        save(service, child, staff, token="garbage")


@pytest.mark.req("F-MONTHLY")
def test_return_then_correction_starts_a_new_version(setup):
    service, child, staff, caseworker = setup
    report = save(service, child, staff, submit=True)
    with pytest.raises(NotEditable):
        save(service, child, staff, token=edit_token(report))
    service.return_report(report, caseworker, "理由を追記してください")
    assert report.status == ReportStatus.RETURNED
    with pytest.raises(WrongStatus):
        service.acknowledge(report, caseworker)
    report = save(service, child, staff, token=edit_token(report), condition="追記しました")
    assert [v.number for v in report.versions] == [1, 2]
    assert report.versions[0].condition == "元気"  # the returned version is untouched
    assert report.status == ReportStatus.RETURNED  # until resubmitted
    report = save(service, child, staff, token=edit_token(report), submit=True)
    service.acknowledge(report, caseworker)
    assert report.status == ReportStatus.ACKNOWLEDGED and report.acknowledged_by_id == caseworker.id
    with pytest.raises(NotEditable):
        save(service, child, staff, token=edit_token(report))


def test_months_that_have_not_started_cannot_be_reported(setup):
    service, child, staff, _cw = setup
    with pytest.raises(NotOpenYet):
        save(service, child, staff, period=dt.date(2026, 12, 1))


def test_a_report_written_by_another_facility_is_not_editable(setup, make):
    service, child, staff, _cw = setup
    save(service, child, staff)
    other = make.account("facility")
    with pytest.raises(NotEditable):
        service.save(child=child, period=OCTOBER, account=other, values=content(),
                     token=edit_token(service.find(_scope(staff), child.id, OCTOBER)), submit=False, today=TODAY)


def _scope(account, caseworker_scope="centre"):
    return Scope(account=account, caseworker_scope=caseworker_scope, today=TODAY)


@pytest.mark.req("F-MONTHLY")
def test_due_rows_follow_the_monitoring_period(setup, make):
    service, child, staff, _cw = setup
    facility = child.facility
    make.child(facility=facility, given_name="十一月から", monitoring_start=dt.date(2026, 11, 1))
    make.child(facility=facility, given_name="九月まで", monitoring_start=dt.date(2026, 4, 1),
               monitoring_end=dt.date(2026, 9, 30))
    names = [row.child.given_name for row in service.due_rows(_scope(staff), OCTOBER)]
    assert names == [child.given_name]
    save(service, child, staff, submit=True)
    rows = service.due_rows(_scope(staff), OCTOBER)
    assert rows[0].status_label == "提出済"


@pytest.mark.req("F-DASH")
def test_matrix_counts_due_and_submitted_per_facility_and_month(setup, make):
    service, child, staff, caseworker = setup
    make.child(facility=child.facility)  # a second child, not reported
    other_centre_child = make.child()  # not in this caseworker's scope
    save(service, child, staff, submit=True)
    months = [dt.date(2026, 9, 1), OCTOBER, dt.date(2026, 11, 1)]
    matrix = SubmissionMatrixService(service.db).build(_scope(caseworker), months, TODAY, 10)
    assert [row.facility.id for row in matrix.rows] == [child.facility_id]
    september, october, november = matrix.rows[0].cells
    assert (october.due, october.submitted, october.overdue) == (2, 1, True)
    assert (september.due, september.submitted, september.overdue) == (2, 0, True)
    assert (november.due, november.submitted, november.overdue) == (2, 0, False)
    assert other_centre_child.facility_id not in {row.facility.id for row in matrix.rows}


@pytest.mark.req("F-MONTHLY", "F-NOTIFY")
def test_returning_queues_one_link_only_email_per_facility_address_and_a_refused_return_none(setup, make):
    service, child, staff, caseworker = setup
    make.account("facility", facility=child.facility, email="school@city.example.jp")
    make.account("facility", facility=child.facility, email="gone@city.example.jp", active=False)
    make.account("facility", facility=make.facility(centre=child.centre), email="other@city.example.jp")
    make.account("caseworker", centre=child.centre, email="cw@city.example.jp")
    report = save(service, child, staff, submit=True)
    service.return_report(report, caseworker, "理由を追記してください")
    assert service.outbox.queued == [("school@city.example.jp", "report_returned", {"path": f"/reports/{report.id}"})]
    with pytest.raises(WrongStatus):  # already returned: refused, and nobody is told twice
        service.return_report(report, caseworker, "もう一度")
    assert len(service.outbox.queued) == 1
    with pytest.raises(TypeError):  # a service without the outbox cannot return silently
        ReportService(service.db).return_report(report, caseworker, "x")


@pytest.mark.req("F-EXPORT")
def test_export_uses_the_latest_submitted_version_only(setup):
    service, child, staff, caseworker = setup
    report = save(service, child, staff, submit=True, condition="=HYPERLINK(\"http://evil\")")
    service.return_report(report, caseworker, "直してください")
    save(service, child, staff, token=edit_token(report), condition="まだ下書きの版")
    rows = export.export_rows(service.db, _scope(caseworker), OCTOBER, OCTOBER)
    assert len(rows) == 1 and rows[0].number == 1
    data = export.to_csv(rows)
    assert data.startswith("\ufeff".encode())
    table = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert table[0][0] == "対象月"
    assert table[1][table[0].index("様子")] == "'=HYPERLINK(\"http://evil\")"
    assert b"\r\n" in data


def test_export_labels_need_no_neutralising():
    """The export writes its own labels without neutralising them (webapp.reports.export): none
    may start with a formula sign, or a changed label would reach Excel as a formula."""
    from webapp.csv_export import cell_text

    labels = [*export._STATUS.values(), *export._GRADE.values(), *export._CONTACT.values(), "○",
              *export.HEADER, *export._month(dt.date(2019, 4, 1)), *export._month(dt.date(2019, 5, 1))]
    assert all(cell_text(label) == label for label in labels)
    assert export._month(dt.date(2019, 5, 1)) == ("2019-05", "令和元年5月")
    assert export._jst(dt.datetime(2026, 10, 31, 15, 5, tzinfo=dt.UTC)) == "2026-11-01 00:05"
