"""和暦 beside 西暦 where the ward's forms use it (F-MONTHLY, F-UI, F-EXPORT; issue 18 item 8)."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest

OCTOBER = dt.date(2026, 10, 1)


@pytest.fixture
def world(make):
    centre = make.centre()
    facility = make.facility(centre=centre)
    child = make.child(facility=facility, family_name="佐藤", given_name="花子")
    staff = make.account("facility", facility=facility)
    report = make.report(make.child(facility=facility), OCTOBER, author=staff)
    return {"child": child, "staff": staff, "report": report,
            "caseworker": make.account("caseworker", centre=centre)}


def era_of(page, selector="h1"):
    return page.html.select_one(selector).select_one(".era").get_text()


@pytest.mark.req("F-MONTHLY", "F-UI")
def test_the_facilitys_form_list_and_report_show_the_era(app, world, login_as):
    login_as(world["staff"])
    form_page = app.get(f"/reports/period/2026-10/children/{world['child'].id}")
    assert "2026年10月" in form_page.html.h1.get_text() and era_of(form_page) == "（令和8年10月）"
    assert era_of(app.get("/reports/period/2026-10")) == "（令和8年10月）"
    # The first month of 令和 is 元年, the last of 平成 its 31st year.
    assert era_of(app.get("/reports/period/2019-05")) == "（令和元年5月）"
    assert era_of(app.get("/reports/period/2019-04")) == "（平成31年4月）"
    assert era_of(app.get(f"/reports/{world['report'].id}")) == "（令和8年10月）"


@pytest.mark.req("F-MONTHLY", "F-UI")
def test_the_centres_queue_and_matrix_show_the_era(app, world, login_as):
    login_as(world["caseworker"])
    queue = app.get("/centre/review")
    assert [era.get_text() for era in queue.html.select("table .era")] == ["（令和8年10月）"]
    matrix = app.get("/centre/submissions")
    headers = [th.get_text() for th in matrix.html.select("table thead th")]
    # Month columns carry the era year under the Western one (the months follow the clock).
    assert any("令和" in text for text in headers)


@pytest.mark.req("F-EXPORT", "F-UI")
def test_the_csv_has_an_era_column_at_the_end_and_the_print_view_an_era_title(app, world, login_as):
    login_as(world["caseworker"])
    body = app.get("/export/reports.csv", {"from": "2026-10", "to": "2026-10"}).body
    header, row = list(csv.reader(io.StringIO(body.decode("utf-8-sig"), newline="")))
    # 対象月 stays machine-readable; the era is a column of its own, after all the others.
    assert header[0] == "対象月" and row[0] == "2026-10"
    assert header[-1] == "対象月（和暦）" and row[-1] == "令和8年10月"
    page = app.get("/export/reports.csv", {"from": "2026-09", "to": "2026-10", "format": "print"})
    title = page.html.h1.get_text()
    assert "2026年9月（令和8年9月）" in title and "2026年10月（令和8年10月）" in title


@pytest.mark.req("F-UI")
def test_english_pages_show_the_western_year_only(app, world, login_as):
    login_as(world["staff"])
    app.get("/locale/en?next=/")
    page = app.get(f"/reports/period/2026-10/children/{world['child'].id}")
    assert "2026年10月" in page.html.h1.get_text()
    assert "令和" not in page.text and page.html.select(".era") == []
