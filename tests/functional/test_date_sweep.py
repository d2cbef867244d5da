"""The application on any day (issue #17): every test here derives its dates from ``now``.

Run normally they use DEFAULT_NOW (or ``--test-now`` / MIMAMORI_TEST_NOW);
``pytest --date-sweep -m date_sensitive`` runs them at each instant of
tests/dates.py: year-end, 1 April, deadline days, holidays, a leap day.
Nothing here picks "the first row": each test asks the data for what it needs.
"""

from __future__ import annotations

import datetime as dt

import holidays
import pytest
import sqlalchemy as sa

from tests.factories import TEST_PASSWORDS
from webapp import demo
from webapp.accounts.models import Account
from webapp.alerts.models import Alert, AlertLevel
from webapp.alerts.streaks import Thresholds
from webapp.alerts.sweep import AlertSweep
from webapp.attendance.models import AttendanceEntry
from webapp.authz import Role
from webapp.children.models import Child
from webapp.clock import JST
from webapp.closed_days import Calendar, InMemoryFacilityDays, JapaneseHolidays
from webapp.closed_days.services import YEAR_END
from webapp.reports import periods
from webapp.reports.models import MonthlyReport, ReportStatus
from webapp.rollover.services import RolloverError, RolloverService

pytestmark = pytest.mark.date_sensitive

DEMO_HASH = TEST_PASSWORDS.hash(demo.DEMO_PASSWORD)
DEADLINE_DAY = 10  # mimamori.report_deadline_day, the default the app runs with here
GOOD_REPORT = {
    "days_expected": "20", "days_attended": "19", "days_absent": "1", "late_count": "0",
    "early_leave_count": "0", "absent_illness": "1", "family_contact": "yes",
    "condition": "元気に過ごしている。",
}


def jst_today(now: dt.datetime) -> dt.date:
    return now.astimezone(JST).date()


def school_is_open(day: dt.date) -> bool:
    """An elementary school's open days, from first principles: no weekend, holiday or 年末年始."""
    return day.weekday() < 5 and day not in holidays.Japan(years=day.year) \
        and (day.month, day.day) not in YEAR_END


@pytest.fixture
def demo_world(db, now):
    """The small demo data, generated at ``now``; {role: [account, ...]}."""
    demo.load(db, scale="small", now=now, password_hash=DEMO_HASH)
    db.commit()
    accounts: dict[Role, list[Account]] = {}
    for account in db.scalars(sa.select(Account).order_by(Account.login)):
        accounts.setdefault(account.role, []).append(account)
    return accounts


def login_demo(app, account):
    app.reset()
    form = app.get("/login").forms[0]
    form["login"], form["password"] = account.login, demo.DEMO_PASSWORD
    assert form.submit().status_int == 303


def get_ok(app, path):
    response = app.get(path).maybe_follow()
    assert response.status_int == 200, (path, response.status)
    return response


def main_pages(account, today: dt.date) -> list[str]:
    day = today.isoformat()
    if account.role == Role.FACILITY:
        return ["/", "/today", "/reports/period/current", "/attendance",
                f"/attendance/facilities/{account.facility_id}/{day}", "/urgent", "/messages", "/notices"]
    if account.role == Role.CASEWORKER:
        return ["/", "/centre/review", "/centre/submissions", "/alerts", "/urgent", "/messages"]
    if account.role == Role.ADMIN:
        return ["/", "/admin", "/admin/rollover", "/admin/accounts", "/admin/facilities"]
    return ["/", "/logs/access"]


@pytest.mark.req("F-UI")
def test_every_demo_role_gets_its_main_pages(app, demo_world, now):
    today = jst_today(now)
    assert set(demo_world) == set(Role)
    for role, accounts in demo_world.items():
        account = accounts[0]
        login_demo(app, account)
        for path in main_pages(account, today):
            get_ok(app, path)


@pytest.mark.req("F-UI", "F-DAILY", "F-MONTHLY")
def test_a_caseworker_sees_its_facilities_day_and_month(app, db, demo_world, now):
    today = jst_today(now)
    caseworker = demo_world[Role.CASEWORKER][0]
    facility_id = db.scalar(sa.select(Child.facility_id).where(Child.centre_id == caseworker.centre_id)
                            .order_by(Child.id).limit(1))
    current = periods.current_period(today, DEADLINE_DAY)
    login_demo(app, caseworker)
    get_ok(app, f"/centre/facilities/{facility_id}/attendance/{today.isoformat()}")
    get_ok(app, f"/centre/facilities/{facility_id}/{periods.format_period(current)}")


@pytest.mark.req("F-MONTHLY")
def test_a_facility_submits_the_current_month_for_a_child_without_a_report(app, db, demo_world, now):
    today = jst_today(now)
    period = periods.current_period(today, DEADLINE_DAY)
    assert periods.has_started(period, today)
    # Every facility account in turn until one has a child due with no report yet:
    # the demo's statuses are random, the need is not.
    for staff in demo_world[Role.FACILITY]:
        reported = sa.select(MonthlyReport.child_id).where(MonthlyReport.period == period)
        candidates = [child for child in db.scalars(
            sa.select(Child).where(Child.facility_id == staff.facility_id, Child.id.not_in(reported)).order_by(Child.id))
            if child.is_monitored_during(period, periods.last_day(period))]
        if candidates:
            break
    else:
        pytest.fail(f"no facility has a child without a report for {period}")
    child = candidates[0]
    login_demo(app, staff)
    listing = get_ok(app, "/reports/period/current")
    url = f"/reports/period/{periods.format_period(period)}/children/{child.id}"
    assert url in listing.text
    form = get_ok(app, url).forms[1]  # forms[0] is the logout button
    for name, value in GOOD_REPORT.items():
        form[name] = value
    response = form.submit("action", value="submit")
    assert response.status_int == 303, response.text[:2000]
    db.expire_all()
    report = db.scalar(sa.select(MonthlyReport).where(MonthlyReport.child_id == child.id,
                                                      MonthlyReport.period == period))
    assert report.status == ReportStatus.SUBMITTED
    assert report.submitted_at is not None


