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


# --- Order, filters, paging, scope (issue 18 item 6). Dates come from ``now``. ---


def matrix_months(now):
    """(previous, current): the month before the current period (its deadline has passed) and the current one."""
    from webapp.reports.periods import add_months, current_period

    current = current_period(now.date(), 10)
    return add_months(current, -1), current


@pytest.fixture
def ranked_world(make, now):
    """A centre with a complete, an incomplete and two overdue facilities, named against the expected order."""
    previous, current = matrix_months(now)
    centre = make.centre()
    author = make.account("caseworker", centre=centre)

    def facility(name, reported: dict, children=2, **kw):
        made = make.facility(centre=centre, name=name, **kw)
        for n in range(children):
            child = make.child(facility=made, monitoring_start=previous)
            for period, count in reported.items():
                if n < count:
                    make.report(child, period, author=author)
        return made

    world = {
        "complete": facility("あ完了園", {previous: 2, current: 2}, facility_type="nursery"),
        "incomplete": facility("い未提出小学校", {previous: 2, current: 1}),
        "overdue_one": facility("う超過一人小学校", {previous: 1, current: 2}),
        "overdue_two": facility("え超過二人小学校", {previous: 0, current: 0}),
    }
    other = make.centre()
    world["foreign"] = make.facility(centre=other, name="え超過よそ小学校")
    make.child(facility=world["foreign"], monitoring_start=previous)  # overdue, but another centre's
    world["caseworker"] = make.account("caseworker", centre=centre)
    return world


@pytest.mark.req("F-DASH")
@pytest.mark.date_sensitive
def test_matrix_lists_overdue_then_incomplete_then_complete(app, ranked_world, login_as, now):
    login_as(ranked_world["caseworker"])
    page = app.get("/centre/submissions")
    assert facility_names(page) == ["え超過二人小学校", "う超過一人小学校", "い未提出小学校", "あ完了園"]
    assert "4施設（うち期限超過2施設）" in page.text
    # Another centre's facility is never shown, whatever the filters.
    assert "よそ" not in page.text
    assert facility_names(app.get("/centre/submissions", {"q": "よそ"})) == []
    assert "え超過よそ小学校" not in facility_names(app.get("/centre/submissions", {"overdue": "1", "months": "12"}))


@pytest.mark.req("F-DASH")
@pytest.mark.date_sensitive
def test_matrix_filters_by_type_overdue_and_name(app, ranked_world, login_as, now):
    login_as(ranked_world["caseworker"])
    page = app.get("/centre/submissions", {"overdue": "1"})
    assert facility_names(page) == ["え超過二人小学校", "う超過一人小学校"]
    assert page.html.select_one("#filter-overdue").has_attr("checked")
    assert page.html.select_one("a.button[href$='/centre/submissions']").get_text() == "条件をクリア"
    assert facility_names(app.get("/centre/submissions", {"type": "nursery"})) == ["あ完了園"]
    assert facility_names(app.get("/centre/submissions", {"type": "elementary", "overdue": "1"})) == [
        "え超過二人小学校", "う超過一人小学校"]
    assert facility_names(app.get("/centre/submissions", {"q": "未提出"})) == ["い未提出小学校"]
    code = ranked_world["complete"].code  # by code too, in either case
    assert facility_names(app.get("/centre/submissions", {"q": code.lower()})) == ["あ完了園"]
    empty = app.get("/centre/submissions", {"q": "100%_"})  # LIKE wildcards are literal
    assert facility_names(empty) == [] and "この条件に当てはまる施設はありません。" in empty.text
    # The default page offers no reset.
    assert "条件をクリア" not in app.get("/centre/submissions").text


@pytest.mark.req("F-DASH")
@pytest.mark.date_sensitive
def test_matrix_pages_show_every_facility_once_with_the_exact_total(app, make, login_as, now):
    previous, _current = matrix_months(now)
    centre = make.centre()
    nurseries = {make.facility(centre=centre, name=f"保育園{n:02d}", facility_type="nursery").name
                 for n in range(53)}
    for facility in centre.facilities:
        make.child(facility=facility, monitoring_start=previous)
    make.child(facility=make.facility(centre=centre, name="ほかの小学校"), monitoring_start=previous)
    login_as(make.account("caseworker", centre=centre))

    page = app.get("/centre/submissions", {"type": "nursery", "months": "3"})
    seen = []
    while True:
        assert "53施設（うち期限超過53施設）" in page.text
        assert len(page.html.select("table.matrix thead th")) == 1 + 3  # the filters survive paging
        seen += facility_names(page)
        following = page.html.select_one(".pager a[rel=next]")
        if following is None:
            break
        assert "type=nursery" in following["href"] and "months=3" in following["href"]
        page = app.get(following["href"])
    assert len(seen) == 53 and set(seen) == nurseries
    assert "1〜50件目を表示" in app.get("/centre/submissions", {"type": "nursery"}).text


