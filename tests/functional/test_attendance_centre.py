"""Caseworkers read their children's daily attendance, read-only and through the scope (F-DAILY, F-ROLE)."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.conftest import csrf_token
from webapp.attendance.models import AbsenceReason

DAY = dt.date(2026, 11, 25)


@pytest.fixture
def world(make):
    centre, other_centre = make.centre(), make.centre()
    facility = make.facility(centre=centre)
    mine = make.child(facility=facility, centre=centre, family_name="見守")
    # Same facility, another centre's child: the caseworker must not see it.
    theirs = make.child(facility=facility, centre=other_centre, family_name="他所")
    make.attendance(mine, DAY, "absent", absence_reason=AbsenceReason.FAMILY, no_contact=True, note="電話つながらず")
    make.attendance(theirs, DAY, "present", note="他所のメモ")
    caseworker = make.account("caseworker", centre=centre)
    return facility, mine, theirs, caseworker


@pytest.mark.req("F-DAILY")
def test_the_facility_page_leads_to_a_read_only_day_of_the_caseworkers_children(app, login_as, world):
    facility, mine, theirs, caseworker = world
    login_as(caseworker)
    period_page = app.get(f"/centre/facilities/{facility.id}/2026-11")
    link = period_page.html.find("a", string="この施設の日々の出欠（今日）")
    assert link["href"].endswith(f"/centre/facilities/{facility.id}/attendance/2026-11-26")
    page = app.get(f"/centre/facilities/{facility.id}/attendance/{DAY.isoformat()}")
    row = page.html.select_one("tbody tr").get_text(" ", strip=True)
    assert mine.name in row and "欠席" in row and "家庭の事情" in row and "連絡なし" in row and "電話つながらず" in row
    assert theirs.name not in page.text and "他所のメモ" not in page.text
    assert not page.html.select("input[type=radio], select, form[method=post] button[type=submit][value=save]")


@pytest.mark.req("F-DAILY", "F-ROLE")
def test_caseworkers_cannot_enter_or_manage(app, login_as, world):
    facility, _mine, _theirs, caseworker = world
    login_as(caseworker)
    app.get("/attendance", status=403)
    app.get(f"/attendance/facilities/{facility.id}/{DAY.isoformat()}", status=403)
    app.post(f"/attendance/facilities/{facility.id}/{DAY.isoformat()}", {"csrf_token": csrf_token(app)}, status=403)
    app.get(f"/facilities/{facility.id}/closures", status=403)


@pytest.mark.req("F-DAILY", "F-ROLE")
def test_another_centres_caseworker_gets_404(app, make, login_as, world):
    facility, mine, _theirs, _caseworker = world
    login_as(make.account("caseworker"))
    app.get(f"/centre/facilities/{facility.id}/attendance/{DAY.isoformat()}", status=404)
    app.get(f"/attendance/children/{mine.id}", status=404)


@pytest.mark.req("F-DAILY")
def test_a_childs_list_shows_60_days_with_corrections(app, db, make, login_as, world):
    from webapp.attendance.models import AttendanceEntryVersion

    facility, mine, _theirs, caseworker = world
    old = make.attendance(mine, dt.date(2026, 9, 27), "absent", absence_reason=AbsenceReason.ILLNESS)  # 60 days ago
    kept = make.attendance(mine, dt.date(2026, 9, 28), "present", version=2)  # 59 days ago
    db.add(AttendanceEntryVersion(entry_id=kept.id, child_id=mine.id, facility_id=facility.id, day=kept.day,
                                  status="absent", absence_reason="unknown", version=1,
                                  recorded_by_id=kept.recorded_by_id))
    db.flush()
    login_as(caseworker)
    page = app.get(f"/attendance/children/{mine.id}")
    days = [th.get("id") for th in page.html.select("th[id^=day-]")]
    assert days == ["day-2026-11-25", "day-2026-09-28"]
    assert old.day.isoformat() not in page.text
    assert "訂正前" in page.text and "理由不明" in page.text
    child_page = app.get(f"/children/{mine.id}")
    assert child_page.html.find("a", string="日々の出欠（直近60日）")["href"].endswith(f"/attendance/children/{mine.id}")


@pytest.mark.req("F-DAILY", "F-ROLE")
def test_after_a_transfer_the_new_facility_does_not_see_the_old_facilitys_days(app, make, login_as, world):
    facility, mine, _theirs, caseworker = world
    new_facility = make.facility(centre=facility.centre)
    mine.facility_id = new_facility.id
    make.attendance(mine, dt.date(2026, 11, 26), "late", facility_id=new_facility.id)
    login_as(make.account("facility", facility=new_facility))
    page = app.get(f"/attendance/children/{mine.id}")
    assert "2026-11-26" in page.text and "2026-11-25" not in page.text
    login_as(caseworker)
    page = app.get(f"/attendance/children/{mine.id}")
    assert "2026-11-26" in page.text and "2026-11-25" in page.text
