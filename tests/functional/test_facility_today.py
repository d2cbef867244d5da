"""The facility's home, today's to-do (issue #18 item 4; F-UI, F-DAILY, F-MONTHLY, F-MSG, F-NOTICE).

Each test makes exactly the objects an item needs and checks what /today shows.
Dates come from the app clock (``now``): the tests marked date_sensitive derive
every expected day from it, so the date sweep runs them at every instant.
"""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from webapp.clock import JST
from webapp.closed_days.models import ClosureKind, FacilityClosure
from webapp.messages.models import Message, Side
from webapp.notices.models import Notice, NoticeKind, NoticeRead
from webapp.reports import periods
from webapp.reports.models import ReportAction, ReportEvent

pytestmark = pytest.mark.req("F-UI", "F-DAILY", "F-MONTHLY", "F-MSG", "F-NOTICE")

DEADLINE_DAY = 10  # the default mimamori.report_deadline_day


def jst_today(now: dt.datetime) -> dt.date:
    return now.astimezone(JST).date()


def returned(make, db, child, period, comment, caseworker):
    report = make.report(child, period, status="returned")
    db.add(ReportEvent(report=report, action=ReportAction.SUBMITTED, version_number=1,
                       account_id=report.versions[0].author_id))
    db.add(ReportEvent(report=report, action=ReportAction.RETURNED, version_number=1,
                       account_id=caseworker.id, comment=comment))
    db.flush()
    return report


def open_today(make, facility, day):
    """A 特別開所日 on ``day``: the facility is open whatever the weekday or holiday."""
    return make._add(FacilityClosure(facility_id=facility.id, starts_on=day, ends_on=day, kind=ClosureKind.EXTRA_OPEN,
                                     label="特別開所", created_by_id=make.account("admin").id))


def unread_message(make, db, child, caseworker, body="面談の日程について"):
    db.add(Message(child_id=child.id, facility_id=child.facility_id, author_id=caseworker.id, side=Side.CENTRE,
                   body=body))
    db.flush()


def notice(make, db, now, title):
    n = Notice(author_id=make.account("admin").id, kind=NoticeKind.GENERAL, title=title, body="本文",
               publish_from=now - dt.timedelta(days=1))
    db.add(n)
    db.flush()
    return n


def section(page, key):
    found = page.html.select_one(f"section#todo-{key}") if key.endswith("month") else \
        page.html.select_one(f"section.todo-{key}")
    return " ".join(found.get_text(" ", strip=True).split()) if found is not None else None


@pytest.fixture
def world(make, now):
    today = jst_today(now)
    period = periods.current_period(today, DEADLINE_DAY)
    start = periods.add_months(period, -3)
    centre = make.centre()
    facility = make.facility(centre=centre)
    kids = [make.child(facility=facility, family_name=family, given_name=given, monitoring_start=start)
            for family, given in (("𠮷田", "花子"), ("佐藤", "次郎"), ("鈴木", "三郎"), ("高橋", "四郎"))]
    other = make.facility(centre=centre)
    return {
        "today": today, "period": period, "start": start, "centre": centre, "facility": facility, "kids": kids,
        "staff": make.account("facility", facility=facility),
        "caseworker": make.account("caseworker", centre=centre),
        "other": other,
        "other_kid": make.child(facility=other, family_name="別所", given_name="秘子", monitoring_start=start),
        "other_staff": make.account("facility", facility=other),
    }


@pytest.mark.date_sensitive
def test_facility_login_lands_on_today_and_other_roles_keep_their_home(app, make, world, login_as):
    response = login_as(world["staff"])
    assert response.location == "https://localhost/"
    assert app.get("/").location == "https://localhost/today"
    page = app.get("/today")
    assert page.html.select_one("h1").get_text() == "今日やること"
    # The month's list stays one click away: in the menu and on the page.
    menu = page.html.select_one("nav ul.menu")
    assert menu.find("a", string="月次報告")["href"].endswith("/reports/period/current")
    assert menu.find("a", string="今日やること")["href"].endswith("/today")
    login_as(world["caseworker"])
    assert app.get("/").location == "https://localhost/centre/submissions"
    app.get("/today", status=403)


