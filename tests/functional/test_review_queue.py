"""The centre's review queue at any volume (issue #18): paging, filters, concern markers,
確認して次へ, bulk acknowledgement, the waiting count in the dashboard and the menu, and scope."""

from __future__ import annotations

import datetime as dt
import re
from urllib.parse import quote

import pytest
import sqlalchemy as sa

from tests.conftest import csrf_token
from webapp.audit.models import AuditRecord
from webapp.organisations.models import FacilityType
from webapp.reports.models import MonthlyReport, ReportAction, ReportEvent, ReportStatus
from webapp.reports.queue import QueueFilter, ReviewQueueService

OCTOBER, NOVEMBER = dt.date(2026, 10, 1), dt.date(2026, 11, 1)
# Submission times are set explicitly: the order of the queue never depends on the machine's clock.
BASE = dt.datetime(2026, 11, 1, 0, 0, tzinfo=dt.UTC)

pytestmark = pytest.mark.req("F-DASH")


class World:
    """One centre with two facilities (a school and a nursery), its caseworker, and a foreign centre."""

    def __init__(self, make, db):
        self.make, self.db = make, db
        self.centre = make.centre()
        self.caseworker = make.account("caseworker", centre=self.centre)
        self.school = make.facility(centre=self.centre, name="みどり小学校")
        self.nursery = make.facility(centre=self.centre, name="ひかり保育園", facility_type=FacilityType.NURSERY)
        self.authors = {f.id: make.account("facility", facility=f) for f in (self.school, self.nursery)}
        self.other_centre = make.centre()
        self.other_facility = make.facility(centre=self.other_centre, name="よその小学校")
        self.authors[self.other_facility.id] = make.account("facility", facility=self.other_facility)
        self.minutes = 0

    def report(self, name, facility=None, period=OCTOBER, status="submitted", minutes=None, **content):
        facility = facility or self.school
        child = self.make.child(facility=facility, given_name=name)
        report = self.make.report(child, period, status=status, author=self.authors[facility.id], **content)
        self.minutes += 1
        at = BASE + dt.timedelta(minutes=self.minutes if minutes is None else minutes)
        self.db.execute(sa.update(MonthlyReport).where(MonthlyReport.id == report.id).values(submitted_at=at))
        return report

    def returned_before(self, report):
        self.db.add(ReportEvent(report_id=report.id, action=ReportAction.RETURNED, version_number=1,
                                account_id=self.caseworker.id, comment="確認してください。"))
        self.db.flush()


@pytest.fixture
def world(make, db):
    return World(make, db)


def names(page) -> list[str]:
    return [row.select_one("th").get_text(strip=True) for row in page.html.select("table.review-queue tbody tr")]


def row_of(page, name):
    for row in page.html.select("table.review-queue tbody tr"):
        if row.select_one("th").get_text(strip=True) == name:
            return row
    return None


def status_of(db, report) -> ReportStatus:
    db.expire_all()
    return db.get(MonthlyReport, report.id).status


# --- Volume and paging --------------------------------------------------------------------------


def test_every_waiting_report_is_listed_on_pages_with_the_exact_total(app, world, db, login_as):
    reports = [world.report(f"児童{i:02d}") for i in range(53)]
    world.report("下書き", status="draft")
    world.report("確認済み", status="acknowledged")
    world.report("よその", facility=world.other_facility)
    login_as(world.caseworker)

    first = app.get("/centre/review")
    assert "53件" in first.html.select_one(".queue-total").get_text()
    assert len(names(first)) == 50
    assert names(first)[0] == "山田 児童00"
    assert first.html.select_one('.pager [aria-current="page"]').get_text(strip=True) == "1"
    second = first.click(href=r"page=2", index=0)
    assert names(second) == ["山田 児童50", "山田 児童51", "山田 児童52"]
    assert set(names(first) + names(second)) == {r.child.name for r in reports}
    # Out-of-range and nonsense page numbers are the nearest real page, never an error.
    assert names(app.get("/centre/review?page=99")) == names(second)
    assert names(app.get("/centre/review?page=abc")) == names(first)


def test_the_counts_are_sql_counts_and_not_capped(db, world):
    from webapp.children.scope import Scope

    for i in range(7):
        world.report(f"児童{i}")
    service = ReviewQueueService(db)
    scope = Scope(world.caseworker, "centre", dt.date(2026, 11, 26))
    assert service.pending_count(scope) == 7
    page = service.page(scope, QueueFilter(), 1, per_page=5)
    assert (page.total, len(page.items), page.pages) == (7, 5, 2)


