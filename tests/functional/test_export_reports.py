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


def _reference_cells(report, version, child, facility, centre) -> list:
    """A row's cells as the export built them from ORM objects before it read plain rows
    (issue 19): kept here, frozen, so the lean export is held to the same bytes."""
    from webapp.clock import JST
    from webapp.reports.models import ABSENCE_REASONS
    from webapp.wareki import era_month

    def jst(value):
        return value.astimezone(JST).strftime("%Y-%m-%d %H:%M") if value else ""

    return [
        f"{report.period.year:04d}-{report.period.month:02d}", facility.code, facility.name,
        child.name, child.kana, child.grade.label, child.class_name or "", centre.name,
        report.status.label, version.number, jst(version.submitted_at),
        version.days_expected, version.days_attended, version.days_absent, version.late_count,
        version.early_leave_count, *(getattr(version, name) for name in ABSENCE_REASONS),
        version.absence_note or "", version.family_contact.label if version.family_contact else "",
        version.condition or "", "○" if version.nothing_special else "", jst(report.acknowledged_at),
        era_month(report.period),
    ]


def _unstreamed_csv(db, caseworker_scope, first, last) -> bytes:
    """The export as it was computed before streaming: every version grouped, ORM objects, every
    cell neutralised, then one string."""
    import sqlalchemy as sa

    from webapp.children.models import Child
    from webapp.organisations.models import Centre, Facility
    from webapp.reports import export
    from webapp.reports.models import MonthlyReport, MonthlyReportVersion
    from webapp.reports.scope import reports_clause
    from webapp.csv_export import csv_bytes

    latest = (
        sa.select(MonthlyReportVersion.report_id, sa.func.max(MonthlyReportVersion.number).label("number"))
        .where(MonthlyReportVersion.submitted_at.is_not(None)).group_by(MonthlyReportVersion.report_id)
        .subquery()
    )
    stmt = (
        sa.select(MonthlyReport, MonthlyReportVersion, Child, Facility, Centre)
        .join(latest, latest.c.report_id == MonthlyReport.id)
        .join(MonthlyReportVersion, sa.and_(MonthlyReportVersion.report_id == MonthlyReport.id,
                                            MonthlyReportVersion.number == latest.c.number))
        .join(Child, Child.id == MonthlyReport.child_id)
        .join(Facility, Facility.id == MonthlyReport.facility_id)
        .join(Centre, Centre.id == Child.centre_id)
        .where(reports_clause(caseworker_scope), MonthlyReport.period >= first, MonthlyReport.period <= last)
        .order_by(MonthlyReport.period, Facility.code, Child.family_name_kana, Child.given_name_kana, Child.id)
    )
    return csv_bytes(export.CSV_HEADER, (_reference_cells(*row) for row in db.execute(stmt)))


@pytest.mark.req("F-EXPORT")
def test_csv_is_streamed_in_chunks_with_the_same_bytes(app, make, db, session_factory, login_as, monkeypatch, now):
    """Many rows, several versions each (a resubmission, a draft after a return): the streamed
    file is byte for byte the one built in memory from the old grouped query."""
    from webapp.children.scope import Scope
    from webapp.db import utcnow
    from webapp.reports import export
    from webapp.reports.models import MonthlyReportVersion

    monkeypatch.setattr(export, "CHUNK_ROWS", 7)
    centre = make.centre()
    author = make.account("admin")
    facilities = [make.facility(centre=centre) for _ in range(3)]
    count = 0
    for i in range(20):
        child = make.child(facility=facilities[i % 3], given_name=f"=子{i}", given_name_kana=f"こ{i:02d}")
        for period in (dt.date(2026, 9, 1), OCTOBER):
            report = make.report(child, period, days_absent=i % 5, condition=f"-{i}日目",
                                 family_contact=(None, "yes", "no", "partial")[i % 4], nothing_special=i % 3 == 0,
                                 absence_note=("\t=A1", "補足\r\n二行目", None)[i % 3], absent_unknown=i % 2)
            if i % 6 == 0:  # acknowledged: its time is a column too
                report.status, report.acknowledged_at = "acknowledged", utcnow()
            count += 1
            if i % 4 == 0:  # returned and resubmitted: version 2 is the one exported
                db.add(MonthlyReportVersion(report=report, number=2, author_id=author.id, days_absent=9,
                                            condition="第2版", submitted_at=utcnow()))
            if i % 5 == 0:  # returned, correction still a draft: the submitted version is exported
                db.add(MonthlyReportVersion(report=report, number=3, author_id=author.id, condition="下書き"))
        make.report(child, dt.date(2026, 8, 1))  # outside the period range
    db.flush()
    caseworker = make.account("caseworker", centre=centre)
    expected = _unstreamed_csv(db, Scope(caseworker, "centre", now.date()), dt.date(2026, 9, 1), OCTOBER)

    login_as(caseworker)
    seen = {}
    inner = app.app

    def spy(environ, start_response):
        seen["app_iter"] = result = inner(environ, start_response)
        return result

    app.app = spy
    response = app.get("/export/reports.csv", {"from": "2026-09", "to": "2026-10"})
    app_iter = seen["app_iter"]
    assert isinstance(app_iter, export.StreamedExport)  # an iterator, not a body built in memory
    assert response.body == expected
    assert len(parse(response.body)) == count + 1
    assert "第2版" in response.text and "下書き" not in response.text

    stream = export.StreamedExport(session_factory, export.export_statement(
        Scope(caseworker, "centre", now.date()), dt.date(2026, 9, 1), OCTOBER))
    chunks, held = [], []
    for chunk in stream:
        chunks.append(chunk)
        held.append(len(stream._session.identity_map))
    stream.close()
    assert len(chunks) == count // 7 + 1  # 7 rows a chunk (the first with the header), then the rest
    # Memory stays at a batch: plain rows are read, no ORM object is loaded for any of them
    # (40 reports, 40 versions, 20 children, 3 facilities and a centre were exported).
    assert held == [0] * len(chunks)
    assert all(chunk.count(b"\r\n") >= 7 for chunk in chunks[:-1])
    assert b"".join(chunks) == expected


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