@pytest.mark.date_sensitive
def test_each_item_with_its_count_and_link(app, make, db, world, login_as, now):
    today, period, kids = world["today"], world["period"], world["kids"]
    open_today(make, world["facility"], today)
    # Attendance: one of four children entered today.
    make.attendance(kids[0], today)
    # Reports of the current month: one returned (with the centre's reason), one draft,
    # one submitted, one not started.
    returned(make, db, kids[0], period, "遅刻の回数をもう一度ご確認ください。", world["caseworker"])
    make.report(kids[1], period, status="draft")
    make.report(kids[2], period, status="submitted")
    unread_message(make, db, kids[1], world["caseworker"])
    notice(make, db, now, "年末年始の提出について")

    login_as(world["staff"])
    page = app.get("/today")
    assert page.html.select_one(".todo-empty") is None

    link = page.html.select_one("a#todo-attendance-link")
    assert link["href"].endswith(f"/attendance/facilities/{world['facility'].id}/{today.isoformat()}")
    assert link.get_text(strip=True) == "今日の出欠を入力（未入力 3人 / 4人）"

    returned_text = section(page, "returned")
    assert "差し戻された報告 1件" in returned_text
    assert "センターからの理由： 遅刻の回数をもう一度ご確認ください。" in returned_text
    edit = page.html.select_one("section.todo-returned li a")
    assert edit["href"].endswith(f"/reports/period/{periods.format_period(period)}/children/{kids[0].id}")
    assert "𠮷田 花子" in edit.get_text()
    assert app.get(edit["href"]).status_int == 200  # straight to the form, not the report page

    month = section(page, "month")
    deadline = periods.deadline(period, DEADLINE_DAY)
    assert f"提出期限： {deadline.year}年{deadline.month}月{deadline.day}日" in month
    days_left = (deadline - today).days
    assert ("今日が提出期限です" if days_left == 0 else f"あと{days_left}日") in month
    assert "未提出 3件 （全4件中）" in month
    assert "未作成 1件" in month and "下書き 1件" in month and "差戻し 1件" in month
    month_link = page.html.select_one("a#month-list-link")
    assert month_link["href"].endswith(f"/reports/period/{periods.format_period(period)}")
    assert app.get(month_link["href"]).status_int == 200

    unread = section(page, "unread")
    assert "連絡帳 ： 未読1件 （1人分）" in unread
    assert "区からのお知らせ ： 未読1件" in unread
    notice_link = page.html.select_one("li.todo-notices ul a")
    assert notice_link.get_text() == "年末年始の提出について"
    # Once read, the notice leaves the to-do.
    app.get(notice_link["href"])
    assert "未読はありません" in section(app.get("/today"), "unread").split("区からのお知らせ")[1]
    assert db.scalar(sa.select(sa.func.count()).select_from(NoticeRead)) == 1


@pytest.mark.date_sensitive
def test_attendance_done_state(app, make, world, login_as):
    today = world["today"]
    open_today(make, world["facility"], today)
    for kid in world["kids"]:
        make.attendance(kid, today)
    login_as(world["staff"])
    page = app.get("/today")
    assert page.html.select_one("a#todo-attendance-link") is None
    assert "今日の出欠は全員分（4人）入力済みです。" in section(page, "attendance")


@pytest.mark.date_sensitive
def test_no_attendance_item_on_a_closed_day_or_without_daily_records(app, make, db, world, login_as):
    today, facility = world["today"], world["facility"]
    login_as(world["staff"])
    # Never recorded daily: nothing to ask for.
    assert section(app.get("/today"), "attendance") is None
    # Records daily (yesterday), open today: asked for.
    make.attendance(world["kids"][0], today - dt.timedelta(days=1))
    open_today(make, facility, today)
    db.commit()
    assert "今日の出欠を入力" in section(app.get("/today"), "attendance")
    # A closure covering today (the 特別開所日 removed): a closed day, no item.
    db.execute(sa.delete(FacilityClosure).where(FacilityClosure.facility_id == facility.id))
    make._add(FacilityClosure(facility_id=facility.id, starts_on=today - dt.timedelta(days=2), ends_on=today,
                              kind=ClosureKind.CLOSED, label="開校記念日", created_by_id=world["staff"].id))
    db.commit()
    assert section(app.get("/today"), "attendance") is None


