"""The child's timeline and attendance calendar (F-DASH): scope, the transfer rule, order, cost."""

from __future__ import annotations

import contextlib
import datetime as dt
import xml.etree.ElementTree as ET

import pytest
import sqlalchemy as sa

from tests.unit.test_timeline_sources import correct, entry
from webapp.attendance.status import Attendance
from webapp.attendance.models import AbsenceReason
from webapp.audit.models import AuditRecord
from webapp.reports.models import ReportAction, ReportEvent

pytestmark = pytest.mark.req("F-DASH")

D = dt.date
NS = {"svg": "http://www.w3.org/2000/svg"}
UTC = dt.UTC


@pytest.fixture
def world(make, db):
    centre = make.centre()
    school = make.facility(centre=centre, name="北沢小学校")
    child = make.child(facility=school, family_name="時系", given_name="花子")
    staff = make.account("facility", facility=school)
    caseworker = make.account("caseworker", centre=centre)
    return {"centre": centre, "school": school, "child": child, "staff": staff, "caseworker": caseworker}


def calendar_cells(page) -> dict[str, str]:
    svg = page.html.select_one("svg.tl-cal")
    root = ET.fromstring(str(svg))
    return {g.get("data-day"): g.get("data-status") for g in root.iterfind(".//svg:g[@data-day]", NS)}


def timeline_texts(page) -> list[str]:
    return [" ".join(li.get_text(" ", strip=True).split()) for li in page.html.select("ol.timeline li")]


def test_the_caseworker_sees_the_calendar_and_the_timeline_newest_first(app, make, db, login_as, world):
    child, school, staff = world["child"], world["school"], world["staff"]
    entry(db, child, school, D(2026, 11, 2), Attendance.PRESENT, staff)
    entry(db, child, school, D(2026, 11, 4), Attendance.ABSENT, staff, absence_reason=AbsenceReason.ILLNESS,
          note="発熱のため")
    entry(db, child, school, D(2026, 11, 9), Attendance.ABSENT, staff, no_contact=True)
    entry(db, child, school, D(2026, 11, 10), Attendance.LATE, staff)
    report = make.report(child, D(2026, 10, 1), author=staff)
    db.add(ReportEvent(report_id=report.id, action=ReportAction.SUBMITTED, version_number=1, account_id=staff.id,
                       created_at=dt.datetime(2026, 11, 6, 3, tzinfo=UTC)))
    db.add(ReportEvent(report_id=report.id, action=ReportAction.RETURNED, version_number=1,
                       account_id=world["caseworker"].id, comment="欠席理由を確認してください",
                       created_at=dt.datetime(2026, 11, 7, 3, tzinfo=UTC)))
    login_as(world["caseworker"])
    page = app.get(f"/children/{child.id}/timeline?month=2026-11")

    cells = calendar_cells(page)
    assert len(cells) == 30
    assert cells["2026-11-02"] == "present" and cells["2026-11-04"] == "absent"
    assert cells["2026-11-09"] == "no_contact" and cells["2026-11-10"] == "late"
    assert cells["2026-11-03"] == "closed" and cells["2026-11-23"] == "closed"  # 文化の日, 勤労感謝の日
    assert cells["2026-11-05"] == "missing" and cells["2026-11-27"] == "future"
    # The same month as a table, for screen readers and print.
    rows = {r.select_one("time")["datetime"]: r.get_text(" ", strip=True) for r in page.html.select("details.tl-days tbody tr")}
    assert "文化の日" in rows["2026-11-03"] and "病気・けが" in rows["2026-11-04"]
    summary = [td.get_text() for td in page.html.select("table.tl-summary tbody td")]
    assert summary == ["1", "1", "0", "1", "1", "13"]  # 出席 遅刻 早退 欠席 連絡なし欠席 未入力

    texts = timeline_texts(page)
    assert len(texts) == 5  # 出席 days are not listed
    assert "遅刻" in texts[0] and "2026-11-10" in texts[0]
    assert "欠席（連絡なし）" in texts[1]
    assert "差し戻されました" in texts[2] and "欠席理由を確認してください" in texts[2]
    assert "提出されました" in texts[3]
    assert "病気・けが" in texts[4] and "発熱のため" in texts[4]
    link = page.html.select("ol.timeline li")[3].select_one("a")["href"]
    assert link.endswith(f"/reports/{report.id}")