@pytest.mark.req("F-DASH")
@pytest.mark.parametrize("query", [
    "page=-1", "page=0", "page=abc", "page=99999999999999999999999", "page=3", "page=1.5",
    "type=spaceship", "months=7", "months=-3", "overdue=maybe", "q=" + "%E3%81%82" * 500,
    "page=2&page=x", "type=nursery&type=", "q=%00", "q=%E6%9C%AA%00%01",
])
def test_matrix_odd_parameters_give_a_page_not_an_error(app, centre_world, login_as, query):
    login_as(centre_world["caseworker"])
    page = app.get("/centre/submissions?" + query)
    assert page.status_int == 200
    assert page.html.select_one("p.matrix-total") is not None


def test_matrix_help_page_is_linked_and_renders(app, centre_world, login_as):
    login_as(centre_world["caseworker"])
    page = app.get("/centre/submissions")
    help_page = page.click(href="/help/matrix")
    assert help_page.html.select_one("h1").get_text() == "月次報告の提出状況を見る"
    assert "/help/matrix" in app.get("/help/index").text


def test_matrix_filter_parameters_round_trip():
    from webapp.reports.matrix import MatrixFilter

    assert MatrixFilter.from_params({}).is_default
    assert MatrixFilter.from_params({"q": " 未\x00提出 \t園 "}).q == "未提出 園"
    parsed = MatrixFilter.from_params({"type": "nursery", "overdue": "1", "q": "桜", "months": "12"})
    assert parsed.to_params() == {"type": "nursery", "overdue": "1", "q": "桜", "months": "12"}
    assert MatrixFilter.from_params(parsed.to_params()) == parsed


@pytest.mark.req("F-DASH")
def test_matrix_counts_only_children_due_in_the_month(db, make):
    """A report in a month outside the child's monitoring counts neither as due nor as submitted;
    a child whose monitoring ended is still due in the months it covered."""
    from webapp.children.scope import Scope
    from webapp.reports.matrix import SubmissionMatrixService

    centre = make.centre()
    facility = make.facility(centre=centre)
    ended = make.child(facility=facility, monitoring_start=SEPTEMBER, monitoring_end=dt.date(2026, 9, 20))
    starts_late = make.child(facility=facility, monitoring_start=dt.date(2026, 10, 31))
    make.report(ended, SEPTEMBER)
    make.report(ended, OCTOBER)  # written after monitoring ended: not counted
    make.report(starts_late, SEPTEMBER)  # before monitoring began: not counted
    make.report(starts_late, OCTOBER, status="draft")
    make.report(make.child(facility=make.facility()), OCTOBER)  # another centre's
    caseworker = make.account("caseworker", centre=centre)
    counts = SubmissionMatrixService(db).counts(Scope(caseworker, "centre", dt.date(2026, 11, 26)),
                                                [SEPTEMBER, OCTOBER, NOVEMBER])
    assert counts == {(facility.id, SEPTEMBER): (1, 1), (facility.id, OCTOBER): (1, 0),
                      (facility.id, NOVEMBER): (1, 0)}


def test_matrix_cells_escape_the_page_strings_and_write_integers_only():
    from types import SimpleNamespace

    from webapp.reports.matrix import Cell
    from webapp.reports.matrix_cells import CellWriter

    write = CellWriter('https://h/x"<y>/', [SEPTEMBER, OCTOBER, NOVEMBER], "<期限超過>", "完&了")
    row = SimpleNamespace(facility=SimpleNamespace(id=7), cells=[
        Cell(SEPTEMBER, 3, 1, True), Cell(OCTOBER, 2, 2, False), None])
    assert str(write(row)) == (
        '<td class="o"><a href="https://h/x&#34;&lt;y&gt;/7/2026-09">1/3<br><b>&lt;期限超過&gt;</b></a></td>'
        '<td class="c"><a href="https://h/x&#34;&lt;y&gt;/7/2026-10">2/2<br><b>完&amp;了</b></a></td>'
        '<td>—</td>')
    with pytest.raises(ValueError):
        write(SimpleNamespace(facility=SimpleNamespace(id="7 onmouseover=x"), cells=[]))
