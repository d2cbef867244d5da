"""Dates at the edge of what the application accepts (issue #20 item 3): a clear
page, never an OverflowError. The range is webapp.forms.FIRST_DAY..LAST_DAY."""

from __future__ import annotations

import pytest

from webapp.forms import FIRST_DAY, LAST_DAY, clean_date, path_day, shift_day


@pytest.fixture
def people(make):
    centre = make.centre()
    facility = make.facility(centre=centre)
    make.child(facility=facility, centre=centre)
    return {"facility": facility, "staff": make.account("facility", facility=facility),
            "caseworker": make.account("caseworker", centre=centre), "admin": make.account("admin")}


@pytest.mark.req("F-DAILY", "F-UI")
@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01", "1999-12-31", "2200-01-01", "2026-02-30", "20261126"])
def test_days_outside_the_range_are_not_pages(app, login_as, people, day):
    facility_id = people["facility"].id
    login_as(people["admin"])
    assert "ページが見つかりません" in app.get(f"/attendance/facilities/{facility_id}/{day}", status=404).text
    login_as(people["caseworker"])
    app.get(f"/centre/facilities/{facility_id}/attendance/{day}", status=404)


@pytest.mark.req("F-DAILY", "F-UI")
def test_the_last_day_has_no_next_link_and_the_first_no_previous(app, login_as, people):
    facility_id = people["facility"].id
    login_as(people["caseworker"])
    last = app.get(f"/centre/facilities/{facility_id}/attendance/{LAST_DAY.isoformat()}", status=200)
    assert last.html.select('a[rel="next"]') == [] and len(last.html.select('a[rel="prev"]')) == 1
    first = app.get(f"/centre/facilities/{facility_id}/attendance/{FIRST_DAY.isoformat()}", status=200)
    assert first.html.select('a[rel="prev"]') == [] and len(first.html.select('a[rel="next"]')) == 1


@pytest.mark.req("F-DAILY", "F-UI")
def test_the_date_picker_refuses_a_far_date_in_japanese(app, login_as, people):
    login_as(people["staff"])
    page = app.get(f"/attendance/facilities/{people['facility'].id}/2026-11-26", {"goto": "9999-12-31"}, status=400)
    assert "2000-01-01から2199-12-31までの日付を入力してください。" in page.text


@pytest.mark.req("F-UI")
def test_one_date_helper():
    assert clean_date("2199/12/31") == (LAST_DAY, None)
    value, error = clean_date("0001-01-01")
    assert value is None and "${first}" in error
    assert path_day("2026-11-26").isoformat() == "2026-11-26"
    assert path_day("2026/11/26") is None and path_day("９９９９-12-31") is None and path_day(None) is None
    assert shift_day(LAST_DAY, 1) is None and shift_day(FIRST_DAY, -1) is None
    assert shift_day(LAST_DAY, -1).isoformat() == "2199-12-30"
