"""MessageService without a web request (F-MSG): unread counting, the read marker, notices."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.conftest import DEFAULT_NOW
from tests.factories import FakeOutbox
from webapp.children.scope import Scope
from webapp.clock import FixedClock
from webapp.messages.services import MessageService


@pytest.fixture
def setup(db, make):
    centre = make.centre()
    facility = make.facility(centre=centre)
    child = make.child(facility=facility)
    staff = make.account("facility", facility=facility, email="school@city.example.jp")
    caseworker = make.account("caseworker", centre=centre, email="cw@city.example.jp")
    outbox, clock = FakeOutbox(), FixedClock(DEFAULT_NOW)
    return MessageService(db, outbox, clock), outbox, clock, child, staff, caseworker


def scope(account):
    return Scope(account=account, caseworker_scope="centre", today=DEFAULT_NOW.date())


@pytest.mark.req("F-MSG")
def test_unread_counts_only_the_other_sides_messages_after_the_read_marker(setup):
    service, _outbox, clock, child, staff, caseworker = setup
    service.post(staff, child, "1")
    service.post(staff, child, "2")
    assert service.unread_counts(scope(caseworker)) == {child.id: 2}
    assert service.unread_counts(scope(staff)) == {}
    messages = service.thread(scope(caseworker), child)
    service.mark_read(caseworker, child, messages)
    assert service.unread_total(scope(caseworker)) == 0
    # The marker never moves back (an older page shown later reads nothing new).
    service.mark_read(caseworker, child, messages[:1])
    assert service.unread_total(scope(caseworker)) == 0
    service.post(caseworker, child, "返信")
    assert service.unread_counts(scope(staff)) == {child.id: 1}
    threads = service.threads(scope(staff))
    assert [(t.child.id, t.count, t.unread) for t in threads] == [(child.id, 3, 1)]


@pytest.mark.req("F-MSG", "F-NOTIFY")
def test_one_notice_per_thread_per_hour_per_recipient(setup):
    service, outbox, clock, child, staff, caseworker = setup
    service.post(staff, child, "1")
    clock.set(DEFAULT_NOW + dt.timedelta(minutes=59))
    service.post(staff, child, "2")
    assert outbox.queued == [("cw@city.example.jp", "messages",
                              {"count": 1, "path": f"/children/{child.id}/messages"})]
    clock.set(DEFAULT_NOW + dt.timedelta(minutes=60, seconds=1))
    service.post(staff, child, "3")
    assert outbox.queued[-1] == ("cw@city.example.jp", "messages",
                                 {"count": 3, "path": f"/children/{child.id}/messages"})
    assert len(outbox.queued) == 2