# --- Filters and sort ---------------------------------------------------------------------------


def test_each_filter_and_the_sort_and_the_filter_stays_across_pages(app, world, db, login_as):
    school_oct = world.report("学校十月")
    nursery_oct = world.report("保育十月", facility=world.nursery)
    school_nov = world.report("学校十一月", period=NOVEMBER)
    worried = world.report("様子あり", condition="表情が暗い日が多い。", nothing_special=False)
    returned = world.report("差戻し後")
    world.returned_before(returned)
    login_as(world.caseworker)

    def listed(query):
        return set(names(app.get("/centre/review" + query)))

    every = {r.child.name for r in (school_oct, nursery_oct, school_nov, worried, returned)}
    assert listed("") == every
    assert listed(f"?facility={world.nursery.id}") == {nursery_oct.child.name}
    assert listed("?type=nursery") == {nursery_oct.child.name}
    assert listed("?type=elementary") == every - {nursery_oct.child.name}
    assert listed("?month=2026-11") == {school_nov.child.name}
    assert listed("?concern=yes") == {worried.child.name, returned.child.name}
    assert listed("?concern=no") == {school_oct.child.name, nursery_oct.child.name, school_nov.child.name}
    assert listed("?returned=yes") == {returned.child.name}
    assert listed("?type=elementary&month=2026-10&concern=no") == {school_oct.child.name}
    # Nonsense values are ignored, not errors.
    assert listed("?facility=abc&type=castle&month=2026-13&concern=maybe&sort=sideways") == every

    assert names(app.get("/centre/review"))[0] == school_oct.child.name
    assert names(app.get("/centre/review?sort=newest"))[0] == returned.child.name

    page = app.get("/centre/review?type=elementary&sort=newest")
    form = [f for f in page.forms.values() if f.action.endswith("/centre/review")][0]
    assert form["type"].value == "elementary" and form["sort"].value == "newest"
    # A report's link carries the filter (for 確認して次へ); the reset link drops it.
    link = page.html.select_one("table.review-queue tbody th a")["href"]
    assert "type=elementary" in link and "sort=newest" in link
    reset = page.html.find("a", string="条件をクリア")
    assert reset["href"].endswith("/centre/review")


def test_the_filter_is_kept_in_the_page_links(app, world, login_as):
    for i in range(55):
        world.report(f"保育{i:02d}", facility=world.nursery)
    world.report("学校")
    login_as(world.caseworker)
    page = app.get("/centre/review?type=nursery")
    assert "55件" in page.html.select_one(".queue-total").get_text()
    next_link = page.html.select_one('.pager a[rel="next"]')["href"]
    assert "type=nursery" in next_link and "page=2" in next_link
    second = app.get(next_link)
    assert len(names(second)) == 5
    assert "山田 学校" not in names(second)


# --- Concern markers ----------------------------------------------------------------------------


def test_each_concern_rule_is_marked_in_words(app, world, login_as):
    world.report("欠席多い", days_absent=4, days_attended=16)
    world.report("欠席三日", days_absent=3, days_attended=17)
    world.report("様子あり", condition="服が汚れていることが続いている。", nothing_special=False)
    world.returned_before(world.report("差戻し後"))
    world.report("問題なし")
    login_as(world.caseworker)
    page = app.get("/centre/review")

    def marker(name):
        return row_of(page, f"山田 {name}").select_one(".concern-cell").get_text(" ", strip=True)

    assert marker("欠席多い") == "要確認 欠席4日"
    assert marker("様子あり") == "要確認 様子の記載あり"
    assert marker("差戻し後") == "要確認 差戻し歴あり"
    # 3 days is not more than the default 3.
    assert marker("欠席三日") == "懸念なし"
    assert marker("問題なし") == "懸念なし"
    # Only reports without a concern can be picked for the bulk acknowledgement.
    assert row_of(page, "山田 問題なし").select_one('input[type=checkbox][name=id]') is not None
    assert row_of(page, "山田 様子あり").select_one('input[type=checkbox]') is None


