"""AttendanceService, the day's form and the database-backed calendar, without a web request (F-DAILY)."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from webob.multidict import MultiDict

from webapp.attendance.status import Attendance
from webapp.attendance.forms import validate_day
from webapp.attendance.models import AbsenceReason, AttendanceEntry, AttendanceEntryVersion
from webapp.attendance.services import AttendanceService, DayNotOpen, EntryConflict, RowInput
from webapp.children.models import Grade
from webapp.children.scope import Scope
from webapp.closed_days import Calendar, FixedHolidays
from webapp.closed_days.facility_days import ClosureService, DbFacilityDays, why_closed
from webapp.closed_days.models import ClosureKind, FacilityClosure

TODAY = dt.date(2026, 11, 26)  # Thursday
WEDNESDAY = dt.date(2026, 11, 25)


def scope(account):
    return Scope(account=account, caseworker_scope="centre", today=TODAY)


def calendar(db, holidays=()):
    return Calendar(FixedHolidays(holidays), DbFacilityDays(db))


@pytest.fixture
def setup(db, make):
    facility = make.facility()
    staff = make.account("facility", facility=facility)
    children = [make.child(facility=facility, grade=Grade.ES1, family_name_kana=kana) for kana in ("う", "あ")]
    return facility, staff, children, AttendanceService(db)


def save(service, db, facility, staff, children, rows, day=WEDNESDAY, holidays=()):
    return service.save_day(facility_id=facility.id, day=day, children=children, rows=rows, account=staff,
                            calendar=calendar(db, holidays), today=TODAY)


@pytest.mark.req("F-DAILY")
def test_children_for_day_are_in_register_order_and_monitored_that_day(db, make, setup):
    facility, staff, (u, a), service = setup
    ended = make.child(facility=facility, monitoring_end=dt.date(2026, 11, 24))
    make.child()  # another facility
    assert service.children_for_day(scope(staff), facility.id, WEDNESDAY) == [a, u]
    assert ended in service.children_for_day(scope(staff), facility.id, dt.date(2026, 11, 24))


@pytest.mark.req("F-DAILY")
def test_a_correction_moves_the_old_content_into_a_version(db, setup):
    facility, staff, children, service = setup
    child = children[0]
    first = save(service, db, facility, staff, children,
                 [RowInput(child.id, 0, Attendance.ABSENT, AbsenceReason.UNKNOWN, True, "連絡なし")])
    assert (first.created, first.corrected) == (1, 0)
    second = save(service, db, facility, staff, children, [RowInput(child.id, 1, Attendance.PRESENT)])
    assert (second.created, second.corrected) == (0, 1)
    third = save(service, db, facility, staff, children, [RowInput(child.id, 2, Attendance.PRESENT)])
    assert third.unchanged == 1
    entry = db.scalar(sa.select(AttendanceEntry).where(AttendanceEntry.child_id == child.id))
    assert (entry.status, entry.version, entry.absence_reason, entry.no_contact, entry.note) == (
        "present", 2, None, False, None)
    [old] = db.scalars(sa.select(AttendanceEntryVersion)).all()
    assert (old.version, old.status, old.absence_reason, old.no_contact, old.note) == (
        1, "absent", "unknown", True, "連絡なし")


@pytest.mark.req("F-DAILY")
def test_a_stale_version_refuses_the_whole_day(db, setup):
    facility, staff, (c1, c2), service = setup
    save(service, db, facility, staff, [c1, c2], [RowInput(c1.id, 0, Attendance.PRESENT)])
    with pytest.raises(EntryConflict) as caught:
        save(service, db, facility, staff, [c1, c2],
             [RowInput(c1.id, 0, Attendance.ABSENT, AbsenceReason.ILLNESS), RowInput(c2.id, 0, Attendance.LATE)])
    assert caught.value.child_ids == {c1.id}
    assert db.scalar(sa.select(sa.func.count()).select_from(AttendanceEntry)) == 1


@pytest.mark.req("F-DAILY")
@pytest.mark.parametrize("day, holidays", [
    (dt.date(2026, 11, 28), ()),  # Saturday at a school
    (dt.date(2026, 11, 23), (dt.date(2026, 11, 23),)),  # a holiday
    (dt.date(2026, 12, 29), ()),  # 年末年始 (and in the future)
    (dt.date(2026, 11, 27), ()),  # tomorrow
])
def test_closed_and_future_days_refuse_entry(db, setup, day, holidays):
    facility, staff, children, service = setup
    with pytest.raises(DayNotOpen):
        save(service, db, facility, staff, children, [RowInput(children[0].id, 0, Attendance.PRESENT)],
             day=day, holidays=holidays)
    assert db.scalar(sa.select(sa.func.count()).select_from(AttendanceEntry)) == 0


@pytest.mark.req("F-DAILY")
def test_rows_for_children_not_on_the_list_are_ignored(db, make, setup):
    facility, staff, children, service = setup
    stranger = make.child()
    result = save(service, db, facility, staff, children, [RowInput(stranger.id, 0, Attendance.PRESENT)])
    assert result.created == 0
    assert db.scalar(sa.select(sa.func.count()).select_from(AttendanceEntry)) == 0


@pytest.mark.req("F-DAILY", "F-ROLE")
def test_child_history_follows_the_scope(db, make, setup):
    facility, staff, (child, _other), service = setup
    elsewhere = make.facility(centre=facility.centre)
    make.attendance(child, dt.date(2026, 11, 20), facility_id=elsewhere.id)
    make.attendance(child, WEDNESDAY)
    mine = service.child_history(scope(staff), child, TODAY)
    assert [e.day for e in mine] == [WEDNESDAY]
    caseworker = make.account("caseworker", centre=facility.centre)
    assert [e.day for e in service.child_history(scope(caseworker), child, TODAY)] == [WEDNESDAY, dt.date(2026, 11, 20)]
    assert service.facility_in_scope(scope(make.account("caseworker")), facility.id) is None
    assert service.facility_in_scope(scope(caseworker), facility.id) == facility
    assert service.facility_for_entry(staff, elsewhere.id) is None
    assert service.facility_for_entry(caseworker, facility.id) is None


@pytest.mark.req("F-DAILY")
def test_the_db_calendar_reads_closures_and_openings_and_says_why(db, make, setup):
    facility, staff, _children, _service = setup
    db.add_all([
        FacilityClosure(facility_id=facility.id, starts_on=dt.date(2026, 7, 21), ends_on=dt.date(2026, 8, 31),
                        kind=ClosureKind.CLOSED, label="夏休み", created_by_id=staff.id),
        FacilityClosure(facility_id=facility.id, starts_on=dt.date(2026, 8, 22), ends_on=dt.date(2026, 8, 22),
                        kind=ClosureKind.EXTRA_OPEN, label="登校日", created_by_id=staff.id),
    ])
    db.flush()
    cal = calendar(db, holidays=(dt.date(2026, 11, 23),))
    assert not cal.is_open(facility.id, dt.date(2026, 8, 3))
    assert cal.is_open(facility.id, dt.date(2026, 8, 22))  # a Saturday inside the break, opened
    assert cal.is_open(facility.id, dt.date(2026, 9, 1))
    text = lambda day: str(why_closed(cal, facility.id, day).interpolate())  # noqa: E731
    assert text(dt.date(2026, 8, 3)) == "休業期間（夏休み）"
    assert text(dt.date(2026, 11, 23)) == "祝日"
    assert text(dt.date(2027, 1, 2)) == "年末年始"
    assert text(dt.date(2026, 11, 29)) == "日曜日（定休日）"
    assert why_closed(cal, facility.id, dt.date(2026, 8, 22)) is None


def test_the_real_holiday_source_names_the_holiday(db, setup):
    from webapp.closed_days import JapaneseHolidays

    facility, _staff, _children, _service = setup
    cal = Calendar(JapaneseHolidays(), DbFacilityDays(db))
    assert "勤労感謝の日" in why_closed(cal, facility.id, dt.date(2026, 11, 23)).interpolate()


@pytest.mark.req("F-DAILY")
def test_closure_rules(db, setup):
    facility, staff, _children, _service = setup
    service = ClosureService(db)
    ok = {"kind": "closed", "label": "冬休み", "starts_on": "2026-12-24", "ends_on": "2027-01-07"}
    values, errors = service.validate(facility.id, ok)
    assert errors == {}
    service.add(facility.id, values, staff.id)
    _values, errors = service.validate(facility.id, {**ok, "starts_on": "2027-01-07", "ends_on": "2027-01-08"})
    assert set(errors) == {"starts_on"}
    _values, errors = service.validate(facility.id, {**ok, "kind": "extra_open"})
    assert errors == {}
    exactly_120 = {**ok, "starts_on": "2027-04-01", "ends_on": "2027-07-29"}
    assert service.validate(facility.id, exactly_120)[1] == {}
    assert set(service.validate(facility.id, {**exactly_120, "ends_on": "2027-07-30"})[1]) == {"ends_on"}


@pytest.mark.req("F-DAILY")
def test_the_day_form_validation(db):
    post = MultiDict({
        "status-1": "absent", "reason-1": "bereavement", "no_contact-1": "1", "note-1": " 𠮷 ", "version-1": "3",
        "status-2": "present", "reason-2": "illness", "no_contact-2": "1", "version-2": "0",
        "status-3": "", "version-3": "0",
        "status-4": "absent", "version-4": "0",
        "status-5": "", "note-5": "メモだけ", "version-5": "0",
    })
    rows, errors = validate_day(post, [1, 2, 3, 4, 5])
    assert rows[0] == RowInput(1, 3, Attendance.ABSENT, AbsenceReason.BEREAVEMENT, True, "𠮷")
    # A reason left over from switching to 出席 is dropped.
    assert rows[1] == RowInput(2, 0, Attendance.PRESENT, None, False, None)
    assert rows[2].status is None
    assert set(errors) == {"reason-4", "status-5"}


@pytest.mark.req("F-DAILY")
def test_two_people_entering_different_rows_of_one_day_do_not_conflict(db, setup):
    facility, staff, (c1, c2), service = setup
    # Both opened the empty day; the first saves c1, the second c2 (leaving c1 empty).
    save(service, db, facility, staff, [c1, c2], [RowInput(c1.id, 0, Attendance.PRESENT), RowInput(c2.id, 0, None)])
    result = save(service, db, facility, staff, [c1, c2],
                  [RowInput(c1.id, 0, None), RowInput(c2.id, 0, Attendance.LATE)])
    assert result.created == 1
    # Choosing the very same as what was saved meanwhile is no conflict either.
    same = save(service, db, facility, staff, [c1, c2], [RowInput(c1.id, 0, Attendance.PRESENT)])
    assert same.unchanged == 1


@pytest.mark.req("F-DAILY")
def test_a_first_entry_saved_by_a_concurrent_request_is_a_conflict_not_an_error(db, make, setup, monkeypatch):
    facility, staff, (c1, c2), service = setup
    make.attendance(c1, WEDNESDAY, "present")
    # As if the other request inserted after this one read the day.
    monkeypatch.setattr(service, "entries_for_day", lambda *args: {})
    with pytest.raises(EntryConflict):
        save(service, db, facility, staff, [c1, c2],
             [RowInput(c2.id, 0, Attendance.LATE), RowInput(c1.id, 0, Attendance.ABSENT, AbsenceReason.ILLNESS)])
    # All or nothing, and the session is still usable.
    assert db.scalars(sa.select(AttendanceEntry.status)).all() == ["present"]


@pytest.mark.req("F-DAILY")
def test_a_correction_racing_another_correction_loses_cleanly(db, make, setup, monkeypatch):
    facility, staff, (c1, c2), service = setup
    make.attendance(c1, WEDNESDAY, "present")
    read = service.entries_for_day

    def read_then_someone_corrects(*args):
        found = read(*args)
        db.execute(sa.update(AttendanceEntry).values(version=2))
        return found

    monkeypatch.setattr(service, "entries_for_day", read_then_someone_corrects)
    with pytest.raises(EntryConflict):
        save(service, db, facility, staff, [c1, c2], [RowInput(c1.id, 1, Attendance.ABSENT, AbsenceReason.FAMILY)])
    assert db.scalar(sa.select(sa.func.count()).select_from(AttendanceEntryVersion)) == 0
