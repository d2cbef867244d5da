"""The daily attendance screen filtered by grade and class (issue #18): the save posts only the
rows shown, never touches the hidden ones, and comes back to the same filtered view."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from webapp.attendance.models import AttendanceEntry
from webapp.children.models import Grade

DAY = "2026-11-25"  # a Wednesday; the test clock stands at Thursday 2026-11-26
URL = "/attendance/facilities/{}/" + DAY


def dt_day() -> dt.date:
    return dt.date.fromisoformat(DAY)


@pytest.fixture
def school(make):
    facility = make.facility()
    staff = make.account("facility", facility=facility)
    children = {
        "es2-1": make.child(facility=facility, grade=Grade.ES2, class_name="1組", family_name="伊藤"),
        "es2-2": make.child(facility=facility, grade=Grade.ES2, class_name="2組", family_name="加藤"),
        "es4-1": make.child(facility=facility, grade=Grade.ES4, class_name="1組", family_name="佐藤"),
    }
    return facility, staff, children


def shown(page) -> set[int]:
    return {int(tr["id"].removeprefix("row-")) for tr in page.html.select("table.attendance tbody tr")}


@pytest.mark.req("F-DAILY")
def test_filter_by_grade_and_by_class(app, login_as, school):
    facility, staff, c = school
    login_as(staff)
    page = app.get(URL.format(facility.id), params={"grade": "es2"})
    assert shown(page) == {c["es2-1"].id, c["es2-2"].id}
    assert "3人中2人を表示" in page.text
    # The class list offers the chosen grade's classes; すべて first.
    options = [o.get_text() for o in page.html.select(".att-filter select[name=class] option")]
    assert options == ["すべて", "1組", "2組"]
    page = app.get(URL.format(facility.id), params={"grade": "es2", "class": "2組"})
    assert shown(page) == {c["es2-2"].id}
    assert "3人中1人を表示" in page.text
    # A class without a grade: that class of every grade.
    page = app.get(URL.format(facility.id), params={"class": "1組"})
    assert shown(page) == {c["es2-1"].id, c["es4-1"].id}
    page = app.get(URL.format(facility.id), params={"grade": "", "class": ""})
    assert shown(page) == {child.id for child in c.values()}
    assert "3人中3人を表示" in page.text


@pytest.mark.req("F-DAILY")
def test_save_from_a_filtered_view_touches_only_the_rows_shown(app, db, login_as, make, school):
    facility, staff, c = school
    hidden = make.attendance(c["es4-1"], dt_day(), status="absent", absence_reason="illness")
    login_as(staff)
    page = app.get(URL.format(facility.id), params={"grade": "es2", "class": "1組"})
    form = page.forms["attendance-form"]
    form[f"status-{c['es2-1'].id}"] = "late"
    # 全員出席 from the filtered view, and a tampered post naming hidden children: nothing changes for them.
    response = app.post(form.action, {**dict(form.submit_fields()), "action": "all_present",
                                      f"status-{c['es4-1'].id}": "present", f"version-{c['es4-1'].id}": "1",
                                      f"status-{c['es2-2'].id}": "present"}, status=303)
    assert "grade=es2" in response.location and "class=1%E7%B5%84" in response.location
    assert "done=attendance_saved" in response.location
    db.expire_all()
    saved = {e.child_id: e for e in db.scalars(sa.select(AttendanceEntry).where(AttendanceEntry.facility_id == facility.id))}
    assert set(saved) == {c["es2-1"].id, c["es4-1"].id}
    assert saved[c["es2-1"].id].status == "late"
    assert saved[c["es4-1"].id].status == "absent" and saved[c["es4-1"].id].version == hidden.version == 1
    # Back on the same filtered view.
    page = response.follow()
    assert "出欠を保存しました。" in page.text
    assert shown(page) == {c["es2-1"].id}
    assert page.html.select_one(".att-filter select[name=grade] option[selected]")["value"] == "es2"


@pytest.mark.req("F-DAILY")
@pytest.mark.parametrize("params", [
    {"grade": "es9"}, {"grade": "小2"}, {"class": "9組"}, {"grade": "es4", "class": "2組"},
    {"grade": "x" * 5000}, {"class": "<script>alert(1)</script>"}, {"grade": "\x00"},
    [("grade", "es2"), ("grade", "es4")],
])
def test_bad_filter_values_show_everything_or_a_valid_subset(app, login_as, school, params):
    facility, staff, c = school
    login_as(staff)
    page = app.get(URL.format(facility.id), params=params)
    assert page.status_int == 200
    assert shown(page) <= {child.id for child in c.values()} and shown(page)
    assert "<script>alert(1)" not in page.text


@pytest.mark.req("F-DAILY")
def test_bad_filter_values_on_a_save_never_fail(app, login_as, school):
    facility, staff, c = school
    login_as(staff)
    form = app.get(URL.format(facility.id)).forms["attendance-form"]
    form[f"status-{c['es2-1'].id}"] = "present"
    response = app.post(form.action + "?grade=es9&class=%3Cb%3E", dict(form.submit_fields()), status=303)
    assert "grade=" not in response.location and "class=" not in response.location


@pytest.mark.req("F-DAILY", "F-UI")
def test_sticky_save_bar_with_the_count_still_to_enter(app, login_as, make, school):
    facility, staff, c = school
    make.attendance(c["es2-1"], dt_day())
    login_as(staff)
    page = app.get(URL.format(facility.id))
    bar = page.html.select_one("form#attendance-form .save-bar")
    assert bar is not None
    assert bar.select_one("button[value=save]") and bar.select_one("button[value=all_present]")
    assert "未入力 2人" in bar.get_text(" ", strip=True).replace("  ", " ")
    page = app.get(URL.format(facility.id), params={"grade": "es2"})
    assert "未入力 1人" in page.html.select_one(".save-bar").get_text(" ", strip=True)
    # The day links and the date picker keep the filter.
    assert "grade=es2" in page.html.select_one("a[rel=next]")["href"]
    assert page.html.select_one(".day-picker input[name=grade]")["value"] == "es2"
    response = app.get(URL.format(facility.id), params={"grade": "es2", "goto": "2026-11-24"}, status=303)
    assert "grade=es2" in response.location


@pytest.mark.req("F-DAILY")
def test_a_class_of_35_children_stays_lean(app, login_as, make):
    """Issue #19: the day page for one class of 35 was 72.7 KB; rows are written flat now (51 KB)."""
    facility = make.facility()
    staff = make.account("facility", facility=facility)
    for i in range(35):
        make.child(facility=facility, grade=Grade.ES3, class_name="2組", family_name="髙橋", given_name=f"美咲{i}")
    login_as(staff)
    page = app.get(URL.format(facility.id))
    assert len(shown(page)) == 35
    assert len(page.body) < 56_000, len(page.body)