def test_the_absence_threshold_is_a_setting(db, world):
    from webapp.children.scope import Scope

    world.report("欠席四日", days_absent=4, days_attended=16)
    scope = Scope(world.caseworker, "centre", dt.date(2026, 11, 26))
    assert ReviewQueueService(db, concern_absent_days=3).page(scope, QueueFilter(), 1).items[0].reasons == ["absent"]
    assert ReviewQueueService(db, concern_absent_days=5).page(scope, QueueFilter(), 1).items[0].reasons == []


# --- 確認して次へ -------------------------------------------------------------------------------


def acknowledge_and_next(page):
    form = [f for f in page.forms.values() if f.action.endswith("/acknowledge")][0]
    return form.submit("then", value="next")


def test_acknowledge_and_next_follows_the_filtered_queue_and_ends_on_the_queue(app, world, db, login_as):
    first = world.report("一番目", facility=world.nursery)
    world.report("学校の", facility=world.school)
    second = world.report("二番目", facility=world.nursery)
    third = world.report("三番目", facility=world.nursery)
    login_as(world.caseworker)

    queue = app.get("/centre/review?type=nursery")
    page = app.get(queue.html.select_one("table.review-queue tbody th a")["href"])
    assert "一番目" in page.html.h1.get_text()
    for expected in (second, third):
        response = acknowledge_and_next(page)
        assert response.status_int == 303
        page = response.follow()
        assert expected.child.name in page.html.h1.get_text()
        assert "次の報告を表示しています" in page.html.select_one(".notice").get_text()
    end = acknowledge_and_next(page).follow()
    assert end.request.path == "/centre/review"
    assert "type=nursery" in end.request.query_string
    assert "この条件で次に確認する報告はありません" in end.html.select_one(".notice").get_text()
    assert [status_of(db, r) for r in (first, second, third)] == [ReportStatus.ACKNOWLEDGED] * 3
    assert names(end) == []
    # The school's report was outside the filter and still waits.
    assert names(app.get("/centre/review")) == ["山田 学校の"]


def test_acknowledge_and_next_respects_the_newest_first_order(app, world, login_as):
    older = world.report("古い")
    newer = world.report("新しい")
    login_as(world.caseworker)
    page = app.get(f"/reports/{newer.id}?sort=newest")
    page = acknowledge_and_next(page).follow()
    assert older.child.name in page.html.h1.get_text()
    # Without a filter the plain 確認 still stays on the report.
    plain = [f for f in page.forms.values() if f.action.endswith("/acknowledge")][0].submit().follow()
    assert plain.request.path == f"/reports/{older.id}"


# --- Bulk acknowledgement -----------------------------------------------------------------------


def bulk_page(app, query=""):
    page = app.get("/centre/review" + query)
    return page, [f for f in page.forms.values() if f.action.endswith("/centre/review/bulk")][0]


def bulk_form(confirm):
    return [f for f in confirm.forms.values() if f.action.endswith("/centre/review/bulk")][0]


def test_bulk_confirmation_lists_exactly_the_chosen_reports_then_acknowledges_them(app, world, db, login_as):
    a = world.report("一郎", facility=world.school)
    b = world.report("二郎", facility=world.nursery, period=NOVEMBER)
    c = world.report("三郎")
    single = world.report("四郎")
    login_as(world.caseworker)

    _page, form = bulk_page(app)
    form.get("id", index=0).checked = True  # 一郎 (oldest first)
    form.get("id", index=1).checked = True  # 二郎
    confirm = form.submit("pick", value="checked")
    assert confirm.status_int == 200
    rows = [[cell.get_text(strip=True) for cell in row.select("th, td")][:3]
            for row in confirm.html.select("table.bulk-list tbody tr")]
    assert rows == [["山田 一郎", "みどり小学校", "2026年10月"], ["山田 二郎", "ひかり保育園", "2026年11月"]]
    assert "2件を確認済にする" in confirm.text

    done = bulk_form(confirm).submit().follow()
    assert "2件を確認済にしました。" in done.text
    assert [status_of(db, r) for r in (a, b, c)] == [ReportStatus.ACKNOWLEDGED, ReportStatus.ACKNOWLEDGED,
                                                      ReportStatus.SUBMITTED]
    assert set(names(done)) == {c.child.name, single.child.name}

    # Each report gets the same event and change records as a single acknowledgement.
    detail = app.get(f"/reports/{single.id}")
    [f for f in detail.forms.values() if f.action.endswith("/acknowledge")][0].submit()

    def trail(report):
        events = db.scalars(sa.select(ReportEvent.action).where(ReportEvent.report_id == report.id)
                            .order_by(ReportEvent.id)).all()
        records = db.execute(sa.select(AuditRecord.entity, AuditRecord.action)
                             .where(AuditRecord.child_id == report.child_id, AuditRecord.action != "view")
                             .where(AuditRecord.account_id == world.caseworker.id)
                             .order_by(AuditRecord.id)).all()
        return events, [tuple(r) for r in records]

    db.expire_all()
    assert trail(a) == trail(single)
    assert trail(a)[0][-1] == ReportAction.ACKNOWLEDGED
    assert ("monthly_reports", "update") in trail(a)[1]


