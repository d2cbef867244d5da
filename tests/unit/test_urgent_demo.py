"""Demo data for urgent reports and messages: every state, and something for the caseworker's home."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from tests.factories import TEST_PASSWORDS
from webapp import demo
from webapp.accounts.models import Account
from webapp.children.scope import Scope
from webapp.clock import JST, FixedClock
from webapp.messages.services import MessageService
from webapp.urgent.models import UrgentReport, UrgentStatus
from webapp.urgent.services import UrgentReportService


@pytest.mark.date_sensitive
def test_demo_has_reports_in_every_state_and_an_unread_thread_for_the_centre(db, now):
    demo.load(db, scale="small", seed=7, now=now, password_hash=TEST_PASSWORDS.hash(demo.DEMO_PASSWORD))
    db.flush()
    reports = list(db.scalars(sa.select(UrgentReport)))
    assert {r.status for r in reports} == {UrgentStatus.RECEIVED, UrgentStatus.RESPONDING, UrgentStatus.CLOSED}
    received = next(r for r in reports if r.status == UrgentStatus.RECEIVED)
    caseworker = db.scalar(sa.select(Account).where(Account.centre_id == received.centre_id))
    scope = Scope(account=caseworker, caseworker_scope="centre", today=now.astimezone(JST).date())
    assert received in UrgentReportService(db, None, FixedClock(now)).listing(scope, open_only=True)
    unread = MessageService(db, None, FixedClock(now)).unread_counts(scope)
    assert unread.get(received.child_id) == 1
