"""Planning and applying the roll-over against the database: all or nothing, once per year (F-ROLLOVER)."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from webapp.children.models import Grade
from webapp.organisations.models import FacilityType
from webapp.rollover.models import ChildTransfer, RolloverRun
from webapp.rollover.services import RolloverError, RolloverService, parse_transfers

pytestmark = pytest.mark.req("F-ROLLOVER")

APRIL = dt.date(2027, 4, 1)


@pytest.fixture
def school(make):
    centre = make.centre()
    return {
        "elementary": make.facility(centre=centre, facility_type=FacilityType.ELEMENTARY),
        "other_elementary": make.facility(centre=centre, facility_type=FacilityType.ELEMENTARY),
        "junior_high": make.facility(centre=centre, facility_type=FacilityType.JUNIOR_HIGH),
        "nursery": make.facility(centre=centre, facility_type=FacilityType.NURSERY),
    }


def test_dry_run_lists_every_change_and_changes_nothing(make, db, school):
    es3 = make.child(facility=school["elementary"], grade=Grade.ES3)
    es6 = make.child(facility=school["elementary"], grade=Grade.ES6)
    es6_moving = make.child(facility=school["elementary"], grade=Grade.ES6)
    jh3 = make.child(facility=school["junior_high"], grade=Grade.JH3)
    age5 = make.child(facility=school["nursery"], grade=Grade.AGE5)
    other = make.child(facility=school["nursery"], grade=Grade.OTHER)
    transfers, errors = parse_transfers(f"児童ID,移動先施設コード\n{es6_moving.id},{school['junior_high'].code}\n")
    plan = RolloverService(db).plan(2027, transfers, errors)
    by_child = {c.child.id: c for c in plan.changes}
    assert (by_child[es3.id].grade_to, by_child[es3.id].ends_monitoring) == (Grade.ES4, None)
    assert by_child[es6.id].ends_monitoring == dt.date(2027, 3, 31)
    assert by_child[es6_moving.id].grade_to == Grade.JH1
    assert by_child[es6_moving.id].facility_to == school["junior_high"]
    assert by_child[jh3.id].ends_monitoring == dt.date(2027, 3, 31)
    assert by_child[age5.id].grade_to == Grade.ES1
    assert other.id not in by_child
    assert (plan.grade_ups, plan.graduations, plan.transfers) == (3, 2, 1)
    db.refresh(es3)
    assert es3.grade == Grade.ES3 and db.scalar(sa.select(sa.func.count()).select_from(RolloverRun)) == 0


def test_apply_changes_grades_ends_monitoring_and_moves_once_per_year(make, db, school):
    es6 = make.child(facility=school["elementary"], grade=Grade.ES6)
    es2 = make.child(facility=school["elementary"], grade=Grade.ES2)
    transfers, _ = parse_transfers(f"{es2.id},{school['other_elementary'].code}")
    service = RolloverService(db)
    service.apply(2027, transfers, today=APRIL, account_id=None)
    db.refresh(es6)
    db.refresh(es2)
    assert es6.monitoring_end == dt.date(2027, 3, 31) and es6.grade == Grade.ES6
    assert es2.grade == Grade.ES3 and es2.facility_id == school["other_elementary"].id
    move = db.scalar(sa.select(ChildTransfer).where(ChildTransfer.child_id == es2.id))
    assert (move.from_facility_id, move.effective_on, move.rollover_year) == (school["elementary"].id, APRIL, 2027)
    # Twice: refused, and nothing moves a second grade up.
    with pytest.raises(RolloverError):
        service.apply(2027, transfers, today=APRIL, account_id=None)
    db.refresh(es2)
    assert es2.grade == Grade.ES3
    assert service.plan(2027, []).already_applied is not None


def test_apply_before_april_is_refused(make, db, school):
    child = make.child(facility=school["elementary"], grade=Grade.ES1)
    with pytest.raises(RolloverError):
        RolloverService(db).apply(2027, [], today=dt.date(2027, 3, 31), account_id=None)
    db.refresh(child)
    assert child.grade == Grade.ES1


def test_any_csv_error_applies_nothing(make, db, school):
    child = make.child(facility=school["elementary"], grade=Grade.ES1)
    transfers, errors = parse_transfers(f"{child.id},NO-SUCH-CODE\n")
    with pytest.raises(RolloverError):
        RolloverService(db).apply(2027, transfers, today=APRIL, account_id=None, csv_errors=errors)
    db.refresh(child)
    assert child.grade == Grade.ES1
    assert db.scalar(sa.select(sa.func.count()).select_from(RolloverRun)) == 0


def test_children_registered_from_april_or_ended_before_are_left_alone(make, db, school):
    new = make.child(facility=school["elementary"], grade=Grade.ES2, monitoring_start=APRIL)
    ended = make.child(facility=school["elementary"], grade=Grade.ES2, monitoring_start=dt.date(2026, 4, 1),
                       monitoring_end=dt.date(2027, 2, 28))
    plan = RolloverService(db).plan(2027, [])
    assert {c.child.id for c in plan.changes}.isdisjoint({new.id, ended.id})


def test_transfer_csv_problems_are_reported_per_line(make, db, school):
    es6 = make.child(facility=school["elementary"], grade=Grade.ES6)
    jh3 = make.child(facility=school["junior_high"], grade=Grade.JH3)
    es1 = make.child(facility=school["elementary"], grade=Grade.ES1)
    text = "\n".join([
        f"{es6.id},{school['other_elementary'].code}",  # 小6 must go to a junior high
        f"{jh3.id},{school['elementary'].code}",  # graduating
        f"{es1.id},{school['elementary'].code}",  # already there
        f"{es1.id},{school['other_elementary'].code}",  # twice
        "abc,F1",
        "999999999,F1",
        "12345",
        "",
    ])
    transfers, errors = parse_transfers(text)
    plan = RolloverService(db).plan(2027, transfers, errors)
    assert sorted(e.line for e in plan.errors) == [1, 2, 3, 4, 5, 6, 7]
    messages = {e.line: e.message.interpolate() for e in plan.errors}
    assert "中学校" in messages[1] and "卒業" in messages[2] and "3行目" in messages[4]