def test_select_all_on_this_page_without_concerns(app, world, db, login_as):
    plain = [world.report(f"問題なし{i}") for i in range(3)]
    worried = world.report("様子あり", condition="元気がない。", nothing_special=False)
    login_as(world.caseworker)
    _page, form = bulk_page(app)
    confirm = form.submit("pick", value="page")
    listed = [row.select_one("th").get_text(strip=True) for row in confirm.html.select("table.bulk-list tbody tr")]
    assert listed == [r.child.name for r in plain]
    bulk_form(confirm).submit().follow()
    assert [status_of(db, r) for r in plain] == [ReportStatus.ACKNOWLEDGED] * 3
    assert status_of(db, worried) == ReportStatus.SUBMITTED


def test_bulk_post_is_all_or_nothing(app, world, db, login_as):
    ok = world.report("問題なし")
    worried = world.report("欠席多い", days_absent=6, days_attended=14)
    done = world.report("確認済み", status="acknowledged")
    foreign = world.report("よその", facility=world.other_facility)
    login_as(world.caseworker)
    token = csrf_token(app)

    for bad in (worried, done, foreign):
        response = app.post("/centre/review/bulk", [("csrf_token", token), ("id", str(ok.id)), ("id", str(bad.id))],
                            status=409)
        assert "何も確認していません" in response.text
        assert "よその" not in response.text
        response = app.get(f"/centre/review/bulk?id={ok.id}&id={bad.id}", status=409)
        assert "まとめて確認できません" in response.text
    assert [status_of(db, r) for r in (ok, worried, foreign)] == [ReportStatus.SUBMITTED] * 3
    assert db.scalar(sa.select(sa.func.count(ReportEvent.id)).where(
        ReportEvent.report_id.in_([ok.id, worried.id, foreign.id]), ReportEvent.action == ReportAction.ACKNOWLEDGED)) == 0

    # A report that changed between the confirmation page and the POST refuses the whole batch.
    other = world.report("問題なし二")
    db.commit()
    confirm = app.get(f"/centre/review/bulk?id={ok.id}&id={other.id}")
    db.execute(sa.update(MonthlyReport).where(MonthlyReport.id == other.id).values(status=ReportStatus.RETURNED))
    db.commit()
    bulk_form(confirm).submit(status=409)
    assert status_of(db, ok) == ReportStatus.SUBMITTED


@pytest.mark.parametrize("bad", ["abc", "1.5", "-3", "0", "99999999999999999999", "１２", ""])
def test_bad_ids_are_a_clear_400_never_a_500(app, world, db, login_as, bad):
    ok = world.report("問題なし")
    login_as(world.caseworker)
    token = csrf_token(app)
    response = app.post("/centre/review/bulk", [("csrf_token", token), ("id", str(ok.id)), ("id", bad)], status=400)
    assert "正しくありません" in response.text
    response = app.get(f"/centre/review/bulk?id={ok.id}&id={quote(bad)}", status=400)
    assert "正しくありません" in response.text
    assert status_of(db, ok) == ReportStatus.SUBMITTED


def test_an_empty_selection_is_a_clear_400(app, world, login_as):
    world.report("問題なし")
    login_as(world.caseworker)
    _page, form = bulk_page(app)
    response = form.submit("pick", value="checked", status=400)
    assert "まとめて確認する報告を選んでください。" in response.text
    response = app.post("/centre/review/bulk", {"csrf_token": csrf_token(app)}, status=400)
    assert "選んでください" in response.text


