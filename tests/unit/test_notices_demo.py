"""The demo data shows notices, a lawful planned stop and siblings (F-NOTICE, O-247, F-SIB)."""

import pytest
import sqlalchemy as sa

from tests.factories import TEST_PASSWORDS
from webapp import demo
from webapp.children.siblings import SiblingLink
from webapp.closed_days.sources import JapaneseHolidays
from webapp.notices.maintenance import HolidayLookup, check_window
from webapp.notices.models import Notice, NoticeKind


@pytest.mark.date_sensitive
@pytest.mark.req("F-NOTICE", "O-247", "F-SIB")
def test_demo_has_notices_a_planned_stop_that_meets_the_rule_and_siblings(db, now):
    demo.load(db, scale="small", seed=7, now=now, password_hash=TEST_PASSWORDS.hash(demo.DEMO_PASSWORD))
    notices = list(db.scalars(sa.select(Notice)))
    assert {n.kind for n in notices} == {NoticeKind.GENERAL, NoticeKind.MAINTENANCE}
    stop = next(n for n in notices if n.kind == NoticeKind.MAINTENANCE)
    verdict = check_window(stop.maintenance_start, stop.maintenance_end, published_at=stop.publish_from,
                           holidays=HolidayLookup(JapaneseHolidays()))
    assert verdict.ok, verdict
    assert db.scalar(sa.select(sa.func.count()).select_from(SiblingLink)) > 0