def test_overdue_previous_month_in_words(app, make, world, login_as):
    # The fixed clock: 2026-11-26. November is the reporting month (deadline 12/10);
    # October's deadline (11/10) has passed with four reports missing.
    make.report(world["kids"][0], dt.date(2026, 10, 1), status="submitted")
    login_as(world["staff"])
    page = app.get("/today")
    overdue = section(page, "overdue-month")
    assert "2026年10月の月次報告" in overdue
    assert "提出期限： 2026年11月10日 期限を16日過ぎています" in overdue
    assert "未提出 3件 （全4件中）" in overdue
    assert page.html.select_one("#todo-overdue-month .overdue-text").get_text() == "期限を16日過ぎています"
    assert page.html.select_one("a#overdue-month-list-link")["href"].endswith("/reports/period/2026-10")
    month = section(page, "month")
    assert "2026年11月の月次報告" in month and "あと14日" in month and "未提出 4件" in month


@pytest.mark.date_sensitive
def test_empty_state(app, make, world, login_as):
    period = world["period"]
    for kid in world["kids"]:
        make.report(kid, period, status="submitted")
        make.report(kid, periods.add_months(period, -1), status="acknowledged")
    login_as(world["staff"])
    page = app.get("/today")
    assert page.html.select_one(".todo-empty").get_text() == "今日やることはありません"
    assert "この月の報告はすべて提出済みです（4件）。" in section(page, "month")
    assert page.html.select_one("section#todo-overdue-month") is None
    assert page.html.select_one("section.todo-returned") is None
    assert page.html.select_one("a#month-list-link") is not None


@pytest.mark.date_sensitive
def test_a_facility_never_sees_another_facilitys_items(app, make, db, world, login_as, now):
    today, period = world["today"], world["period"]
    other_kid = world["other_kid"]
    # Facility B: a returned report, a draft, an unread message, today's attendance.
    returned(make, db, other_kid, period, "B施設への差戻し理由", world["caseworker"])
    unread_message(make, db, other_kid, world["caseworker"], "B施設への連絡")
    make.attendance(other_kid, today)
    open_today(make, world["other"], today)
    login_as(world["staff"])
    page = app.get("/today")
    text = page.html.select_one("main").get_text(" ", strip=True)
    assert "別所" not in text and "B施設への差戻し理由" not in text
    assert section(page, "returned") is None
    assert section(page, "attendance") is None  # A never recorded daily
    assert "連絡帳 ： 未読はありません" in section(page, "unread")
    assert "未提出 4件 （全4件中）" in section(page, "month")
    # ...and B sees its own.
    login_as(world["other_staff"])
    page = app.get("/today")
    assert "B施設への差戻し理由" in section(page, "returned")
    assert "未読1件" in section(page, "unread"), page.html.select_one("nav").get_text(" ", strip=True)


def test_the_page_costs_the_same_queries_for_many_children(app, make, db, world, login_as, connection):
    """No query per child or per report: the count of SQL statements does not grow with the data."""
    period = dt.date(2026, 11, 1)
    caseworker = world["caseworker"]
    statements = []

    def count(*_args):
        statements.append(1)

    def queries_for_home() -> int:
        db.commit()
        statements.clear()
        sa.event.listen(connection, "before_cursor_execute", count)
        try:
            app.get("/today")
        finally:
            sa.event.remove(connection, "before_cursor_execute", count)
        return len(statements)

    login_as(world["staff"])
    make.attendance(world["kids"][0], dt.date(2026, 11, 25))
    returned(make, db, world["kids"][0], period, "一件目", caseworker)
    unread_message(make, db, world["kids"][1], caseworker)
    few = queries_for_home()
    for n in range(12):
        kid = make.child(facility=world["facility"], given_name=f"追加{n}", monitoring_start=world["start"])
        returned(make, db, kid, period, f"理由{n}", caseworker)
        returned(make, db, kid, dt.date(2026, 10, 1), f"前月の理由{n}", caseworker)
        unread_message(make, db, kid, caseworker)
        make.attendance(kid, dt.date(2026, 11, 26))
    many = queries_for_home()
    page = app.get("/today")
    assert "差し戻された報告 25件" in section(page, "returned")
    assert many == few, (few, many)


