"""The log viewer (S-ACCESSLOG, S-AUDIT): who may see it, filters, JST periods, keyset pages."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re

import pytest
import sqlalchemy as sa

from tests.conftest import login
from webapp.audit.models import AccessLogEntry, AuditRecord, AuthEvent
from webapp.audit.services import Cursor, LogFilter, LogQueries, parse_filter

UTC = dt.UTC


def access_row(db, occurred_at, login="period-user", **kw):
    kw.setdefault("request_id", f"r{occurred_at.timestamp():.6f}-{kw.get('path', '')}"[:32])
    kw.setdefault("method", "GET")
    kw.setdefault("path", "/")
    kw.setdefault("status", 200)
    kw.setdefault("duration_ms", 3)
    row = AccessLogEntry(occurred_at=occurred_at, login=login, **kw)
    db.add(row)
    db.flush()
    return row


@pytest.fixture
def auditor(make):
    return make.account("auditor")


@pytest.mark.req("S-ACCESSLOG", "F-ROLE")
@pytest.mark.parametrize("role", ["facility", "caseworker"])
def test_facility_and_caseworker_are_refused_every_log_page(app, make, role):
    login(app, make.account(role))
    for path in ("/logs/access", "/logs/auth", "/logs/changes", "/logs/access?format=csv",
                 "/logs/changes?verify=1"):
        assert app.get(path, status="*").status_int == 403, path


@pytest.mark.req("S-ACCESSLOG", "F-ROLE")
def test_auditor_lands_on_the_access_log_and_sees_only_the_log_menu(app, auditor):
    page = login(app, auditor).follow().follow()
    assert page.request.path == "/logs/access"
    menu = [a.get_text(strip=True) for a in page.html.select("nav ul.menu a")]
    assert menu == ["ログ"]
    assert app.get("/admin", status="*").status_int == 403
    assert app.get("/children", status="*").status_int == 403


@pytest.mark.req("S-ACCESSLOG")
def test_admin_has_a_log_menu_entry(app, make):
    page = login(app, make.account("admin")).follow().follow()
    assert "ログ" in [a.get_text(strip=True) for a in page.html.select("nav ul.menu a")]


@pytest.mark.req("S-ACCESSLOG")
def test_period_boundaries_are_japan_dates(app, db, auditor):
    # JST = UTC+9: 1 Nov 00:00 JST is 31 Oct 15:00 UTC.
    before = access_row(db, dt.datetime(2026, 10, 31, 14, 59, 59, 999999, tzinfo=UTC), path="/before")
    first = access_row(db, dt.datetime(2026, 10, 31, 15, 0, 0, tzinfo=UTC), path="/first")
    last = access_row(db, dt.datetime(2026, 11, 30, 14, 59, 59, 999999, tzinfo=UTC), path="/last")
    after = access_row(db, dt.datetime(2026, 11, 30, 15, 0, 0, tzinfo=UTC), path="/after")
    db.commit()

    november = LogFilter(start=dt.date(2026, 11, 1), end=dt.date(2026, 11, 30), login="period-user")
    ids = [row.id for row in LogQueries(db).page("access", november).rows]
    assert ids == [last.id, first.id]
    one_day = LogFilter(start=dt.date(2026, 10, 31), end=dt.date(2026, 10, 31), login="period-user")
    assert [row.id for row in LogQueries(db).page("access", one_day).rows] == [before.id]
    assert [r.id for r in LogQueries(db).page("access", LogFilter(start=dt.date(2026, 12, 1))).rows] == [after.id]

    login(app, auditor)
    page = app.get("/logs/access", {"start": "2026-11-01", "end": "2026-11-30", "login": "period-user"})
    cells = [row.select("td")[0].get_text() for row in page.html.select("table tbody tr")]
    # Shown in Japan time.
    assert cells == ["2026-11-30 23:59:59", "2026-11-01 00:00:00"]
    # Full-width digits and slashes are accepted as the same dates.
    page = app.get("/logs/access", {"start": "２０２６/１１/０１", "end": "2026/11/30", "login": "period-user"})
    assert len(page.html.select("table tbody tr")) == 2


@pytest.mark.req("S-ACCESSLOG")
def test_filters_by_login_organisation_child_route_and_status(app, db, auditor):
    when = dt.datetime(2026, 11, 20, 1, 0, tzinfo=UTC)
    a = access_row(db, when, login="alice", organisation="北沢小学校", route="child.detail",
                   object_ids=json.dumps({"child_id": "12"}), status=200)
    access_row(db, when, login="alice", organisation="北沢小学校", route="child.detail",
               object_ids=json.dumps({"child_id": "123"}), status=404)
    c = access_row(db, when, login="bob", organisation="烏山中学校", route="login", status=400)
    db.commit()
    q = LogQueries(db)

    def ids(**kw):
        f, errors = parse_filter("access", kw, routes=["child.detail", "login"])
        assert errors == {}
        return {row.id for row in q.page("access", LogFilter(**{**f.__dict__, "start": dt.date(2026, 11, 20),
                                                                "end": dt.date(2026, 11, 20)})).rows}

    assert ids(login="bob") == {c.id}
    assert ids(organisation="北沢") == {a.id, a.id + 1}
    assert ids(child_id="12") == {a.id}
    assert ids(route="login") == {c.id}
    assert ids(status="4xx") == {a.id + 1, c.id}
    assert ids(status="200", login="alice") == {a.id}
    # A LIKE wildcard typed by the user is taken literally.
    assert ids(organisation="%") == set()


@pytest.mark.req("S-AUDIT")
def test_who_saw_and_who_changed_a_child(app, make, db, auditor):
    caseworker = make.account("caseworker")
    child = make.child(centre=caseworker.centre)
    other = make.child(centre=caseworker.centre)
    db.commit()
    login(app, caseworker)
    app.get(f"/children/{child.id}")
    app.get(f"/children/{other.id}")

    login(app, auditor)
    page = app.get("/logs/changes", {"child_id": str(child.id)})
    rows = page.html.select("table.change-records tbody tr")
    texts = [row.get_text(" ", strip=True) for row in rows]
    assert any(caseworker.login in text and "閲覧" in text for text in texts), texts
    # Only this child's records: its creation and the view.
    children = {row.select("td")[7].get_text(strip=True) for row in rows}
    assert children == {str(child.id)}
    actions = {r.action for r in db.scalars(sa.select(AuditRecord).where(AuditRecord.child_id == child.id))}
    assert actions == {"create", "view"}
    # The same question on the access log: which requests named this child.
    page = app.get("/logs/access", {"child_id": str(child.id)})
    assert [row.select("td")[1].get_text() for row in page.html.select("table tbody tr")] == [caseworker.login]


@pytest.mark.req("S-AUDIT")
def test_change_records_show_before_and_after_readably(app, make, db, auditor):
    admin = make.account("admin")
    centre = make.centre(name="旧名センター")
    db.commit()
    login(app, admin)
    form = app.get(f"/admin/centres/{centre.id}").forms["centre-form"]
    form["name"] = "新名センター"
    form.submit(status=303)

    login(app, auditor)
    page = app.get("/logs/changes", {"action": "update", "entity": "centres", "login": admin.login})
    cell = page.html.select("table.change-records tbody tr")[0].select("td")[-1]
    assert cell.select_one("dt").get_text() == "name"
    assert cell.select_one("del").get_text() == "旧名センター"
    assert cell.select_one("ins").get_text() == "新名センター"


@pytest.mark.req("S-ACCESSLOG", "S-AUTH")
def test_auth_log_filters_by_event_reason_and_organisation(app, make, db, auditor, clock):
    facility_account = make.account("facility")
    now = clock.now()
    db.add_all([
        AuthEvent(occurred_at=now, event="login_failed", reason="wrong_password", login=facility_account.login,
                  account_id=facility_account.id, client_address="192.0.2.3"),
        AuthEvent(occurred_at=now, event="login_failed", reason="unknown_account", login="ghost",
                  client_address="192.0.2.4"),
        AuthEvent(occurred_at=now, event="account_unlocked", login=facility_account.login,
                  account_id=facility_account.id, actor_id=99),
    ])
    db.commit()
    login(app, auditor)
    page = app.get("/logs/auth", {"event": "login_failed", "reason": "unknown_account"})
    rows = page.html.select("table tbody tr")
    assert [r.select("td")[3].get_text() for r in rows] == ["ghost"]
    # The name, with the stored code under it.
    assert rows[0].select("td")[2].select_one("span[title]").get_text() == "存在しないID"
    assert rows[0].select("td")[2].select_one(".raw").get_text() == "unknown_account"
    page = app.get("/logs/auth", {"organisation": facility_account.facility.name[-4:]})
    events = [r.select("td")[1].select_one("span[title]").get_text() for r in page.html.select("table tbody tr")]
    assert sorted(events) == sorted(["ロック解除", "ログイン失敗"])


@pytest.mark.req("S-ACCESSLOG", "S-AUDIT")
def test_keyset_pages_return_every_row_exactly_once(app, db, auditor):
    # 130 rows, in runs of identical timestamps, so the id must break ties.
    base = dt.datetime(2026, 9, 1, 3, 0, tzinfo=UTC)
    made = [access_row(db, base + dt.timedelta(seconds=n // 7), login="pager", path=f"/p{n}").id
            for n in range(130)]
    db.commit()

    seen, cursor, pages = [], None, 0
    while True:
        result = LogQueries(db).page("access", LogFilter(login="pager"), Cursor.decode(cursor), size=20)
        seen += [row.id for row in result.rows]
        pages += 1
        cursor = result.next_cursor
        if cursor is None:
            break
    assert pages == 7 and len(seen) == len(set(seen)) == 130 and set(seen) == set(made)
    # Newest first, ties newest id first.
    assert seen == sorted(made, key=lambda i: (made.index(i) // 7, i), reverse=True)

    # The same walk through the pages' own "next" links (default page size 50).
    login(app, auditor)
    page = app.get("/logs/access", {"login": "pager"})
    shown = []
    while True:
        shown += [row.select("td")[5].select_one(".hint").get_text() for row in page.html.select("table tbody tr")]
        link = page.html.select_one('a[rel="next"]')
        if link is None:
            break
        page = app.get(link["href"])
    assert len(shown) == len(set(shown)) == 130


@pytest.mark.req("S-ACCESSLOG", "S-AUDIT", "F-EXPORT")
def test_csv_export_is_excel_ready_neutralised_and_itself_recorded(app, db, auditor):
    when = dt.datetime(2026, 11, 2, 0, 30, tzinfo=UTC)
    access_row(db, when, login="=cmd|' /C calc'!A0", organisation="+北沢", path="/-x", route="@SUM(1)")
    access_row(db, when, login="plain", organisation="世田谷区", path="/ok")
    access_row(db, when, login=" =1+1", organisation="\n=1+1", path="/ok")
    db.commit()
    login(app, auditor)
    response = app.get("/logs/access", {"start": "2026-11-02", "end": "2026-11-02", "format": "csv"})
    assert response.content_type == "text/csv" and response.charset == "utf-8"
    assert "attachment" in response.headers["Content-Disposition"]
    assert response.body.startswith(b"\xef\xbb\xbf")
    text = response.body.decode("utf-8")
    assert text.count("\r\n") == 4  # header + 3 rows, CRLF for Excel
    header, *rows = list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))
    assert header[:5] == ["日時（日本時間）", "ログインID", "役割", "所属", "接続元"]
    assert [row[0] for row in rows] == ["2026-11-02 09:30:00"] * 3  # JST
    by_login = {row[1]: row for row in rows}
    hostile = by_login["'=cmd|' /C calc'!A0"]
    assert hostile[3] == "'+北沢" and hostile[6] == "'@SUM(1)" and hostile[7] == "/-x"
    assert by_login["plain"][3] == "世田谷区"
    assert by_login["' =1+1"][3] == "'\n=1+1"  # after leading blanks and controls too
    export = db.scalars(sa.select(AuditRecord).where(AuditRecord.action == "export")).one()
    assert export.actor == auditor.login and export.entity == "access_log"
    assert json.loads(export.after) == {"filter": {"start": "2026-11-02", "end": "2026-11-02"}, "rows": 3}
    # The export request is an access-log event like any other.
    row = db.scalars(sa.select(AccessLogEntry).order_by(AccessLogEntry.id.desc())).first()
    assert (row.route, row.login, row.status) == ("logs.access", auditor.login, 200)


@pytest.mark.req("S-AUDIT")
def test_change_export_and_auth_export_have_japanese_headers(app, make, db, auditor):
    make.centre(name="=危険な名前")
    db.commit()
    login(app, auditor)
    changes = app.get("/logs/changes", {"format": "csv", "entity": "centres"}).body.decode("utf-8-sig")
    assert changes.startswith("記録番号,日時（日本時間）,操作者,")
    assert "=危険な名前" in changes and not re.search(r'(^|,)"?=', changes, re.M)
    auth = app.get("/logs/auth", {"format": "csv"}).body.decode("utf-8-sig")
    assert auth.startswith("日時（日本時間）,種別,理由,ログインID") and "ログイン成功" in auth


@pytest.mark.req("S-AUDIT")
def test_chain_status_runs_on_request_and_reports_ok_and_ng(app, make, db, auditor):
    make.centre()
    db.commit()
    login(app, auditor)
    page = app.get("/logs/changes")
    assert "改ざん検査を実行" in page.text and "OK" not in page.html.select_one(".chain-status").get_text()
    page = page.forms["chain-verify-form"].submit()
    status = page.html.select_one(".chain-status").get_text(" ", strip=True)
    assert "OK" in status and "問題はありません" in status

    if db.bind.dialect.name == "postgresql":
        db.execute(sa.text("ALTER TABLE audit_records DISABLE TRIGGER USER"))
    else:
        db.execute(sa.text("DROP TRIGGER audit_records_no_update"))
    first = db.scalar(sa.select(sa.func.min(AuditRecord.id)))
    db.execute(sa.text("UPDATE audit_records SET actor = 'someone' WHERE id = :id"), {"id": first})
    db.commit()
    status = app.get("/logs/changes", {"verify": "1"}).html.select_one(".chain-status").get_text(" ", strip=True)
    assert "NG" in status and f"記録 {first}" in status and "書き換え" in status


GARBAGE = [
    {"start": "2026-13-45"}, {"end": "yesterday"}, {"start": "99999-01-01"}, {"start": "1900-01-01"},
    {"start": "2026-11-30", "end": "2026-11-01"}, {"child_id": "99999999999999999999999999"},
    {"child_id": "-1"}, {"child_id": "😀"}, {"login": "𠮷" * 65}, {"organisation": "😀\x00"},
    {"status": "999"}, {"status": "abc"}, {"route": "no.such.route"}, {"event": "hacked"},
    {"reason": "x" * 1000}, {"action": "drop"}, {"entity": "e" * 51},
]


@pytest.mark.req("S-WEB")
@pytest.mark.parametrize("path", ["/logs/access", "/logs/auth", "/logs/changes"])
def test_garbage_filters_get_a_message_never_a_500(app, auditor, path):
    login(app, auditor)
    errors_shown = 0
    for params in GARBAGE:
        response = app.get(path, params, status="*")
        assert response.status_int in (200, 400), (path, params)
        if response.status_int == 400:
            errors_shown += 1
            assert response.html.select(".field-error"), params
            # The input is kept in the form.
            name, value = next(iter(params.items()))
            field = response.html.select_one(f'[name="{name}"]')
            assert field is not None
        csv = app.get(path, dict(params, format="csv"), status="*")
        assert csv.status_int in (200, 400)
    # Every parameter the page offers is checked (the auth log has no child, route or status).
    assert errors_shown >= 9
    # A made-up or overflowing cursor shows the first page instead.
    for after in ("garbage", "99999999999999999999.1", "1." + "9" * 19, "-99999999999999999.5", "😀"):
        assert app.get(path, {"after": after}).status_int == 200


def test_emoji_and_rare_kanji_filters_are_kept_in_the_form(app, auditor):
    login(app, auditor)
    page = app.get("/logs/access", {"login": "𠮷野😀", "organisation": "𠮷野小学校"})
    assert page.html.select_one('input[name="login"]')["value"] == "𠮷野😀"
    assert "該当する記録はありません" in page.text


def test_bad_dates_are_named_beside_the_field(app, auditor):
    login(app, auditor)
    page = app.get("/logs/access", {"start": "2026-02-30", "end": "2026-01-01"}, status=400)
    assert page.html.select_one("#start-error").get_text() == "日付は 2026-04-01 の形式で入力してください。"
    page = app.get("/logs/access", {"start": "2026-02-01", "end": "2026-01-01"}, status=400)
    assert "終了日は開始日と同じか後の日付" in page.html.select_one("#end-error").get_text()
    assert page.html.select_one('input[name="start"]')["value"] == "2026-02-01"


def test_an_export_over_the_limit_is_refused_with_a_message(app, db, auditor, monkeypatch):
    import webapp.audit.views as views

    monkeypatch.setattr(views, "EXPORT_MAX_ROWS", 2)
    for n in range(3):
        access_row(db, dt.datetime(2026, 11, 3, 0, n, tzinfo=UTC), login="many", path=f"/m{n}")
    db.commit()
    login(app, auditor)
    page = app.get("/logs/access", {"login": "many", "format": "csv"}, status=400)
    assert "期間を短くしてください" in page.text and page.content_type == "text/html"
    assert not db.scalars(sa.select(AuditRecord).where(AuditRecord.action == "export")).all()


def test_the_benchmark_switches_turn_both_recorders_off(settings, clock, make, db):
    """Only for benchmarks/bench_audit_overhead.py: 'off' must really be off, or the ratio means nothing."""
    from webtest import TestApp

    from webapp.config import configure
    from webapp.settings import build_settings

    quiet = dict(settings, **{"mimamori.access_log": "false", "mimamori.change_records": "false"})
    config = configure(build_settings(quiet, environ={}))
    config.registry["clock"] = clock
    caseworker = make.account("caseworker")
    child = make.child(centre=caseworker.centre)
    db.commit()
    count = lambda model: db.scalar(sa.select(sa.func.count()).select_from(model))  # noqa: E731
    before = (count(AccessLogEntry), count(AuditRecord))
    app = TestApp(config.make_wsgi_app(), extra_environ={
        "wsgi.url_scheme": "https", "HTTP_HOST": "localhost", "HTTP_ORIGIN": "https://localhost",
        "REMOTE_ADDR": "192.0.2.10"})
    login(app, caseworker)
    assert app.get(f"/children/{child.id}").status_int == 200
    assert (count(AccessLogEntry), count(AuditRecord)) == before
