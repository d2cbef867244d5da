"""The urgent-report and message sources of the timeline (F-DASH, F-URGENT, F-MSG)."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.unit.test_timeline_sources import NOVEMBER, viewer
from webapp.messages.models import Message, Side
from webapp.timeline.items import Kind, Link, newest_first
from webapp.timeline.sources_messages import message_items
from webapp.timeline.sources_urgent import urgent_items
from webapp.urgent.models import UrgentCategory, UrgentReport, UrgentResponse, UrgentStatus

pytestmark = pytest.mark.req("F-DASH")

UTC = dt.UTC


@pytest.fixture
def setting(make):
    centre = make.centre()
    school = make.facility(centre=centre)
    child = make.child(facility=school)
    return {"centre": centre, "school": school, "child": child,
            "staff": make.account("facility", facility=school),
            "caseworker": make.account("caseworker", centre=centre)}


def urgent(db, setting, **kw):
    kw.setdefault("created_at", dt.datetime(2026, 11, 10, 1, tzinfo=UTC))
    report = UrgentReport(facility_id=setting["school"].id, centre_id=setting["centre"].id,
                          child_id=setting["child"].id, category=UrgentCategory.INJURY,
                          description="腕にあざ", observed_at=dt.datetime(2026, 11, 10, 0, tzinfo=UTC),
                          reported_by_id=setting["staff"].id, **kw)
    db.add(report)
    db.flush()
    return report


@pytest.mark.req("F-URGENT")
def test_urgent_reports_with_their_steps_and_what_each_side_may_read(make, db, setting):
    report = urgent(db, setting, status=UrgentStatus.CLOSED,
                    acknowledged_at=dt.datetime(2026, 11, 10, 2, tzinfo=UTC), acknowledged_by_id=setting["caseworker"].id,
                    closed_at=dt.datetime(2026, 11, 12, 2, tzinfo=UTC), closed_by_id=setting["caseworker"].id,
                    closing_note="センター内部のメモ")
    db.add_all([
        UrgentResponse(report_id=report.id, author_id=setting["caseworker"].id, text="施設へ共有する返信", shared=True,
                       created_at=dt.datetime(2026, 11, 11, 2, tzinfo=UTC)),
        UrgentResponse(report_id=report.id, author_id=setting["caseworker"].id, text="内部の対応記録", shared=False,
                       created_at=dt.datetime(2026, 11, 11, 3, tzinfo=UTC)),
    ])
    db.flush()
    centre_items = newest_first(urgent_items(db, viewer(setting["caseworker"]), setting["child"].id, NOVEMBER))
    assert [(i.title.interpolate().split(":")[0], i.detail) for i in centre_items] == [
        ("緊急連絡を終了", "センター内部のメモ"),
        ("緊急連絡への対応", "内部の対応記録"),
        ("緊急連絡への対応", "施設へ共有する返信"),
        ("緊急連絡を確認", None),
        ("緊急連絡を受信", "腕にあざ"),
    ]
    assert all(i.kind is Kind.URGENT and i.link == Link.to("urgent.detail", urgent_id=report.id) for i in centre_items)
    facility_items = newest_first(urgent_items(db, viewer(setting["staff"]), setting["child"].id, NOVEMBER))
    details = [i.detail for i in facility_items]
    assert "センター内部のメモ" not in details and "内部の対応記録" not in details
    assert "施設へ共有する返信" in details and len(facility_items) == 4
    # Admins have no urgent permission: nothing.
    assert urgent_items(db, viewer(make.account("admin")), setting["child"].id, NOVEMBER) == []


@pytest.mark.req("F-URGENT")
def test_urgent_reports_of_another_facility_or_month_are_left_out(make, db, setting):
    urgent(db, setting, created_at=dt.datetime(2026, 10, 5, tzinfo=UTC))  # October
    other = make.facility(centre=setting["centre"])
    report = urgent(db, setting)
    report.facility_id = other.id  # filed by the school the child was at before
    db.flush()
    assert urgent_items(db, viewer(setting["staff"]), setting["child"].id, NOVEMBER) == []
    assert len(urgent_items(db, viewer(setting["caseworker"]), setting["child"].id, NOVEMBER)) == 1


@pytest.mark.req("F-MSG")
def test_messages_of_the_month_with_the_facilitys_part_only_for_facility_staff(make, db, setting):
    other = make.facility(centre=setting["centre"])
    long_body = "あ" * 250
    db.add_all([
        Message(child_id=setting["child"].id, facility_id=setting["school"].id, author_id=setting["caseworker"].id,
                side=Side.CENTRE, body="様子を教えてください", created_at=dt.datetime(2026, 11, 3, tzinfo=UTC)),
        Message(child_id=setting["child"].id, facility_id=setting["school"].id, author_id=setting["staff"].id,
                side=Side.FACILITY, body=long_body, created_at=dt.datetime(2026, 11, 4, tzinfo=UTC)),
        Message(child_id=setting["child"].id, facility_id=other.id, author_id=setting["caseworker"].id,
                side=Side.CENTRE, body="前の学校とのやりとり", created_at=dt.datetime(2026, 11, 2, tzinfo=UTC)),
        Message(child_id=setting["child"].id, facility_id=setting["school"].id, author_id=setting["staff"].id,
                side=Side.FACILITY, body="先月", created_at=dt.datetime(2026, 10, 31, 14, tzinfo=UTC)),
    ])
    db.flush()
    centre_items = newest_first(message_items(db, viewer(setting["caseworker"]), setting["child"].id, NOVEMBER))
    assert [i.title.interpolate() for i in centre_items] == [
        "施設からのメッセージ", "センターからのメッセージ", "センターからのメッセージ"]
    assert centre_items[0].detail == "あ" * 200 + "…"
    assert centre_items[0].link == Link.to("child.messages", child_id=setting["child"].id)
    facility_items = message_items(db, viewer(setting["staff"]), setting["child"].id, NOVEMBER)
    assert sorted(i.detail[:3] for i in facility_items) == ["あああ", "様子を"]
    assert message_items(db, viewer(make.account("admin")), setting["child"].id, NOVEMBER) == []
