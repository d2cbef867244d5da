"""Each timeline source on its own, against the database, without a web request (F-DASH)."""

from __future__ import annotations

import datetime as dt

import pytest

from webapp.attendance.status import Attendance
from webapp.attendance.models import AbsenceReason, AttendanceEntry, AttendanceEntryVersion
from webapp.children.scope import Scope
from webapp.clock import JST
from webapp.reports.models import ReportAction, ReportEvent
from webapp.timeline import sources, sources_attendance
from webapp.timeline.items import Kind, Link, TimelineItem, Window, day_start, newest_first
from webapp.timeline.viewer import Viewer

pytestmark = pytest.mark.req("F-DASH")

D = dt.date
UTC = dt.UTC
NOVEMBER = Window.month(D(2026, 11, 1))


def entry(db, child, facility, day, status, author, **kw):
    """An attendance entry as the daily screen saves it (recorded at 10:00 JST that day)."""
    found = AttendanceEntry(child_id=child.id, facility_id=facility.id, day=day, status=status,
                            recorded_by_id=author.id, recorded_at=dt.datetime(day.year, day.month, day.day, 1, tzinfo=UTC),
                            **kw)
    db.add(found)
    db.flush()
    return found


def correct(db, found, author, when, **changes):
    """What the attendance screen does on a correction: keep the old content as a version."""
    db.add(AttendanceEntryVersion(
        entry_id=found.id, child_id=found.child_id, facility_id=found.facility_id, day=found.day,
        status=found.status, absence_reason=found.absence_reason, no_contact=found.no_contact, note=found.note,
        version=found.version, recorded_by_id=found.recorded_by_id, recorded_at=found.recorded_at,
        superseded_at=when,
    ))
    for name, value in changes.items():
        setattr(found, name, value)
    found.version += 1
    found.recorded_at = when
    db.flush()


def viewer(account) -> Viewer:
    return Viewer.of(Scope(account=account, caseworker_scope="centre", today=D(2026, 11, 26)))


@pytest.fixture
def setting(make):
    centre = make.centre()
    school = make.facility(centre=centre)
    child = make.child(facility=school)
    return {"child": child, "school": school, "staff": make.account("facility", facility=school),
            "caseworker": make.account("caseworker", centre=centre)}


def test_the_month_window_is_bounded_by_midnight_in_japan():
    assert NOVEMBER.first == D(2026, 11, 1) and NOVEMBER.last == D(2026, 11, 30)
    assert NOVEMBER.start == dt.datetime(2026, 11, 1, tzinfo=JST) == dt.datetime(2026, 10, 31, 15, tzinfo=UTC)
    assert NOVEMBER.end == dt.datetime(2026, 12, 1, tzinfo=JST)
    assert Window.month(D(2026, 12, 15)).last == D(2026, 12, 31)
    assert Window.month(D(2028, 2, 1)).last == D(2028, 2, 29)
    assert len(NOVEMBER.days()) == 30


def test_items_sort_newest_first_and_same_instant_by_sequence():
    a = TimelineItem(day_start(D(2026, 11, 2)), Kind.ATTENDANCE, "a", all_day=True)
    b = TimelineItem(dt.datetime(2026, 11, 2, 3, tzinfo=UTC), Kind.REPORT, "b", seq=1)
    c = TimelineItem(dt.datetime(2026, 11, 2, 3, tzinfo=UTC), Kind.REPORT, "c", seq=2)
    assert [i.title for i in newest_first([a, b, c])] == ["c", "b", "a"]
    assert Link.to("report.detail", report_id=3).kwargs() == {"report_id": 3}


def test_report_items_are_the_events_of_the_month_without_draft_saves(make, db, setting):
    child, staff, caseworker = setting["child"], setting["staff"], setting["caseworker"]
    report = make.report(child, D(2026, 10, 1), author=staff)
    for action, when, comment in (
        (ReportAction.SAVED, dt.datetime(2026, 11, 2, 1, tzinfo=UTC), None),
        (ReportAction.SUBMITTED, dt.datetime(2026, 11, 2, 2, tzinfo=UTC), None),
        (ReportAction.RETURNED, dt.datetime(2026, 11, 3, 2, tzinfo=UTC), "理由を書いてください"),
        # 2026-11-30 23:30 JST is still November in Japan although it is 14:30 UTC.
        (ReportAction.ACKNOWLEDGED, dt.datetime(2026, 11, 30, 14, 30, tzinfo=UTC), None),
        # 2026-12-01 00:30 JST: December, not on November's page.
        (ReportAction.ACKNOWLEDGED, dt.datetime(2026, 11, 30, 15, 30, tzinfo=UTC), None),
    ):
        db.add(ReportEvent(report_id=report.id, action=action, version_number=1, account_id=staff.id,
                           comment=comment, created_at=when))
    db.flush()
    items = newest_first(sources.report_items(db, viewer(caseworker), child.id, NOVEMBER))
    assert [i.title.interpolate() for i in items] == [
        "2026年10月分の月次報告が確認されました",
        "2026年10月分の月次報告が差し戻されました",
        "2026年10月分の月次報告が提出されました（第1版）",
    ]
    assert items[1].detail == "理由を書いてください" and items[0].detail is None
    assert {i.link for i in items} == {Link.to("report.detail", report_id=report.id)}
    assert all(i.kind is Kind.REPORT for i in items)