def test_corrections_are_listed_with_before_and_after(app, db, login_as, world):
    child, school, staff = world["child"], world["school"], world["staff"]
    found = entry(db, child, school, D(2026, 11, 12), Attendance.ABSENT, staff, absence_reason=AbsenceReason.UNKNOWN)
    correct(db, found, staff, dt.datetime(2026, 11, 13, 2, tzinfo=UTC), status=Attendance.PRESENT,
            absence_reason=None)
    login_as(world["caseworker"])
    page = app.get(f"/children/{child.id}/timeline?month=2026-11")
    texts = timeline_texts(page)
    assert len(texts) == 1 and "欠席（理由不明） → 出席" in texts[0] and "11月12日" in texts[0]
    assert calendar_cells(page)["2026-11-12"] == "present"


def test_the_page_defaults_to_this_month_and_navigates_by_month(app, login_as, world):
    child = world["child"]
    login_as(world["caseworker"])
    page = app.get(f"/children/{child.id}/timeline")
    assert "2026-11-01" in calendar_cells(page)
    assert page.html.select_one("a[rel=prev]")["href"].endswith("month=2026-10")
    assert page.html.select_one("a[rel=next]") is None  # nothing after this month
    october = app.get(f"/children/{child.id}/timeline?month=2026-10")
    assert "2026-10-31" in calendar_cells(october)
    assert october.html.select_one("a[rel=next]")["href"].endswith("month=2026-11")
    # The first month there is: no way further back.
    first = app.get(f"/children/{child.id}/timeline?month=2000-01")
    assert first.html.select_one("a[rel=prev]") is None and "2000-01-31" in calendar_cells(first)
    # Full-width digits as typed with a Japanese input method.
    assert "2026-09-01" in calendar_cells(app.get(f"/children/{child.id}/timeline", {"month": "２０２６-０９"}))


@pytest.mark.parametrize(("month", "message"), [
    ("2026-13", "2026-11 の形式"), ("abc", "2026-11 の形式"), ("𠮷", "2026-11 の形式"), ("1999-12", "2026-11 の形式"),
    ("2026-12", "今月より先"), ("9" * 300, "2026-11 の形式"), ("-1", "2026-11 の形式"),
])
def test_a_bad_month_is_explained_beside_the_field_and_kept(app, login_as, world, month, message):
    login_as(world["caseworker"])
    page = app.get(f"/children/{world['child'].id}/timeline", {"month": month}, status=400)
    assert message in page.html.select_one("#month-error").get_text()
    assert page.html.select_one("input#month")["value"] == month
    assert "2026-11-01" in calendar_cells(page)  # this month is shown meanwhile


def test_the_child_page_links_to_the_timeline(app, login_as, world):
    login_as(world["caseworker"])
    page = app.get(f"/children/{world['child'].id}")
    assert page.html.select_one(f"a[href$='/children/{world['child'].id}/timeline']") is not None


def test_out_of_scope_children_are_404_and_auditors_403(app, make, login_as, world):
    child = world["child"]
    login_as(make.account("caseworker"))  # another centre
    app.get(f"/children/{child.id}/timeline", status=404)
    login_as(make.account("facility"))  # another facility
    app.get(f"/children/{child.id}/timeline", status=404)
    app.get("/children/999999999/timeline", status=404)
    login_as(make.account("auditor"))
    app.get(f"/children/{child.id}/timeline", status=403)


@pytest.fixture
def transferred(make, db, world):
    """The child moved from 北沢小学校 to 代沢小学校 on 2026-11-16; each school recorded its days."""
    child, old, old_staff = world["child"], world["school"], world["staff"]
    new = make.facility(centre=world["centre"], name="代沢小学校")
    new_staff = make.account("facility", facility=new)
    entry(db, child, old, D(2026, 11, 4), Attendance.ABSENT, old_staff, note="旧施設の備考")
    entry(db, child, old, D(2026, 11, 13), Attendance.LATE, old_staff)
    found = entry(db, child, old, D(2026, 11, 12), Attendance.ABSENT, old_staff)
    correct(db, found, old_staff, dt.datetime(2026, 11, 12, 9, tzinfo=UTC), status=Attendance.PRESENT)
    old_report = make.report(child, D(2026, 10, 1), author=old_staff)
    db.add(ReportEvent(report_id=old_report.id, action=ReportAction.SUBMITTED, version_number=1,
                       account_id=old_staff.id, created_at=dt.datetime(2026, 11, 5, 3, tzinfo=UTC)))
    child.facility_id = new.id
    db.flush()
    entry(db, child, new, D(2026, 11, 16), Attendance.PRESENT, new_staff)
    entry(db, child, new, D(2026, 11, 18), Attendance.ABSENT, new_staff, note="新施設の備考")
    return {**world, "new": new, "new_staff": new_staff}


