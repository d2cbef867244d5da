"""The caseworker's submission matrix, one facility's month and the review queue (F-DASH)."""

from __future__ import annotations

import contextlib
import datetime as dt

import pytest
import sqlalchemy as sa

from webapp.clock import JST

SEPTEMBER, OCTOBER, NOVEMBER = dt.date(2026, 9, 1), dt.date(2026, 10, 1), dt.date(2026, 11, 1)


def cell(page, facility, period_label):
    """The matrix cell of ``facility`` for e.g. "2026年10月" (found through the row and column headers)."""
    headers = [th.get_text().replace("\n", "") for th in page.html.select("table.matrix thead th")]
    column = next(i for i, text in enumerate(headers) if text.startswith(period_label))
    for row in page.html.select("table.matrix tbody tr"):
        if row.select_one("th").get_text().startswith(facility.name + " "):
            return row.select("td")[column - 1]
    return None


def facility_names(page) -> list[str]:
    return [th.get_text().rsplit(" ", 1)[0] for th in page.html.select("table.matrix tbody th")]


@pytest.fixture
def centre_world(make):
    centre = make.centre()
    caseworker = make.account("caseworker", centre=centre)
    late = make.facility(centre=centre, name="遅れ小学校")
    done = make.facility(centre=centre, name="完了保育園")
    for facility in (late, done):
        for _ in range(2):
            child = make.child(facility=facility)
            if facility is done:
                make.report(child, OCTOBER)
    make.report(make.child(facility=late), OCTOBER)  # late has 3 children, 1 submitted
    return {"centre": centre, "caseworker": caseworker, "late": late, "done": done}


@pytest.mark.req("F-DASH")
def test_overdue_cells_are_marked_only_after_the_deadline(app, centre_world, login_as, clock):
    late, done = centre_world["late"], centre_world["done"]

    # 2026-11-05: October's deadline (11-10) has not passed; October is the current period.
    clock.set(dt.datetime(2026, 11, 5, 9, 0, tzinfo=JST))
    login_as(centre_world["caseworker"])
    page = app.get("/centre/submissions")
    october = cell(page, late, "2026年10月")
    assert "1/3" in october.get_text()
    assert "o" not in october.get("class", []) and "期限超過" not in october.get_text()
    headers = [th.get_text() for th in page.html.select("table.matrix thead th")]
    assert "2026年10月" in headers[-1].replace("\n", "")  # 6 months ending at the current period
    assert len(headers) == 1 + 6
    headers = app.get("/centre/submissions?months=12").html.select("table.matrix thead th")
    assert len(headers) == 1 + 12 and headers[1].get_text().startswith("2025年11月")

    # 2026-11-11: past the deadline, the incomplete facility is flagged in text, not colour only.
    clock.set(dt.datetime(2026, 11, 11, 9, 0, tzinfo=JST))
    login_as(centre_world["caseworker"])
    page = app.get("/centre/submissions")
    october = cell(page, late, "2026年10月")
    assert october["class"] == ["o"] and "期限超過" in october.get_text()
    complete = cell(page, done, "2026年10月")
    assert "2/2" in complete.get_text() and complete["class"] == ["c"] and "完了" in complete.get_text()
    # The facility to chase is listed first.
    assert page.html.select("table.matrix tbody th")[0].get_text().startswith("遅れ小学校")
    # A month whose deadline is still ahead is never overdue.
    november = cell(page, late, "2026年11月")
    assert "o" not in november.get("class", [])


@pytest.mark.req("F-DASH")
def test_facility_month_page_lists_each_child_with_status(app, centre_world, login_as):
    login_as(centre_world["caseworker"])
    late = centre_world["late"]
    page = app.get(f"/centre/facilities/{late.id}/2026-10")
    statuses = [td.get_text(strip=True) for td in page.html.select("tbody td .status")]
    assert sorted(statuses) == ["提出済", "未作成", "未作成"]
    assert "期限超過" in page.text  # 2026-11-26 is after October's deadline
    app.get(f"/centre/facilities/{late.id}/2026-13", status=404)
    app.get("/centre/facilities/99999999999/2026-10", status=404)


@pytest.mark.req("F-DASH")
def test_review_queue_is_oldest_submission_first(app, make, db, login_as):
    from webapp.reports.models import MonthlyReport

    centre = make.centre()
    facility = make.facility(centre=centre)
    newer = make.report(make.child(facility=facility, given_name="新しい"), OCTOBER)
    older = make.report(make.child(facility=facility, given_name="古い"), OCTOBER)
    make.report(make.child(facility=facility, given_name="下書き"), OCTOBER, status="draft")
    db.execute(sa.update(MonthlyReport).where(MonthlyReport.id == older.id)
               .values(submitted_at=dt.datetime(2026, 11, 1, tzinfo=dt.UTC)))
    login_as(make.account("caseworker", centre=centre))
    rows = app.get("/centre/review").html.select("tbody tr")
    names = [row.select_one("th").get_text() for row in rows]
    assert names == ["山田 古い", "山田 新しい"]


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


def populate(make, centre, facilities: int):
    for n in range(facilities):
        facility = make.facility(centre=centre)
        for m in range(3):
            child = make.child(facility=facility)
            if m:
                make.report(child, OCTOBER, status="submitted" if m == 1 else "draft")


@pytest.mark.req("F-DASH")
def test_matrix_query_count_does_not_grow_with_facilities(app, make, db, connection, login_as):
    counts = []
    for facilities in (2, 20):
        centre = make.centre()
        populate(make, centre, facilities)
        login_as(make.account("caseworker", centre=centre))
        app.get("/centre/submissions")  # warm-up: the same work as below
        with count_statements(connection) as statements:
            page = app.get("/centre/submissions")
        assert len(page.html.select("table.matrix tbody tr")) == facilities
        counts.append(len(statements))
    assert counts[0] > 0 and counts[0] == counts[1], counts


@pytest.mark.req("F-MONTHLY")
def test_facility_period_page_query_count_does_not_grow_with_children(app, make, connection, login_as):
    counts = []
    for children in (3, 30):
        facility = make.facility()
        for n in range(children):
            child = make.child(facility=facility)
            if n % 2:
                make.report(child, OCTOBER)
        login_as(make.account("facility", facility=facility))
        app.get("/reports/period/2026-10")
        with count_statements(connection) as statements:
            page = app.get("/reports/period/2026-10")
        assert len(page.html.select("tbody tr")) == children
        counts.append(len(statements))
    assert counts[0] > 0 and counts[0] == counts[1], counts
