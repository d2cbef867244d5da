"""CSV export that opens correctly in Excel, and the print view (F-EXPORT)."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest

OCTOBER = dt.date(2026, 10, 1)


@pytest.fixture
def exported(make):
    centre = make.centre()
    facility = make.facility(centre=centre, name="=cmd|' /C calc'!A0")
    child = make.child(facility=facility, family_name="髙橋", given_name="𠮷男")
    make.report(child, OCTOBER, nothing_special=False,
                condition="+1 元気。\r\n@SUM(A1) もう一行", absence_note="-2日 遅れ")
    make.report(make.child(facility=facility, given_name="下書き"), OCTOBER, status="draft")
    other = make.child()  # another centre's child
    make.report(other, OCTOBER)
    return {"caseworker": make.account("caseworker", centre=centre), "child": child, "other": other}


def parse(body: bytes):
    assert body.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM: Excel then reads UTF-8
    text = body.decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text, newline="")))


@pytest.mark.req("F-EXPORT")
def test_csv_is_excel_safe_and_scoped(app, exported, login_as):
    login_as(exported["caseworker"])
    response = app.get("/export/reports.csv", {"from": "2026-10", "to": "2026-10"})
    assert response.content_type == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    body = response.body
    assert b"\r\n" in body and body.count(b"\n") == body.count(b"\r\n") + 1  # CRLF rows; one LF inside a cell
    table = parse(body)
    header, rows = table[0], table[1:]
    assert header[:4] == ["対象月", "施設コード", "施設名", "児童氏名"]
    assert len(rows) == 1  # not the draft, not the other centre's child
    row = dict(zip(header, rows[0]))
    assert row["児童氏名"] == "髙橋 𠮷男"
    assert row["施設名"] == "'=cmd|' /C calc'!A0"
    assert row["様子"] == "'+1 元気。\n@SUM(A1) もう一行"
    assert row["欠席の補足"] == "'-2日 遅れ"
    assert row["状態"] == "提出済"
    assert exported["other"].name not in body.decode("utf-8-sig")


@pytest.mark.req("F-EXPORT")
def test_print_view_and_form(app, exported, login_as):
    login_as(exported["caseworker"])
    form = app.get("/export/reports.csv").forms[1]
    assert form["to"].value == "2026-11"
    form["from"] = "2026-10"
    page = form.submit("format", value="print")
    assert page.content_type == "text/html"
    assert "髙橋 𠮷男" in page.text and "下書き" not in page.html.select_one("table").get_text()


@pytest.mark.req("F-EXPORT", "F-UI")
@pytest.mark.parametrize("params, field, message", [
    ({"from": "2026-13", "to": "2026-10"}, "from", "年月は 2026-04 の形式で入力してください。"),
    ({"from": "abc", "to": "😀"}, "to", "年月は 2026-04 の形式で入力してください。"),
    ({"from": "2026-10", "to": "2026-09"}, "to", "終了月は開始月以降にしてください。"),
    ({"from": "2020-01", "to": "2026-10"}, "to", "一度に出力できるのは24か月分までです。"),
])
def test_bad_ranges_get_a_message_and_keep_the_input(app, exported, login_as, params, field, message):
    login_as(exported["caseworker"])
    response = app.get("/export/reports.csv", params, status=400)
    assert message in response.html.select_one(f"#{field}-error").get_text()
    assert response.forms[1][field].value == params[field]


@pytest.mark.req("F-EXPORT")
def test_admin_exports_every_centre(app, make, exported, login_as):
    login_as(make.account("admin"))
    table = parse(app.get("/export/reports.csv", {"from": "2026-10", "to": "2026-10"}).body)
    assert len(table) == 3


@pytest.mark.req("F-EXPORT", "S-WEB")
@pytest.mark.parametrize("text", [" =1+1", "\n=1+1", "\t=1+1", "\r=1+1", "＝1+1", "\u3000@SUM(A1)"])
def test_formulas_after_blanks_and_controls_are_neutralised_and_counts_stay_numbers(app, make, login_as, text):
    centre = make.centre()
    child = make.child(facility=make.facility(centre=centre))
    make.report(child, OCTOBER, nothing_special=False, condition=text, days_expected=20, days_attended=18)
    login_as(make.account("caseworker", centre=centre))
    header, row = parse(app.get("/export/reports.csv", {"from": "2026-10", "to": "2026-10"}).body)
    row = dict(zip(header, row))
    assert row["様子"] == "'" + text.replace("\r", "\n")
    assert (row["出席すべき日数"], row["出席日数"]) == ("20", "18")  # ints written by the app: not quoted