def test_the_new_facility_sees_only_what_it_recorded(app, login_as, transferred):
    login_as(transferred["new_staff"])
    page = app.get(f"/children/{transferred['child'].id}/timeline?month=2026-11")
    text = page.text
    assert "新施設の備考" in text
    assert "旧施設の備考" not in text and "北沢小学校" not in text
    texts = timeline_texts(page)
    assert len(texts) == 1 and "2026-11-18" in texts[0]  # not the old school's absence, late, correction or report
    cells = calendar_cells(page)
    # Days the old school recorded are 対象外 for the new one, without their content.
    assert cells["2026-11-04"] == "outside" and cells["2026-11-12"] == "outside" and cells["2026-11-13"] == "outside"
    assert cells["2026-11-16"] == "present" and cells["2026-11-18"] == "absent"
    assert "この施設が記録した内容だけ" in text
    october = app.get(f"/children/{transferred['child'].id}/timeline?month=2026-10")
    assert timeline_texts(october) == []


def test_the_old_facility_loses_the_child_after_the_transfer(app, login_as, transferred):
    login_as(transferred["staff"])
    app.get(f"/children/{transferred['child'].id}/timeline?month=2026-11", status=404)
    app.get(f"/children/{transferred['child'].id}/timeline?month=2026-10", status=404)


def test_the_centre_keeps_the_whole_history_across_the_transfer(app, login_as, transferred):
    login_as(transferred["caseworker"])
    page = app.get(f"/children/{transferred['child'].id}/timeline?month=2026-11")
    texts = timeline_texts(page)
    assert "旧施設の備考" in page.text and "新施設の備考" in page.text
    assert any("欠席 → 出席" in t for t in texts) and any("提出されました" in t for t in texts)
    cells = calendar_cells(page)
    assert cells["2026-11-04"] == "absent" and cells["2026-11-12"] == "present" and cells["2026-11-18"] == "absent"


def test_viewing_the_timeline_is_recorded(app, db, login_as, world):
    login_as(world["caseworker"])
    app.get(f"/children/{world['child'].id}/timeline")
    record = db.scalars(sa.select(AuditRecord).where(AuditRecord.action == "view",
                                                     AuditRecord.child_id == world["child"].id)).all()
    assert len(record) == 1 and record[0].actor == world["caseworker"].login


