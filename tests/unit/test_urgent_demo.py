"""Demo data for urgent reports and messages: every state, and something for the caseworker's home."""

from __future__ import annotations

import sqlalchemy as sa

from tests.conftest import DEFAULT_NOW
from tests.factories import TEST_PASSWORDS
from webapp import demo
from webapp.accounts.models import Account
from webapp.children.scope import Scope
from webapp.clock import FixedClock
from webapp.messages.services import MessageService
from webapp.urgent.models import UrgentReport, UrgentStatus
from webapp.urgent.services import UrgentReportService


def test_demo_has_reports_in_every_state_and_an_unread_thread_for_the_centre(db):
    demo.load(db, scale="small", seed=7, now=DEFAULT_NOW, password_hash=TEST_PASSWORDS.hash(demo.DEMO_PASSWORD))
    db.flush()
    reports = list(db.scalars(sa.select(UrgentReport)))
    assert {r.status for r in reports} == {UrgentStatus.RECEIVED, UrgentStatus.RESPONDING, UrgentStatus.CLOSED}
    received = next(r for r in reports if r.status == UrgentStatus.RECEIVED)
    caseworker = db.scalar(sa.select(Account).where(Account.centre_id == received.centre_id))
    scope = Scope(account=caseworker, caseworker_scope="centre", today=DEFAULT_NOW.date())
    assert received in UrgentReportService(db, None, FixedClock(DEFAULT_NOW)).listing(scope, open_only=True)
    unread = MessageService(db, None, FixedClock(DEFAULT_NOW)).unread_counts(scope)
    assert unread.get(received.child_id) == 1
