"""UrgentReportService without a web request (F-URGENT): filing, notification, transitions, order."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.conftest import DEFAULT_NOW
from tests.factories import FakeOutbox
from webapp.children.scope import Scope
from webapp.clock import FixedClock
from webapp.urgent.models import UrgentCategory, UrgentStatus
from webapp.urgent.services import NewReport, UrgentError, UrgentReportService


@pytest.fixture
def setup(db, make):
    centre = make.centre()
    facility = make.facility(centre=centre)
    child = make.child(facility=facility)
    staff = make.account("facility", facility=facility)
    caseworker = make.account("caseworker", centre=centre, email="a@city.example.jp")
    make.account("caseworker", centre=centre, email="b@city.example.jp", active=False)
    make.account("caseworker", centre=centre, email="")
    make.account("facility", facility=facility, email="school@city.example.jp")
    outbox, clock = FakeOutbox(), FixedClock(DEFAULT_NOW)
    return UrgentReportService(db, outbox, clock), outbox, clock, child, staff, caseworker


def new(child, text="内容"):
    return NewReport(child=child, category=UrgentCategory.OTHER, description=text,
                     observed_at=dt.datetime(2026, 11, 26, tzinfo=dt.UTC))


@pytest.mark.req("F-URGENT", "F-NOTIFY")
def test_filing_queues_one_email_per_active_caseworker_with_an_address(setup):
    service, outbox, _clock, child, staff, _cw = setup
    report = service.file(staff, new(child))
    assert outbox.queued == [("a@city.example.jp", "urgent_report", {"path": f"/urgent/{report.id}"})]
    assert report.status == UrgentStatus.RECEIVED and report.centre_id == child.centre_id


def test_only_facility_accounts_file(setup):
    service, outbox, _clock, child, _staff, caseworker = setup
    with pytest.raises(UrgentError):
        service.file(caseworker, new(child))
    assert outbox.queued == []


@pytest.mark.req("F-URGENT")
def test_transitions_keep_when_and_who_and_refuse_steps_out_of_order(setup):
    service, _outbox, clock, child, staff, caseworker = setup
    report = service.file(staff, new(child))
    with pytest.raises(UrgentError):
        service.respond(report, caseworker, "x", shared=False)
    with pytest.raises(UrgentError):
        service.close(report, caseworker, "x")
    clock.set(DEFAULT_NOW + dt.timedelta(minutes=3))
    service.acknowledge(report, caseworker)
    assert (report.status, report.acknowledged_at, report.acknowledged_by_id) == (
        UrgentStatus.ACKNOWLEDGED, DEFAULT_NOW + dt.timedelta(minutes=3), caseworker.id)
    with pytest.raises(UrgentError):
        service.acknowledge(report, caseworker)
    first = service.respond(report, caseworker, "電話した", shared=True)
    second = service.respond(report, caseworker, "訪問した", shared=False)
    assert report.status == UrgentStatus.RESPONDING and [r.text for r in report.responses] == ["電話した", "訪問した"]
    assert first.shared and not second.shared
    clock.set(DEFAULT_NOW + dt.timedelta(hours=2))
    service.close(report, caseworker, "安全確認")
    assert (report.status, report.closed_at, report.closing_note) == (
        UrgentStatus.CLOSED, DEFAULT_NOW + dt.timedelta(hours=2), "安全確認")
    for step in (lambda: service.acknowledge(report, caseworker), lambda: service.close(report, caseworker, "x"),
                 lambda: service.respond(report, caseworker, "x", shared=True)):
        with pytest.raises(UrgentError):
            step()


@pytest.mark.req("F-URGENT", "F-NOTIFY")
def test_a_shared_answer_tells_the_facility_accounts_an_internal_note_tells_nobody(setup, make):
    service, outbox, _clock, child, staff, caseworker = setup
    make.account("facility", facility=make.facility(centre=child.centre), email="other@city.example.jp")
    report = service.file(staff, new(child))
    service.acknowledge(report, caseworker)
    outbox.queued.clear()
    service.respond(report, caseworker, "内部メモ", shared=False)
    assert outbox.queued == []
    service.respond(report, caseworker, "保護者に連絡しました", shared=True)
    assert outbox.queued == [("school@city.example.jp", "urgent_answered", {"path": f"/urgent/{report.id}"})]


@pytest.mark.req("F-URGENT", "F-DASH")
def test_listing_puts_open_reports_first_oldest_first_then_closed_newest_first(setup, db):
    service, _outbox, _clock, child, staff, caseworker = setup
    a, b, c, d = (service.file(staff, new(child, text)) for text in "abcd")
    for report in (a, c):
        service.acknowledge(report, caseworker)
        service.close(report, caseworker, "done")
    db.flush()
    scope = Scope(account=caseworker, caseworker_scope="centre", today=DEFAULT_NOW.date())
    assert [r.description for r in service.listing(scope)] == ["b", "d", "c", "a"]
    assert [r.description for r in service.listing(scope, open_only=True)] == ["b", "d"]
    assert service.open_count(scope) == 2
