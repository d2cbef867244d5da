"""Closures (休業期間) and extra open days (特別開所日) set by the facility or admin (F-DAILY)."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from tests.conftest import csrf_token
from webapp.closed_days.models import ClosureKind, FacilityClosure


def closures(db, facility):
    db.expire_all()
    return db.scalars(sa.select(FacilityClosure).where(FacilityClosure.facility_id == facility.id)
                      .order_by(FacilityClosure.starts_on)).all()


def add(app, facility, **fields):
    form = app.get(f"/facilities/{facility.id}/closures").forms["closure-form"]
    for name, value in fields.items():
        form[name] = value
    return form.submit(status="*")


@pytest.mark.req("F-DAILY")
def test_facility_adds_a_summer_break_and_the_day_screen_shows_it_closed(app, db, make, login_as):
    staff = make.account("facility")
    facility = staff.facility
    child = make.child(facility=facility)
    login_as(staff)
    response = add(app, facility, kind="closed", label="夏休み", starts_on="2026-07-21", ends_on="2026-08-31")
    assert response.status_int == 303 and "done=created" in response.location
    [saved] = closures(db, facility)
    assert (saved.kind, saved.label, saved.starts_on, saved.ends_on) == (
        ClosureKind.CLOSED, "夏休み", dt.date(2026, 7, 21), dt.date(2026, 8, 31))
    assert saved.created_by_id == staff.id
    page = response.follow()
    assert "夏休み" in page.text and "2026-07-21 〜 2026-08-31" in page.text
    day = app.get(f"/attendance/facilities/{facility.id}/2026-08-03")
    assert "休業期間（夏休み）" in day.html.select_one(".notice-warn").text
    app.post(f"/attendance/facilities/{facility.id}/2026-08-03",
             {"csrf_token": csrf_token(app), f"status-{child.id}": "present", f"version-{child.id}": "0"}, status=400)


@pytest.mark.req("F-DAILY")
@pytest.mark.parametrize("fields, field, message", [
    ({"starts_on": "2026-08-31", "ends_on": "2026-07-21"}, "ends_on", "終了日は開始日と同じか、それより後の日"),
    ({"starts_on": "2026-01-01", "ends_on": "2026-05-01"}, "ends_on", "一度に登録できるのは120日までです。"),
    ({"starts_on": "2026-02-30", "ends_on": "2026-03-01"}, "starts_on", "日付は 2026-04-01 の形式"),
    ({"starts_on": "", "ends_on": "2026-03-01"}, "starts_on", "日付を入力してください。"),
    ({"label": ""}, "label", "入力してください。"),
    ({"label": "あ" * 61}, "label", "60文字以内"),
    ({"kind": "holiday"}, "kind", "選択肢から選んでください。"),
])
def test_bad_closures_are_explained_beside_the_field_and_kept(app, db, make, login_as, fields, field, message):
    staff = make.account("facility")
    login_as(staff)
    data = {"csrf_token": csrf_token(app), "kind": "closed", "label": "冬休み🎍𠮷", "starts_on": "2026-12-24",
            "ends_on": "2027-01-07", **fields}
    response = app.post(f"/facilities/{staff.facility_id}/closures", data, status=400)
    assert message in response.html.select_one(f"#{field}-error").text
    form = response.forms["closure-form"]
    for name in ("label", "starts_on", "ends_on"):
        assert form[name].value == data[name]
    assert closures(db, staff.facility) == []


@pytest.mark.req("F-DAILY")
def test_same_kind_may_not_overlap_but_an_opening_inside_a_closure_may(app, db, make, login_as):
    staff = make.account("facility")
    facility = staff.facility
    login_as(staff)
    assert add(app, facility, kind="closed", label="冬休み", starts_on="2026-12-24", ends_on="2027-01-07").status_int == 303
    clash = add(app, facility, kind="closed", label="開校記念日", starts_on="2027-01-07", ends_on="2027-01-07")
    assert clash.status_int == 400
    assert "同じ種類の登録（冬休み：2026-12-24〜2027-01-07）と期間が重なっています。" in clash.text
    opening = add(app, facility, kind="extra_open", label="補習", starts_on="2026-12-26", ends_on="2026-12-26")
    assert opening.status_int == 303
    assert [c.label for c in closures(db, facility)] == ["冬休み", "補習"]


@pytest.mark.req("F-DAILY")
def test_delete_removes_only_the_facilitys_own_closure(app, db, make, login_as):
    staff = make.account("facility")
    facility = staff.facility
    other = make.account("facility")
    theirs = FacilityClosure(facility_id=other.facility_id, starts_on=dt.date(2026, 8, 1), ends_on=dt.date(2026, 8, 2),
                             kind=ClosureKind.CLOSED, label="よその休み", created_by_id=other.id)
    mine = FacilityClosure(facility_id=facility.id, starts_on=dt.date(2026, 8, 1), ends_on=dt.date(2026, 8, 2),
                           kind=ClosureKind.CLOSED, label="お盆", created_by_id=staff.id)
    db.add_all([theirs, mine])
    db.flush()
    login_as(staff)
    token = csrf_token(app)
    # Someone else's closure through my facility's URL, and junk ids: 404, nothing deleted.
    for junk in (str(theirs.id), "abc", "²", "99999999999999999999", ""):
        app.post(f"/facilities/{facility.id}/closures/delete", {"csrf_token": token, "closure_id": junk}, status=404)
    app.post(f"/facilities/{other.facility_id}/closures/delete",
             {"csrf_token": token, "closure_id": str(theirs.id)}, status=404)
    response = app.post(f"/facilities/{facility.id}/closures/delete", {"csrf_token": token, "closure_id": str(mine.id)},
                        status=303)
    assert "done=deleted" in response.location
    assert closures(db, facility) == [] and len(closures(db, other.facility)) == 1


@pytest.mark.req("F-DAILY", "F-ROLE")
def test_admin_manages_any_facility_and_caseworkers_may_not(app, db, make, login_as):
    facility = make.facility()
    login_as(make.account("admin"))
    assert add(app, facility, kind="extra_open", label="土曜授業", starts_on="2026-11-21",
               ends_on="2026-11-21").status_int == 303
    assert [c.label for c in closures(db, facility)] == ["土曜授業"]
    login_as(make.account("caseworker", centre=facility.centre))
    app.get(f"/facilities/{facility.id}/closures", status=403)