def test_help_explains_the_home_and_the_home_links_to_it(app, world, login_as):
    login_as(world["staff"])
    page = app.get("/today")
    help_link = page.html.find("a", string="この画面の見方")
    assert help_link["href"].endswith("/help/today")
    help_page = app.get(help_link["href"])
    assert help_page.html.select_one("h1").get_text() == "今日やること（施設のホーム）"
    assert "今日やることはありません" in help_page.text and "報告一覧へ" in help_page.text
    index = app.get("/help/index")
    assert index.html.find("a", string="今日やること（施設のホーム）")["href"].endswith("/help/today")


def test_the_one_day_calendar_reads_only_the_closures_covering_that_day(make, db, world):
    """The home's calendar does not read years of closures (DbFacilityDays(only_day=...))."""
    from webapp.closed_days.facility_days import DbFacilityDays

    facility, staff = world["facility"], world["staff"]
    day = dt.date(2026, 11, 26)
    for year in range(2020, 2026):  # summer breaks of past years
        make._add(FacilityClosure(facility_id=facility.id, starts_on=dt.date(year, 7, 20), ends_on=dt.date(year, 8, 31),
                                  kind=ClosureKind.CLOSED, label=f"{year}年夏休み", created_by_id=staff.id))
    make._add(FacilityClosure(facility_id=facility.id, starts_on=day, ends_on=day, kind=ClosureKind.CLOSED,
                              label="開校記念日", created_by_id=staff.id))
    assert [c.reason for c in DbFacilityDays(db, only_day=day).closures(facility.id)] == ["開校記念日"]
    assert len(DbFacilityDays(db).closures(facility.id)) == 7


def test_a_months_calendar_reads_only_the_closures_overlapping_the_month(make, db, world):
    """The child timeline's calendar (DbFacilityDays(between=...)): a month's closures, not the years kept."""
    from webapp.closed_days.facility_days import DbFacilityDays

    facility, staff = world["facility"], world["staff"]
    for start, end, label in ((dt.date(2025, 7, 20), dt.date(2025, 8, 31), "去年の夏休み"),
                              (dt.date(2026, 10, 28), dt.date(2026, 11, 2), "秋休み"),
                              (dt.date(2026, 11, 30), dt.date(2026, 12, 2), "振替休業日"),
                              (dt.date(2026, 12, 5), dt.date(2026, 12, 5), "翌月")):
        make._add(FacilityClosure(facility_id=facility.id, starts_on=start, ends_on=end, kind=ClosureKind.CLOSED,
                                  label=label, created_by_id=staff.id))
    november = DbFacilityDays(db, between=(dt.date(2026, 11, 1), dt.date(2026, 11, 30)))
    assert [c.reason for c in november.closures(facility.id)] == ["秋休み", "振替休業日"]
    assert len(DbFacilityDays(db).closures(facility.id)) == 4


def test_both_reporting_months_are_counted_by_status_in_one_statement(make, db, world, connection):
    """The overdue month and the current one: one statement for both (issue 19 item 4), each month its own counts."""
    from webapp.children.scope import Scope
    from webapp.today.services import TodayService

    october, november = dt.date(2026, 10, 1), dt.date(2026, 11, 1)
    kids = world["kids"]
    make.report(kids[0], october, status="draft")
    make.report(kids[1], october, status="returned")
    make.report(kids[2], october, status="submitted")
    make.report(kids[0], november, status="draft")
    db.flush()
    scope = Scope(account=world["staff"], caseworker_scope="centre", today=dt.date(2026, 11, 26))
    statements = []

    def count(*_args):
        statements.append(1)

    sa.event.listen(connection, "before_cursor_execute", count)
    try:
        before, current = TodayService(db, None, DEADLINE_DAY).months(scope, [october, november], dt.date(2026, 11, 26))
    finally:
        sa.event.remove(connection, "before_cursor_execute", count)
    assert len(statements) == 1
    assert (before.period, before.due, before.not_started, before.drafts, before.returned) == (october, 4, 1, 1, 1)
    assert before.overdue and before.unsubmitted == 3
    assert (current.period, current.due, current.not_started, current.drafts, current.returned) == (november, 4, 3, 1, 0)
    assert not current.overdue