def test_report_items_read_only_the_reports_of_the_month_and_before(make, db, setting):
    """A month can be reported on from its first day, so a later month's report has no event in it:
    those reports are left out in SQL (issue 19 item 4) — even an impossible event does not show."""
    child, staff, caseworker = setting["child"], setting["staff"], setting["caseworker"]
    november = make.report(child, D(2026, 11, 1), author=staff)
    december = make.report(child, D(2026, 12, 1), author=staff)
    for report in (november, december):
        db.add(ReportEvent(report_id=report.id, action=ReportAction.SUBMITTED, version_number=1,
                           account_id=staff.id, created_at=dt.datetime(2026, 11, 20, 2, tzinfo=UTC)))
    db.flush()
    items = sources.report_items(db, viewer(caseworker), child.id, NOVEMBER)
    assert [i.link for i in items] == [Link.to("report.detail", report_id=november.id)]
    assert items[0].title.interpolate() == "2026年11月分の月次報告が提出されました（第1版）"


def test_report_items_of_another_facility_are_hidden_from_facility_staff(make, db, setting):
    child, staff = setting["child"], setting["staff"]
    other_school = make.facility(centre=setting["school"].centre)
    report = make.report(child, D(2026, 10, 1), author=staff)
    report.facility_id = other_school.id  # written by the school the child was at before
    db.add(ReportEvent(report_id=report.id, action=ReportAction.SUBMITTED, version_number=1,
                       account_id=staff.id, created_at=dt.datetime(2026, 11, 2, tzinfo=UTC)))
    db.flush()
    assert sources.report_items(db, viewer(staff), child.id, NOVEMBER) == []
    assert len(sources.report_items(db, viewer(setting["caseworker"]), child.id, NOVEMBER)) == 1


def test_attendance_items_list_what_is_not_plain_presence(db, setting):
    child, school, staff = setting["child"], setting["school"], setting["staff"]
    entry(db, child, school, D(2026, 11, 2), Attendance.PRESENT, staff)
    entry(db, child, school, D(2026, 11, 4), Attendance.ABSENT, staff, absence_reason=AbsenceReason.FAMILY,
          no_contact=False, note="祖母宅へ")
    entry(db, child, school, D(2026, 11, 5), Attendance.ABSENT, staff, no_contact=True)
    entry(db, child, school, D(2026, 11, 6), Attendance.LEFT_EARLY, staff)
    entry(db, child, school, D(2026, 10, 30), Attendance.ABSENT, staff)  # another month
    month = sources_attendance.load_attendance(db, viewer(setting["caseworker"]), child.id, NOVEMBER)
    items = newest_first(sources_attendance.attendance_items(month))
    assert [(i.when, i.title, i.detail) for i in items] == [
        (day_start(D(2026, 11, 6)), "早退", None),
        (day_start(D(2026, 11, 5)), "欠席（連絡なし）", None),
        (day_start(D(2026, 11, 4)), "欠席（家庭の事情）", "祖母宅へ"),
    ]
    assert all(i.all_day and i.kind is Kind.ATTENDANCE for i in items)
    assert set(month.day_entries()) == {D(2026, 11, 2), D(2026, 11, 4), D(2026, 11, 5), D(2026, 11, 6)}


def test_correction_items_chain_every_version(db, setting):
    child, school, staff = setting["child"], setting["school"], setting["staff"]
    found = entry(db, child, school, D(2026, 11, 9), Attendance.PRESENT, staff)
    correct(db, found, staff, dt.datetime(2026, 11, 9, 5, tzinfo=UTC), status=Attendance.ABSENT,
            absence_reason=AbsenceReason.ILLNESS)
    correct(db, found, staff, dt.datetime(2026, 11, 10, 5, tzinfo=UTC), status=Attendance.LATE, absence_reason=None,
            note="遅れて登校")
    month = sources_attendance.load_attendance(db, viewer(setting["caseworker"]), child.id, NOVEMBER)
    items = newest_first(sources_attendance.correction_items(month))
    assert [i.title.interpolate() for i in items] == [
        "11月9日の出欠を訂正: 欠席（病気・けが） → 遅刻",
        "11月9日の出欠を訂正: 出席 → 欠席（病気・けが）",
    ]
    assert items[0].when == dt.datetime(2026, 11, 10, 5, tzinfo=UTC) and items[0].detail == "遅れて登校"
    assert all(i.kind is Kind.CORRECTION for i in items)


def test_facility_staff_get_only_their_facilitys_entries_and_bare_dates_for_the_rest(make, db, setting):
    child, school, staff = setting["child"], setting["school"], setting["staff"]
    before = make.facility(centre=school.centre)
    before_staff = make.account("facility", facility=before)
    old = entry(db, child, before, D(2026, 11, 2), Attendance.ABSENT, before_staff, note="前の学校")
    correct(db, old, before_staff, dt.datetime(2026, 11, 2, 9, tzinfo=UTC), status=Attendance.LATE)
    entry(db, child, school, D(2026, 11, 16), Attendance.ABSENT, staff)
    month = sources_attendance.load_attendance(db, viewer(staff), child.id, NOVEMBER)
    assert [e.day for e in month.entries] == [D(2026, 11, 16)]
    assert month.elsewhere == {D(2026, 11, 2)}
    assert month.versions == ()
    assert sources_attendance.correction_items(month) == []
    everything = sources_attendance.load_attendance(db, viewer(setting["caseworker"]), child.id, NOVEMBER)
    assert len(everything.entries) == 2 and everything.elsewhere == frozenset()
    assert len(sources_attendance.correction_items(everything)) == 1
