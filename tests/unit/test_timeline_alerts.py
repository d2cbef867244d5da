"""The alerts source of the timeline (F-DASH, F-ALERT)."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.unit.test_timeline_sources import NOVEMBER, viewer
from webapp.alerts.models import AlertStatus
from webapp.timeline.items import Kind, Link, newest_first
from webapp.timeline.sources_alerts import alert_items

pytestmark = pytest.mark.req("F-DASH", "F-ALERT")

UTC = dt.UTC


def test_an_alerts_life_in_the_month_newest_first(make):
    centre = make.centre()
    child = make.child(facility=make.facility(centre=centre))
    caseworker = make.account("caseworker", centre=centre)
    alert = make.alert(child, raised_at=dt.datetime(2026, 11, 20, 0, tzinfo=UTC), streak_length=3,
                       status=AlertStatus.RESOLVED,
                       acknowledged_at=dt.datetime(2026, 11, 20, 1, tzinfo=UTC), acknowledged_by_id=caseworker.id,
                       resolved_at=dt.datetime(2026, 11, 21, 1, tzinfo=UTC), resolved_by_id=caseworker.id,
                       resolution_note="家庭訪問で本人の無事を確認")
    items = newest_first(alert_items(make.db, viewer(caseworker), child.id, NOVEMBER))
    assert [i.title.interpolate() for i in items] == [
        "アラート対応済: 注意", "アラート確認: 注意", "アラート発生: 注意（3日）",
    ]
    assert items[0].detail == "家庭訪問で本人の無事を確認" and items[2].detail is None
    assert {i.link for i in items} == {Link.to("alert.detail", alert_id=alert.id)}
    assert all(i.kind is Kind.ALERT for i in items)


def test_only_the_moments_inside_the_month_are_listed(make):
    centre = make.centre()
    child = make.child(facility=make.facility(centre=centre))
    caseworker = make.account("caseworker", centre=centre)
    make.alert(child, no_contact=True, raised_at=dt.datetime(2026, 10, 30, tzinfo=UTC),
               acknowledged_at=dt.datetime(2026, 11, 2, tzinfo=UTC), status=AlertStatus.ACKNOWLEDGED)
    make.alert(child, streak_id=dt.date(2026, 9, 1), raised_at=dt.datetime(2026, 9, 3, tzinfo=UTC))
    items = alert_items(make.db, viewer(caseworker), child.id, NOVEMBER)
    assert [i.title.interpolate() for i in items] == ["アラート確認: 注意・連絡なし"]


def test_an_escalated_alert_shows_its_raise_at_caution_and_its_escalation(make):
    centre = make.centre()
    child = make.child(facility=make.facility(centre=centre))
    caseworker = make.account("caseworker", centre=centre)
    make.alert(child, level="action", no_contact=True, raised_at=dt.datetime(2026, 11, 20, tzinfo=UTC),
               escalated_at=dt.datetime(2026, 11, 26, tzinfo=UTC))
    items = newest_first(alert_items(make.db, viewer(caseworker), child.id, NOVEMBER))
    assert [i.title.interpolate() for i in items] == [
        "アラート要対応に引き上げ: 要対応・連絡なし", "アラート発生: 注意・連絡なし（3日）"]


def test_facility_staff_and_other_centres_get_no_alerts(make):
    centre = make.centre()
    school = make.facility(centre=centre)
    child = make.child(facility=school)
    make.alert(child, raised_at=dt.datetime(2026, 11, 20, tzinfo=UTC))
    assert alert_items(make.db, viewer(make.account("facility", facility=school)), child.id, NOVEMBER) == []
    assert alert_items(make.db, viewer(make.account("caseworker")), child.id, NOVEMBER) == []
    assert len(alert_items(make.db, viewer(make.account("caseworker", centre=centre)), child.id, NOVEMBER)) == 1
