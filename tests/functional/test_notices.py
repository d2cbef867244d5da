"""Notices from the ward: admin screens, facility audience and read marks, planned stops on the login page."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from webapp.clock import JST
from webapp.notices.models import Notice, NoticeKind, NoticeRead
from webapp.organisations.models import FacilityType

pytestmark = pytest.mark.req("F-NOTICE")


def notice(make, db, **kw):
    author = kw.pop("author", None) or make.account("admin")
    kw.setdefault("kind", NoticeKind.GENERAL)
    kw.setdefault("title", "システム更新のお知らせ")
    kw.setdefault("body", "本文です。")
    kw.setdefault("publish_from", dt.datetime(2026, 11, 1, tzinfo=JST))
    n = Notice(author_id=author.id, **kw)
    db.add(n)
    db.flush()
    return n


def form_values(**kw):
    values = {"kind": "general", "title": "年末年始の提出について", "body": "12月分の報告は1月8日までに。",
              "audience": "all", "publish_from": "", "publish_until": "", "maintenance_start": "",
              "maintenance_end": ""}
    values.update(kw)
    return values


def fill(form, values):
    for name, value in values.items():
        if name == "audience_types":
            for box in form.fields.get("audience_types", []):
                box.checked = box._value in value
        elif name == "kind" and value not in ("general", "maintenance"):
            form[name].force_value(value)  # what a tampered request would send
        else:
            form[name] = value
    return form


def test_admin_creates_a_notice_and_the_facility_sees_it_unread_then_read(app, make, db, login_as):
    admin = make.account("admin")
    staff = make.account("facility")
    login_as(admin)
    form = fill(app.get("/admin/notices/new").forms["notice-form"], form_values())
    response = form.submit(status=303).follow()
    assert "年末年始の提出について" in response.text
    login_as(staff)
    home = app.get("/reports/period/current")
    assert "年末年始の提出について" in home.text and "未読" in home.text
    listing = app.get("/notices")
    link = listing.html.select_one(".notice-list li.unread a")
    page = app.get(link["href"])
    assert "12月分の報告は1月8日までに。" in page.text
    assert db.scalar(sa.select(sa.func.count()).select_from(NoticeRead)) == 1
    assert app.get("/notices").html.select_one(".notice-list li.unread") is None
    # Opening it again does not add a second read mark.
    app.get(link["href"])
    assert db.scalar(sa.select(sa.func.count()).select_from(NoticeRead)) == 1


def test_read_marks_are_per_account(app, make, db, login_as):
    facility = make.facility()
    first, second = make.account("facility", facility=facility), make.account("facility", facility=facility)
    n = notice(make, db)
    login_as(first)
    app.get(f"/notices/{n.id}")
    login_as(second)
    assert app.get("/notices").html.select_one(".notice-list li.unread") is not None


def test_facilities_see_only_notices_for_their_type(app, make, db, login_as):
    nursery = make.account("facility", facility=make.facility(facility_type=FacilityType.NURSERY))
    for_schools = notice(make, db, title="学校向けの連絡", audience_all=False,
                         audience_types="elementary junior_high")
    for_all = notice(make, db, title="全施設への連絡")
    login_as(nursery)
    listing = app.get("/notices")
    assert "全施設への連絡" in listing.text and "学校向けの連絡" not in listing.text
    app.get(f"/notices/{for_schools.id}", status=404)
    app.get(f"/notices/{for_all.id}", status=200)
    school = make.account("facility", facility=make.facility(facility_type=FacilityType.ELEMENTARY))
    login_as(school)
    assert "学校向けの連絡" in app.get("/notices").text


def test_withdrawn_future_and_expired_notices_are_not_shown(app, make, db, login_as):
    staff = make.account("facility")
    now = dt.datetime(2026, 11, 26, 10, 0, tzinfo=JST)
    hidden = [
        notice(make, db, title="取り下げ済み", withdrawn_at=now - dt.timedelta(hours=1)),
        notice(make, db, title="まだ先", publish_from=now + dt.timedelta(minutes=1)),
        notice(make, db, title="期限切れ", publish_until=now),
    ]
    login_as(staff)
    listing = app.get("/notices")
    for n in hidden:
        assert n.title not in listing.text
        app.get(f"/notices/{n.id}", status=404)


def test_admin_withdraws_a_notice(app, make, db, login_as):
    admin = make.account("admin")
    n = notice(make, db, author=admin)
    login_as(admin)
    page = app.get(f"/admin/notices/{n.id}")
    withdraw = [f for f in page.forms.values() if f.get("action", default=None) is not None
                and f["action"].value == "withdraw"][0]
    withdraw.submit(status=303)
    db.refresh(n)
    assert n.withdrawn_at is not None


@pytest.mark.parametrize(("values", "field", "message"), [
    ({"title": ""}, "title", "入力してください。"),
    ({"title": "あ" * 101}, "title", "100文字以内で入力してください（現在101文字）。"),
    ({"body": "𠮷" * 4001}, "body", "4000文字以内で入力してください（現在4001文字）。"),
    ({"kind": "party"}, "kind", "選択肢から選んでください。"),
    ({"audience": "types"}, "audience_types", "対象の施設種別を1つ以上選んでください。"),
    ({"publish_from": "2026-13-40T10:00"}, "publish_from", "存在しない日時です。"),
    ({"publish_from": "あした"}, "publish_from", "日時は 2026-12-06 20:00 の形式で入力してください。"),
    ({"publish_from": "2026-12-01T10:00", "publish_until": "2026-11-30T10:00"}, "publish_until",
     "掲載終了は掲載開始より後にしてください。"),
])
def test_bad_input_gets_a_japanese_error_beside_the_field_and_keeps_the_input(app, make, login_as, values,
                                                                                  field, message):
    login_as(make.account("admin"))
    submitted = form_values(**{"title": "😀 𠮷野家からのお知らせ", **values})
    form = fill(app.get("/admin/notices/new").forms["notice-form"], submitted)
    response = form.submit(status=400)
    error = response.html.select_one(f"#{field}-error")
    assert error is not None and error.get_text(strip=True) == message
    kept = response.forms["notice-form"]
    if field != "title":
        assert kept["title"].value == "😀 𠮷野家からのお知らせ"
    assert kept["body"].value == submitted["body"]


def _stop(app, start, end, publish_from=""):
    form = app.get("/admin/notices/new").forms["notice-form"]
    return fill(form, form_values(kind="maintenance", title="計画停止", body="サーバ更新のため停止します。",
                                  maintenance_start=start, maintenance_end=end, publish_from=publish_from))


@pytest.mark.req("O-247")
def test_planned_stop_less_than_ten_days_ahead_is_refused(app, make, login_as):
    login_as(make.account("admin"))
    # Now is Thursday 2026-11-26 10:00; Sunday 12-06 09:00 is 9 days 23 hours away.
    response = _stop(app, "2026-12-06T09:00", "2026-12-06T12:00").submit(status=400)
    text = response.html.select_one("#maintenance_start-error").get_text(strip=True)
    assert "10日（240時間）前まで" in text and "2026-11-26 09:00" in text
    assert response.forms["notice-form"]["maintenance_start"].value == "2026-12-06T09:00"


@pytest.mark.req("O-247")
@pytest.mark.parametrize(("start", "end", "bad"), [
    ("2026-12-09T19:59", "2026-12-10T06:00", "2026-12-09 19:59"),  # Wednesday, a minute early
    ("2026-12-09T20:00", "2026-12-10T06:01", "2026-12-10 06:00"),  # a minute late into Thursday
    ("2026-12-12T10:00", "2026-12-12T12:00", "2026-12-12 10:00"),  # Saturday daytime
])
def test_planned_stop_outside_sundays_holidays_and_nights_is_refused(app, make, login_as, start, end, bad):
    login_as(make.account("admin"))
    response = _stop(app, start, end).submit(status=400)
    text = response.html.select_one("#maintenance_end-error").get_text(strip=True)
    assert "20時から翌朝6時" in text and bad in text


@pytest.mark.req("O-247")
def test_planned_stop_is_shown_on_the_login_page_until_it_ends(app, make, login_as, clock, db):
    login_as(make.account("admin"))
    _stop(app, "2026-12-13T22:00", "2026-12-14T05:00").submit(status=303)
    app.reset()
    login_page = app.get("/login")
    block = login_page.html.select_one(".planned-stops")
    assert block is not None and "2026-12-13 22:00" in block.text and "サーバ更新のため停止します。" in block.text
    stop = db.scalar(sa.select(Notice).where(Notice.kind == NoticeKind.MAINTENANCE))
    assert stop.publish_until == stop.maintenance_end
    clock.set(dt.datetime(2026, 12, 14, 5, 0, tzinfo=JST))
    assert app.get("/login").html.select_one(".planned-stops") is None


@pytest.mark.req("O-247")
def test_planned_stop_published_later_counts_ten_days_from_publication(app, make, login_as):
    login_as(make.account("admin"))
    # Sunday 12-20 is far enough from now, but not from a publication on 12-11.
    response = _stop(app, "2026-12-20T09:00", "2026-12-20T12:00", publish_from="2026-12-11T00:00").submit(status=400)
    assert response.html.select_one("#maintenance_start-error") is not None
    _stop(app, "2026-12-20T09:00", "2026-12-20T12:00", publish_from="2026-12-10T09:00").submit(status=303)


@pytest.mark.req("O-247")
def test_future_planned_stop_is_not_on_the_login_page_before_publication(app, make, db):
    notice(make, db, kind=NoticeKind.MAINTENANCE, title="予告前",
           publish_from=dt.datetime(2026, 12, 1, tzinfo=JST),
           maintenance_start=dt.datetime(2026, 12, 13, 1, tzinfo=JST),
           maintenance_end=dt.datetime(2026, 12, 13, 5, tzinfo=JST))
    db.commit()
    assert app.get("/login").html.select_one(".planned-stops") is None


def test_other_roles_cannot_reach_the_notice_screens(app, make, db, login_as):
    n = notice(make, db)
    login_as(make.account("caseworker"))
    app.get("/notices", status=403)
    app.get(f"/notices/{n.id}", status=403)
    login_as(make.account("facility"))
    app.get("/admin/notices", status=403)
    app.get(f"/admin/notices/{n.id}", status=403)
    login_as(make.account("admin"))
    app.get("/admin/notices/999999", status=404)


@pytest.mark.req("O-247")
def test_an_announced_stop_can_be_corrected_later_but_not_moved_closer(app, make, login_as, clock, db):
    admin = make.account("admin")
    login_as(admin)
    _stop(app, "2026-12-13T01:00", "2026-12-13T05:00").submit(status=303)
    stop = db.scalar(sa.select(Notice).where(Notice.kind == NoticeKind.MAINTENANCE))
    # Five days before the stop, a typo in the body is fixed: the stop was announced in time.
    clock.set(dt.datetime(2026, 12, 8, 10, 0, tzinfo=JST))
    login_as(admin)  # the session of 12 days ago has expired
    form = app.get(f"/admin/notices/{stop.id}").forms["notice-form"]
    form["body"] = "サーバ更新のため停止します（訂正）。"
    form.submit(status=303)
    db.refresh(stop)
    assert stop.body.endswith("（訂正）。")
    # Moving the stop is a new announcement: it needs 10 days again.
    form = app.get(f"/admin/notices/{stop.id}").forms["notice-form"]
    form["maintenance_start"] = "2026-12-13T02:00"
    response = form.submit(status=400)
    assert response.html.select_one("#maintenance_start-error") is not None