def test_bulk_needs_csrf_and_the_review_permission(app, world, db, login_as, make):
    ok = world.report("問題なし")
    login_as(world.caseworker)
    app.post("/centre/review/bulk", {"id": str(ok.id)}, status=403)
    assert status_of(db, ok) == ReportStatus.SUBMITTED
    login_as(make.account("admin"))
    app.get(f"/centre/review/bulk?id={ok.id}", status=403)
    login_as(world.authors[world.school.id])
    app.get(f"/centre/review/bulk?id={ok.id}", status=403)


# --- The waiting count --------------------------------------------------------------------------


def menu_link(page):
    return page.html.select_one("nav .menu a[href$='/centre/review']")


def test_the_waiting_count_is_on_the_first_screen_and_in_the_menu(app, world, login_as, make):
    for i in range(3):
        world.report(f"児童{i}")
    world.report("下書き", status="draft")
    world.report("よその", facility=world.other_facility)
    home = login_as(world.caseworker).follow().follow()
    assert home.request.path == "/centre/submissions"
    section = home.html.select_one(".dashboard .review")
    assert "確認待ち 3件" in section.get_text()
    assert section.select_one("a")["href"].endswith("/centre/review")
    assert re.sub(r"\s+", " ", menu_link(home).get_text(" ", strip=True)) == "確認待ち (3)"
    assert re.sub(r"\s+", " ", menu_link(app.get("/children")).get_text(" ", strip=True)) == "確認待ち (3)"

    # Another centre's caseworker sees only their own one.
    other = make.account("caseworker", centre=world.other_centre)
    home = login_as(other).follow().follow()
    assert "確認待ち 1件" in home.html.select_one(".dashboard .review").get_text()
    assert menu_link(home).get_text(" ", strip=True) == "確認待ち (1)"


def test_no_count_without_waiting_reports_and_none_for_other_roles(app, world, login_as, make):
    home = login_as(world.caseworker).follow().follow()
    assert home.html.select_one(".dashboard .review") is None
    assert menu_link(home).get_text(" ", strip=True) == "確認待ち"
    world.report("児童")
    page = login_as(make.account("admin")).follow().follow()
    assert "確認待ち" not in page.html.select_one("nav").get_text()


def test_the_count_is_one_query(app, world, login_as, connection):
    from tests.functional.test_centre_matrix import count_statements

    for i in range(4):
        world.report(f"児童{i}")
    login_as(world.caseworker)
    with count_statements(connection) as statements:
        app.get("/children")
    counting = [s for s in statements if "monthly_reports" in s and "count(" in s.lower()]
    assert len(counting) == 1


# --- Scope --------------------------------------------------------------------------------------


def test_another_centres_reports_never_appear_nor_can_be_acknowledged(app, world, db, login_as):
    mine = world.report("自分の")
    foreign = world.report("よその", facility=world.other_facility, minutes=0)
    login_as(world.caseworker)
    for query in ("", f"?facility={world.other_facility.id}", "?type=elementary", "?sort=newest", "?concern=no"):
        page = app.get("/centre/review" + query)
        assert "よその" not in page.text
    options = [o.get_text() for o in app.get("/centre/review").html.select("#filter-facility option")]
    assert not any("よその小学校" in o for o in options)
    # 確認して次へ never leads into the other centre (its report was submitted first).
    end = acknowledge_and_next(app.get(f"/reports/{mine.id}?sort=newest")).follow()
    assert end.request.path == "/centre/review"
    token = csrf_token(app)
    app.post("/centre/review/bulk", [("csrf_token", token), ("id", str(foreign.id))], status=409)
    app.get(f"/centre/review/bulk?id={foreign.id}", status=409)
    assert status_of(db, foreign) == ReportStatus.SUBMITTED


def test_the_queue_and_the_confirmation_read_in_english(app, world, login_as):
    ok = world.report("問題なし")
    world.report("欠席多い", days_absent=5, days_attended=15)
    login_as(world.caseworker)
    app.set_cookie("mimamori_locale", "en")
    page = app.get("/centre/review")
    assert "Needs reading" in page.text and "5 days absent" in page.text and "No concern" in page.text
    assert menu_link(page).get_text(" ", strip=True) == "Awaiting review (2)"
    confirm = app.get(f"/centre/review/bulk?id={ok.id}")
    assert "Acknowledge 1 reports" in confirm.text