@pytest.mark.req("F-MONTHLY")
def test_deadline_and_overdue_follow_the_jst_date(now):
    today = jst_today(now)
    current = periods.current_period(today, DEADLINE_DAY)
    # The current period is never overdue and has started; the one before it is overdue.
    assert not periods.is_overdue(current, today, DEADLINE_DAY)
    assert periods.has_started(current, today)
    assert periods.is_overdue(periods.add_months(current, -1), today, DEADLINE_DAY)
    # The deadline is day 10 of the next month as it stands, weekend or holiday.
    assert periods.deadline(current, DEADLINE_DAY) == periods.add_months(current, 1).replace(day=DEADLINE_DAY)
    if today.day <= DEADLINE_DAY:
        assert current == periods.add_months(today.replace(day=1), -1)
    else:
        assert current == today.replace(day=1)


@pytest.mark.req("F-MONTHLY")
def test_the_facility_list_shows_overdue_by_the_jst_date(app, make, login_as, now):
    today = jst_today(now)
    facility = make.facility()
    make.child(facility=facility, monitoring_start=today.replace(day=1) - dt.timedelta(days=400))
    staff = make.account("facility", facility=facility)
    login_as(staff)
    current = periods.current_period(today, DEADLINE_DAY)
    late = periods.add_months(current, -1)
    current_page = get_ok(app, f"/reports/period/{periods.format_period(current)}")
    late_page = get_ok(app, f"/reports/period/{periods.format_period(late)}")
    assert "期限超過" not in current_page.text
    assert "期限超過" in late_page.text


@pytest.mark.req("F-DAILY")
def test_attendance_is_open_exactly_on_school_days(app, make, login_as, now):
    today = jst_today(now)
    facility = make.facility()
    make.child(facility=facility, monitoring_start=today - dt.timedelta(days=400))
    staff = make.account("facility", facility=facility)
    login_as(staff)
    for day in (today + dt.timedelta(days=offset) for offset in range(-3, 1)):
        page = get_ok(app, f"/attendance/facilities/{facility.id}/{day.isoformat()}")
        closed = page.html.select_one("p.notice-warn") is not None
        assert closed == (not school_is_open(day)), (day, page.html.select_one("main").get_text(" ", strip=True)[:300])


@pytest.mark.req("F-ROLLOVER")
def test_rollover_is_offered_for_the_school_year_of_the_jst_date(app, db, make, login_as, now):
    today = jst_today(now)
    school_year = today.year if today.month >= 4 else today.year - 1
    admin = make.account("admin")
    login_as(admin)
    page = get_ok(app, "/admin/rollover")
    assert page.html.select_one("input[name=year]")["value"] == str(school_year)
    service = RolloverService(db)
    with pytest.raises(RolloverError):
        service.apply(school_year + 1, [], today=today, account_id=admin.id)
    service.apply(school_year, [], today=today, account_id=admin.id)


@pytest.mark.req("F-ALERT")
def test_an_absence_streak_counts_open_days_across_holidays(db, make, clock, now):
    today = jst_today(now)
    facility = make.facility()
    staff = make.account("facility", facility=facility)
    calendar = Calendar(JapaneseHolidays(), InMemoryFacilityDays({facility.id: "elementary"}))
    # Absent on the 8 open days before today: a streak of 8 however many
    # weekends, holidays or 年末年始 days lie between them.
    open_days = []
    for day in calendar.open_days_backwards(facility.id, today - dt.timedelta(days=1)):
        open_days.append(day)
        if len(open_days) == 8:
            break
    assert all(school_is_open(day) for day in open_days)
    child = make.child(facility=facility, monitoring_start=open_days[-1] - dt.timedelta(days=60))
    warned = make.child(facility=facility, monitoring_start=open_days[-1] - dt.timedelta(days=60))
    for day in open_days:
        db.add(AttendanceEntry(child_id=child.id, facility_id=facility.id, day=day, status="absent",
                               recorded_by_id=staff.id))
    for day in open_days[:3]:
        db.add(AttendanceEntry(child_id=warned.id, facility_id=facility.id, day=day, status="absent",
                               recorded_by_id=staff.id))
    db.add(AttendanceEntry(child_id=warned.id, facility_id=facility.id, day=open_days[3], status="present",
                           recorded_by_id=staff.id))
    db.flush()
    AlertSweep(db, calendar, Thresholds(warning=3, alert=7), clock).run()
    db.flush()
    levels = {(alert.child_id, alert.level) for alert in db.scalars(sa.select(Alert))}
    assert (child.id, AlertLevel.ACTION) in levels
    assert (warned.id, AlertLevel.CAUTION) in levels
    assert (warned.id, AlertLevel.ACTION) not in levels