@contextlib.contextmanager
def count_statements(connection):
    statements = []

    def before_cursor_execute(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    sa.event.listen(connection, "before_cursor_execute", before_cursor_execute)
    try:
        yield statements
    finally:
        sa.event.remove(connection, "before_cursor_execute", before_cursor_execute)


def history(make, db, child, staff, months: int):
    """``months`` months of daily entries (absences on Wednesdays), each with a submitted report."""
    facility = child.facility
    day = D(2026, 11, 25) - dt.timedelta(days=30 * months)
    while day <= D(2026, 11, 25):
        if day.weekday() < 5:
            status = Attendance.ABSENT if day.weekday() == 2 else Attendance.PRESENT
            entry(db, child, facility, day, status, staff)
        day += dt.timedelta(days=1)
    from webapp.messages.models import Message, Side
    from webapp.urgent.models import UrgentCategory, UrgentReport, UrgentResponse

    period = D(2026, 11, 1)
    for n in range(months):
        period = (period - dt.timedelta(days=1)).replace(day=1)
        report = make.report(child, period, author=staff)
        db.add(ReportEvent(report_id=report.id, action=ReportAction.SUBMITTED, version_number=1,
                           account_id=staff.id, created_at=dt.datetime(2026, 11, 2, 3, tzinfo=UTC)))
        # Alerts, urgent reports with a response and messages in every month of the history
        # (one of each in November), so each source's query is exercised at both sizes.
        at = dt.datetime(2026, 11, 3, tzinfo=UTC) - dt.timedelta(days=30 * n)
        make.alert(child, streak_id=at.date() - dt.timedelta(days=2), raised_at=at)
        urgent = UrgentReport(facility_id=facility.id, centre_id=child.centre_id, child_id=child.id,
                              category=UrgentCategory.OTHER, description="連絡", observed_at=at,
                              reported_by_id=staff.id, created_at=at)
        db.add(urgent)
        db.flush()
        db.add(UrgentResponse(report_id=urgent.id, author_id=staff.id, text="対応", shared=True, created_at=at))
        db.add(Message(child_id=child.id, facility_id=facility.id, author_id=staff.id, side=Side.FACILITY,
                       body="様子", created_at=at))
    db.flush()


def test_queries_per_page_do_not_grow_with_the_months_of_history(app, make, db, connection, login_as):
    counts = []
    for months in (1, 24):
        centre = make.centre()
        child = make.child(facility=make.facility(centre=centre))
        history(make, db, child, make.account("facility", facility=child.facility), months)
        login_as(make.account("caseworker", centre=centre))
        url = f"/children/{child.id}/timeline?month=2026-11"
        app.get(url)  # warm-up: the same work as below
        with count_statements(connection) as statements:
            page = app.get(url)
        # 4 Wednesdays so far, every report submitted 11/2, and November's alert, urgent report,
        # its response and message.
        assert len(timeline_texts(page)) == 4 + months + 4
        counts.append(len(statements))
    assert counts[0] > 0 and counts[0] == counts[1], counts


@pytest.mark.req("F-ALERT")
def test_alerts_are_on_the_centres_timeline_only(app, make, db, login_as, world):
    from webapp.alerts.models import AlertStatus

    child = world["child"]
    alert = make.alert(child, raised_at=dt.datetime(2026, 11, 20, 0, tzinfo=UTC), status=AlertStatus.RESOLVED,
                       resolved_at=dt.datetime(2026, 11, 24, 0, tzinfo=UTC), resolved_by_id=world["caseworker"].id,
                       resolution_note="電話で保護者と話した")
    login_as(world["caseworker"])
    page = app.get(f"/children/{child.id}/timeline?month=2026-11")
    texts = timeline_texts(page)
    assert "アラート対応済" in texts[0] and "電話で保護者と話した" in texts[0]
    assert "アラート発生" in texts[1]
    assert page.html.select("ol.timeline li")[0].select_one("a")["href"].endswith(f"/alerts/{alert.id}")
    login_as(world["staff"])
    assert "アラート" not in " ".join(timeline_texts(app.get(f"/children/{child.id}/timeline?month=2026-11")))


@pytest.mark.req("F-UI")
def test_the_page_has_no_inline_style_or_script_and_reads_in_english(app, login_as, world):
    login_as(world["caseworker"])
    url = f"/children/{world['child'].id}/timeline?month=2026-11"
    page = app.get(url)
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    assert "<style" not in page.text and "style=" not in page.text and "<script" not in page.text
    svg = page.html.select_one("svg.tl-cal")
    assert svg["role"] == "img" and svg["aria-labelledby"] == "attendance-calendar-title attendance-calendar-desc"
    app.get("/locale/en", {"next": url})
    english = app.get(url)
    assert english.html.select_one("#timeline-heading").get_text() == "Timeline (newest first)"
    rows = {r.select_one("time")["datetime"]: r.get_text(" ", strip=True) for r in english.html.select("details.tl-days tbody tr")}
    assert rows["2026-11-03"] == "11/3（火） 休 Closed days National holiday (文化の日)"
    legend = ET.fromstring(str(english.html.select_one("svg.tl-cal"))).find("svg:title", NS).text
    assert legend == "Attendance calendar for 2026年11月"


@pytest.mark.req("F-URGENT", "F-MSG")
def test_urgent_reports_and_messages_follow_the_transfer_rule(app, make, db, login_as, transferred):
    from webapp.messages.models import Message, Side
    from webapp.urgent.models import UrgentCategory, UrgentReport

    child, old, new = transferred["child"], transferred["school"], transferred["new"]
    for facility, author, text, day in ((old, transferred["staff"], "旧施設からの連絡", 6),
                                        (new, transferred["new_staff"], "新施設からの連絡", 19)):
        db.add(Message(child_id=child.id, facility_id=facility.id, author_id=author.id, side=Side.FACILITY,
                       body=text, created_at=dt.datetime(2026, 11, day, 2, tzinfo=UTC)))
        db.add(UrgentReport(facility_id=facility.id, centre_id=transferred["centre"].id, child_id=child.id,
                            category=UrgentCategory.GUARDIAN, description=f"{text}（緊急）",
                            observed_at=dt.datetime(2026, 11, day, 1, tzinfo=UTC), reported_by_id=author.id,
                            created_at=dt.datetime(2026, 11, day, 1, tzinfo=UTC)))
    db.flush()
    login_as(transferred["caseworker"])
    everything = app.get(f"/children/{child.id}/timeline?month=2026-11").text
    assert all(text in everything for text in ("旧施設からの連絡", "新施設からの連絡", "旧施設からの連絡（緊急）",
                                                "新施設からの連絡（緊急）"))
    login_as(transferred["new_staff"])
    page = app.get(f"/children/{child.id}/timeline?month=2026-11")
    texts = timeline_texts(page)
    assert "新施設からの連絡" in page.text and "新施設からの連絡（緊急）" in page.text
    assert "旧施設からの連絡" not in page.text
    assert [t.split(" ")[0] for t in texts] == ["2026-11-19", "2026-11-19", "2026-11-18"]
    links = [a["href"] for a in page.html.select("ol.timeline li a")]
    assert any(link.endswith(f"/children/{child.id}/messages") for link in links)
    assert any("/urgent/" in link for link in links)
