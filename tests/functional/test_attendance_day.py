"""The daily attendance screen (F-DAILY): one submit for the whole day, errors kept, conflicts, closed days."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from webapp.attendance.models import AttendanceEntry, AttendanceEntryVersion
from webapp.audit.models import AuditRecord
from webapp.children.models import Grade

DAY = "2026-11-25"  # a Wednesday; the test clock stands at Thursday 2026-11-26
URL = "/attendance/facilities/{}/" + DAY


@pytest.fixture
def school(make):
    facility = make.facility()
    staff = make.account("facility", facility=facility)
    # Deliberately created out of register order: the page sorts by grade, class, kana.
    c3 = make.child(facility=facility, grade=Grade.ES4, family_name="佐藤", family_name_kana="さとう")
    c1 = make.child(facility=facility, grade=Grade.ES2, family_name="伊藤", family_name_kana="いとう")
    c2 = make.child(facility=facility, grade=Grade.ES2, family_name="加藤", family_name_kana="かとう")
    return facility, staff, [c1, c2, c3]


def entries(db, facility):
    db.expire_all()
    return {e.child_id: e for e in db.scalars(sa.select(AttendanceEntry).where(AttendanceEntry.facility_id == facility.id))}


@pytest.mark.req("F-DAILY")
def test_one_submit_saves_every_row_in_register_order(app, db, login_as, school):
    facility, staff, (c1, c2, c3) = school
    login_as(staff)
    page = app.get(URL.format(facility.id))
    names = [th.select_one("span").get_text(strip=True) for th in page.html.select("tbody th[scope=row]")]
    assert names == [c1.name, c2.name, c3.name]
    form = page.forms["attendance-form"]
    form[f"status-{c1.id}"] = "present"
    form[f"status-{c2.id}"] = "absent"
    form[f"reason-{c2.id}"] = "illness"
    form[f"no_contact-{c2.id}"] = True
    form[f"note-{c2.id}"] = "発熱のため"
    form[f"status-{c3.id}"] = "late"
    response = form.submit("action", value="save", status=303)
    assert "done=attendance_saved" in response.location
    saved = entries(db, facility)
    assert {cid: e.status for cid, e in saved.items()} == {c1.id: "present", c2.id: "absent", c3.id: "late"}
    assert saved[c2.id].absence_reason == "illness" and saved[c2.id].no_contact is True
    assert saved[c2.id].note == "発熱のため" and saved[c2.id].recorded_by_id == staff.id
    # The save is an event in the audit chain, besides the change records of each row.
    event = db.scalar(sa.select(AuditRecord).where(AuditRecord.action == "save"))
    assert event.entity == "attendance_days" and event.entity_id == f"{facility.id}:{DAY}"
    assert '"created": 3' in event.after
    # The page after the redirect says so and shows the saved rows.
    page = response.follow()
    assert "出欠を保存しました。" in page.text
    assert page.forms["attendance-form"][f"status-{c2.id}"].value == "absent"


@pytest.mark.req("F-DAILY")
def test_viewing_the_day_records_who_saw_which_children(app, db, login_as, school):
    facility, staff, children = school
    login_as(staff)
    app.get(URL.format(facility.id))
    viewed = set(db.scalars(sa.select(AuditRecord.child_id).where(AuditRecord.action == "view",
                                                                   AuditRecord.entity == "attendance_days")))
    assert viewed == {c.id for c in children}


@pytest.mark.req("F-DAILY")
def test_all_present_button_fills_only_empty_rows(app, db, login_as, school):
    facility, staff, (c1, c2, c3) = school
    login_as(staff)
    form = app.get(URL.format(facility.id)).forms["attendance-form"]
    form[f"status-{c2.id}"] = "left_early"
    form.submit("action", value="all_present", status=303)
    saved = entries(db, facility)
    assert {cid: e.status for cid, e in saved.items()} == {c1.id: "present", c2.id: "left_early", c3.id: "present"}


@pytest.mark.req("F-DAILY")
def test_a_plain_save_leaves_empty_rows_unentered(app, db, login_as, school):
    facility, staff, (c1, c2, c3) = school
    login_as(staff)
    form = app.get(URL.format(facility.id)).forms["attendance-form"]
    form[f"status-{c1.id}"] = "present"
    form.submit("action", value="save", status=303)
    assert set(entries(db, facility)) == {c1.id}


@pytest.mark.req("F-DAILY")
def test_bad_rows_save_nothing_and_keep_every_input_with_errors_beside_them(app, db, login_as, school):
    facility, staff, (c1, c2, c3) = school
    login_as(staff)
    form = app.get(URL.format(facility.id)).forms["attendance-form"]
    form[f"status-{c1.id}"] = "present"
    form[f"note-{c1.id}"] = "元気😀𠮷野家"
    form[f"status-{c2.id}"] = "absent"  # no reason chosen
    form[f"status-{c3.id}"] = "late"
    form[f"note-{c3.id}"] = "あ" * 201
    response = form.submit("action", value="save", status=400)
    assert entries(db, facility) == {}
    assert response.html.select_one(f"#reason-{c2.id}-error").get_text(strip=True).startswith("欠席の理由を選んでください")
    assert "200文字以内" in response.html.select_one(f"#note-{c3.id}-error").get_text()
    again = response.forms["attendance-form"]
    assert again[f"note-{c1.id}"].value == "元気😀𠮷野家"
    assert again[f"note-{c3.id}"].value == "あ" * 201
    assert again[f"status-{c2.id}"].value == "absent"
    assert again[f"status-{c3.id}"].value == "late"


@pytest.mark.req("F-DAILY")
def test_emoji_and_rare_kanji_are_saved_as_typed(app, db, login_as, school):
    facility, staff, (c1, _c2, _c3) = school
    login_as(staff)
    form = app.get(URL.format(facility.id)).forms["attendance-form"]
    form[f"status-{c1.id}"] = "present"
    form[f"note-{c1.id}"] = "𠮷田さん送迎🚗" + "あ" * 193  # exactly 200 characters
    form.submit("action", value="save", status=303)
    assert entries(db, facility)[c1.id].note == "𠮷田さん送迎🚗" + "あ" * 193


@pytest.mark.req("F-DAILY")
@pytest.mark.parametrize("tampered", [
    {"status": "sick"}, {"status": "absent", "reason": "holiday"}, {"version": "abc"}, {"status": ["present", "absent"]},
])
def test_tampered_values_are_refused_without_a_server_error(app, db, login_as, school, tampered):
    from tests.conftest import csrf_token

    facility, staff, (c1, _c2, _c3) = school
    login_as(staff)
    token = csrf_token(app)
    params = [("csrf_token", token), ("action", "save"), (f"version-{c1.id}", "0")]
    for name, value in tampered.items():
        for one in (value if isinstance(value, list) else [value]):
            params = [p for p in params if p[0] != f"{name}-{c1.id}"] if name == "version" else params
            params.append((f"{name}-{c1.id}", one))
    response = app.post(URL.format(facility.id), params, status="*")
    assert response.status_int in (303, 400)
    if response.status_int == 400:
        assert entries(db, facility) == {}
        assert response.html.select_one(".error-summary")


@pytest.mark.req("F-DAILY")
def test_a_correction_keeps_the_old_version_and_the_page_shows_it(app, db, login_as, school):
    facility, staff, (c1, _c2, _c3) = school
    login_as(staff)
    form = app.get(URL.format(facility.id)).forms["attendance-form"]
    form[f"status-{c1.id}"] = "absent"
    form[f"reason-{c1.id}"] = "unknown"
    form.submit("action", value="save", status=303)
    form = app.get(URL.format(facility.id)).forms["attendance-form"]
    form[f"status-{c1.id}"] = "present"
    page = form.submit("action", value="save", status=303).follow()
    entry = entries(db, facility)[c1.id]
    assert (entry.status, entry.version, entry.absence_reason) == ("present", 2, None)
    old = db.scalars(sa.select(AttendanceEntryVersion).where(AttendanceEntryVersion.entry_id == entry.id)).all()
    assert [(v.version, v.status, v.absence_reason) for v in old] == [(1, "absent", "unknown")]
    row = page.html.select_one(f"#row-{c1.id}")
    assert "訂正あり" in row.get_text()
    history = app.get(f"/attendance/children/{c1.id}")
    assert "訂正前" in history.text and "第1版" in history.text and "第2版" in history.text


@pytest.mark.req("F-DAILY")
def test_saving_the_same_content_again_makes_no_version(app, db, login_as, school):
    facility, staff, (c1, _c2, _c3) = school
    login_as(staff)
    form = app.get(URL.format(facility.id)).forms["attendance-form"]
    form[f"status-{c1.id}"] = "present"
    form.submit("action", value="save", status=303)
    response = app.get(URL.format(facility.id)).forms["attendance-form"].submit("action", value="save", status=303)
    assert "done=attendance_unchanged" in response.location
    assert entries(db, facility)[c1.id].version == 1


@pytest.mark.req("F-DAILY")
def test_a_stale_form_is_a_409_with_the_input_kept(app, db, login_as, school, make):
    facility, staff, (c1, c2, _c3) = school
    login_as(staff)
    stale = app.get(URL.format(facility.id)).forms["attendance-form"]
    # Someone else saves c1's day meanwhile.
    fresh = app.get(URL.format(facility.id)).forms["attendance-form"]
    fresh[f"status-{c1.id}"] = "absent"
    fresh[f"reason-{c1.id}"] = "family"
    fresh.submit("action", value="save", status=303)
    stale[f"status-{c1.id}"] = "present"
    stale[f"status-{c2.id}"] = "late"
    stale[f"note-{c2.id}"] = "寝坊"
    response = stale.submit("action", value="save", status=409)
    assert "ほかの人がこの日の出欠を保存しました" in response.text
    assert entries(db, facility)[c1.id].status == "absent"
    assert c2.id not in entries(db, facility)  # all or nothing
    again = response.forms["attendance-form"]
    assert again[f"status-{c1.id}"].value == "present" and again[f"note-{c2.id}"].value == "寝坊"
    assert "現在の保存内容" in response.html.select_one(f"#row-{c1.id}").get_text()
    # Saving again on purpose overwrites, as a correction.
    again.submit("action", value="save", status=303)
    saved = entries(db, facility)
    assert saved[c1.id].status == "present" and saved[c1.id].version == 2 and saved[c2.id].status == "late"


@pytest.mark.req("F-DAILY")
def test_a_holiday_is_closed_with_its_name_and_refuses_entry(app, db, login_as, school):
    from tests.conftest import csrf_token

    facility, staff, (c1, _c2, _c3) = school
    login_as(staff)
    page = app.get(f"/attendance/facilities/{facility.id}/2026-11-23")
    assert "勤労感謝の日" in page.html.select_one(".notice-warn").get_text()
    assert not page.html.select("button[value=save]")
    response = app.post(f"/attendance/facilities/{facility.id}/2026-11-23",
                        {"csrf_token": csrf_token(app), f"status-{c1.id}": "present", f"version-{c1.id}": "0"},
                        status=400)
    assert "休業日のため入力できません" in response.text
    assert entries(db, facility) == {}


@pytest.mark.req("F-DAILY")
@pytest.mark.parametrize("day, reason", [("2026-11-28", "土曜日"), ("2026-12-30", "年末年始")])
def test_weekends_and_year_end_say_why(app, login_as, school, clock, day, reason):
    facility, staff, _children = school
    clock.set(dt.datetime(2027, 1, 10, 10, tzinfo=dt.UTC))
    login_as(staff)
    page = app.get(f"/attendance/facilities/{facility.id}/{day}")
    assert reason in page.html.select_one(".notice-warn").get_text()


@pytest.mark.req("F-DAILY")
def test_a_closure_says_its_label_and_an_extra_open_day_takes_entries(app, db, login_as, school, make):
    from webapp.closed_days.models import ClosureKind, FacilityClosure

    facility, staff, (c1, _c2, _c3) = school
    db.add(FacilityClosure(facility_id=facility.id, starts_on=dt.date(2026, 11, 24), ends_on=dt.date(2026, 11, 24),
                           kind=ClosureKind.CLOSED, label="開校記念日", created_by_id=staff.id))
    db.add(FacilityClosure(facility_id=facility.id, starts_on=dt.date(2026, 11, 21), ends_on=dt.date(2026, 11, 21),
                           kind=ClosureKind.EXTRA_OPEN, label="土曜授業", created_by_id=staff.id))
    login_as(staff)
    assert "開校記念日" in app.get(f"/attendance/facilities/{facility.id}/2026-11-24").html.select_one(".notice-warn").text
    form = app.get(f"/attendance/facilities/{facility.id}/2026-11-21").forms["attendance-form"]
    form[f"status-{c1.id}"] = "present"
    form.submit("action", value="save", status=303)
    assert entries(db, facility)[c1.id].day == dt.date(2026, 11, 21)


@pytest.mark.req("F-DAILY")
def test_future_days_are_refused(app, db, login_as, school):
    from tests.conftest import csrf_token

    facility, staff, (c1, _c2, _c3) = school
    login_as(staff)
    page = app.get(f"/attendance/facilities/{facility.id}/2026-11-27")
    assert "未来の日の出欠は入力できません" in page.text
    app.post(f"/attendance/facilities/{facility.id}/2026-11-27",
             {"csrf_token": csrf_token(app), f"status-{c1.id}": "present", f"version-{c1.id}": "0"}, status=400)
    assert entries(db, facility) == {}


@pytest.mark.req("F-DAILY")
def test_children_not_yet_monitored_are_not_listed_and_cannot_be_entered(app, db, login_as, school, make):
    from tests.conftest import csrf_token

    facility, staff, _children = school
    late = make.child(facility=facility, monitoring_start=dt.date(2026, 11, 26))
    login_as(staff)
    page = app.get(URL.format(facility.id))
    assert late.name not in page.text
    app.post(URL.format(facility.id), {"csrf_token": csrf_token(app), f"status-{late.id}": "present",
                                       f"version-{late.id}": "0"}, status=303)
    assert late.id not in entries(db, facility)
    assert late.name in app.get(f"/attendance/facilities/{facility.id}/2026-11-26").text


@pytest.mark.req("F-DAILY", "F-ROLE")
def test_another_facilitys_day_and_child_are_404(app, db, login_as, school, make):
    facility, staff, _children = school
    other = make.facility()
    stranger = make.child(facility=other)
    login_as(staff)
    app.get(URL.format(other.id), status=404)
    app.get(f"/attendance/children/{stranger.id}", status=404)
    app.get(f"/facilities/{other.id}/closures", status=404)
    app.get("/attendance/facilities/99999999999999999999/" + DAY, status=404)
    app.get(f"/attendance/facilities/{facility.id}/2026-02-30", status=404)


@pytest.mark.req("F-DAILY")
def test_the_date_picker_goes_to_the_day_and_explains_a_bad_date(app, login_as, school):
    facility, staff, _children = school
    login_as(staff)
    response = app.get(URL.format(facility.id), {"goto": "2026-11-20"}, status=303)
    assert response.location.endswith(f"/attendance/facilities/{facility.id}/2026-11-20")
    page = app.get(URL.format(facility.id), {"goto": "2026-13-45"}, status=400)
    assert "日付は 2026-04-01 の形式で入力してください。" in page.html.select_one("#goto-error").text
    assert page.html.select_one("#goto")["value"] == "2026-13-45"
    nav = page.html.select_one("nav.day-nav")
    assert nav.select_one("a[rel=prev]")["href"].endswith("/2026-11-24")
    assert nav.select_one("a[rel=next]")["href"].endswith("/2026-11-26")


@pytest.mark.req("F-DAILY")
def test_facility_staff_land_on_today_and_admin_picks_a_facility(app, login_as, school, make):
    facility, staff, _children = school
    login_as(staff)
    assert app.get("/attendance", status=303).location.endswith(f"/attendance/facilities/{facility.id}/2026-11-26")
    login_as(make.account("admin"))
    page = app.get("/attendance")
    assert facility.name in page.text
    assert app.get(URL.format(facility.id)).forms["attendance-form"]
