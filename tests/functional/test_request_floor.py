"""The request floor (issue 19 item 4): what every logged-in page pays before its own work.

The session, its account and the account's facility or centre come in one
statement; the layout's badges and labels are what they were; the session is
still checked on every request (nothing about it is kept between requests).
"""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from webapp.accounts.models import LoginSession
from webapp.clock import JST
from webapp.messages.models import Message, MessageRead, Side
from webapp.notices.models import Notice, NoticeKind, NoticeRead
from webapp.urgent.models import UrgentCategory, UrgentReport, UrgentStatus

pytestmark = pytest.mark.req("S-AUTH", "S-AUDIT", "F-UI")

FLOOR_PAGE = "/help/index"  # no query of its own: the layout and the request path only


@pytest.fixture
def world(make):
    centre = make.centre(name="北子ども家庭支援センター")
    facility = make.facility(centre=centre, name="ひまわり保育園")
    return {
        "centre": centre, "facility": facility,
        "kid": make.child(facility=facility),
        "staff": make.account("facility", facility=facility, display_name="園の担当"),
        "caseworker": make.account("caseworker", centre=centre, display_name="区の担当"),
        "admin": make.account("admin"),
    }


def statements_of(app, connection, path: str) -> list[str]:
    seen: list[str] = []

    def record(_conn, _cursor, statement, *_args):
        seen.append(" ".join(statement.split()))

    sa.event.listen(connection, "before_cursor_execute", record)
    try:
        assert app.get(path).status_int == 200
    finally:
        sa.event.remove(connection, "before_cursor_execute", record)
    return seen


def selects_from(statements: list[str], table: str) -> list[str]:
    return [s for s in statements if s.startswith("SELECT") and f"FROM {table} " in s + " "]


@pytest.mark.parametrize("who, organisation_table", [("staff", "facilities"), ("caseworker", "centres")])
def test_the_session_its_account_and_organisation_come_in_one_statement(app, db, connection, world, login_as,
                                                                          who, organisation_table):
    login_as(world[who])
    app.get(FLOOR_PAGE)  # warm
    statements = statements_of(app, connection, FLOOR_PAGE)
    sessions = selects_from(statements, "login_sessions")
    assert len(sessions) == 1, statements
    assert "JOIN accounts" in sessions[0] and f"JOIN {organisation_table}" in sessions[0]
    # No lazy load of the account or its organisation afterwards, nor a second look
    # at the facility's type for the notices badge.
    assert selects_from(statements, "accounts") == [], statements
    assert selects_from(statements, organisation_table) == [], statements
    # The notices badge reads the notices and whether they were read in one statement.
    assert selects_from(statements, "notice_reads") == [], statements
    # The access log still names who asked and for which organisation.
    row = db.execute(sa.text("SELECT login, organisation FROM access_log ORDER BY id DESC LIMIT 1")).one()
    assert tuple(row) == (world[who].login, world[who].organisation_name)


def test_the_layout_still_shows_the_organisation_and_the_badges(app, db, make, world, login_as):
    kid, caseworker = world["kid"], world["caseworker"]
    for body in ("一通目", "二通目"):
        db.add(Message(child_id=kid.id, facility_id=kid.facility_id, author_id=caseworker.id, side=Side.CENTRE,
                       body=body))
    notices = [Notice(author_id=world["admin"].id, kind=NoticeKind.GENERAL, title=title, body="本文",
                      publish_from=dt.datetime(2026, 1, 1, tzinfo=JST)) for title in ("読んだ", "まだ読まない")]
    db.add_all(notices)
    db.flush()
    # Read by the staff member: out of the badge. Read by someone else: still unread for them.
    db.add(NoticeRead(notice_id=notices[0].id, account_id=world["staff"].id))
    db.add(NoticeRead(notice_id=notices[1].id, account_id=make.account("facility", facility=world["facility"]).id))
    db.flush()
    login_as(world["staff"])
    page = app.get(FLOOR_PAGE)
    menu = page.html.select_one("nav ul.menu")
    assert menu.find("a", href=lambda h: h.endswith("/notices")).get_text(" ", strip=True) == "お知らせ 未読 1件"
    assert menu.find("a", href=lambda h: h.endswith("/messages")).get_text(" ", strip=True) == "連絡帳 未読2件"
    assert page.html.select_one(".who span").get_text() == "ひまわり保育園 / 園の担当"

    # The caseworker's side: its own centre's name, and nothing unread (its own side wrote them).
    login_as(caseworker)
    page = app.get(FLOOR_PAGE)
    assert page.html.select_one(".who span").get_text() == "北子ども家庭支援センター / 区の担当"
    assert page.html.select_one("nav ul.menu").find("a", href=lambda h: h.endswith("/messages")) \
        .get_text(" ", strip=True) == "連絡帳"


def test_labels_follow_the_locale_from_request_to_request(app, world, login_as):
    """Translations are remembered per process, per language: switching back and forth never mixes them."""
    login_as(world["staff"])
    for locale, label in (("ja", "お知らせ"), ("en", "Notices"), ("ja", "お知らせ"), ("en", "Notices")):
        app.set_cookie("mimamori_locale", locale)
        menu = app.get(FLOOR_PAGE).html.select_one("nav ul.menu")
        assert menu.find("a", href=lambda h: h.endswith("/notices")).get_text(strip=True) == label


def test_an_ended_session_is_refused_on_the_next_request(app, db, world, login_as):
    """Nothing of the session is kept between requests: ending it in the database works at once."""
    login_as(world["staff"])
    assert app.get(FLOOR_PAGE).status_int == 200
    db.execute(sa.update(LoginSession).values(ended_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC)))
    db.commit()
    response = app.get(FLOOR_PAGE)
    assert response.status_int == 303 and "/login" in response.location


def test_a_deactivated_account_is_refused_on_the_next_request(app, db, world, login_as):
    login_as(world["staff"])
    assert app.get(FLOOR_PAGE).status_int == 200
    world["staff"].active = False
    db.commit()
    response = app.get(FLOOR_PAGE)
    assert response.status_int == 303 and "/login" in response.location


def test_the_caseworkers_badges_come_in_one_statement_with_their_counts(app, db, connection, make, world,
                                                                        login_as, now):
    kid, other_kid = world["kid"], make.child(facility=world["facility"])
    make.alert(kid)
    make.alert(other_kid)
    make.report(kid, dt.date(2026, 10, 1), status="submitted")
    make.report(kid, dt.date(2026, 9, 1), status="submitted")
    make.report(other_kid, dt.date(2026, 10, 1), status="submitted")
    db.add(UrgentReport(facility_id=kid.facility_id, centre_id=kid.centre_id, child_id=kid.id,
                        category=next(iter(UrgentCategory)), description="けが", observed_at=now,
                        status=UrgentStatus.RECEIVED, reported_by_id=world["staff"].id))
    # Another centre's: in no badge.
    elsewhere = make.child(facility=make.facility(centre=make.centre()))
    make.alert(elsewhere)
    make.report(elsewhere, dt.date(2026, 10, 1), status="submitted")
    db.flush()
    login_as(world["caseworker"])
    app.get(FLOOR_PAGE)  # warm
    statements = statements_of(app, connection, FLOOR_PAGE)
    counts = [s for s in statements if "FROM alerts" in s or "FROM urgent_reports" in s or "FROM monthly_reports" in s]
    assert len(counts) == 1, counts
    menu = app.get(FLOOR_PAGE).html.select_one("nav ul.menu")

    def label(suffix):
        return menu.find("a", href=lambda h: h.endswith(suffix)).get_text(" ", strip=True)

    assert label("/alerts") == "アラート 2"
    assert label("/centre/review") == "確認待ち (3)"
    assert label("/urgent") == "緊急連絡 未終了1件"


def test_badge_statements_kept_per_process_stay_scoped_to_each_user(app, db, make, world, login_as):
    """The badges' statements are built once per scope and reused: each caseworker still counts only
    their own centre's, in any order of requests, and a moved account counts its new centre's."""
    make.alert(world["kid"])
    make.alert(make.child(facility=world["facility"]))
    south = make.centre(name="南子ども家庭支援センター")
    make.alert(make.child(facility=make.facility(centre=south)))
    other = make.account("caseworker", centre=south, display_name="南の担当")
    db.flush()

    def alerts_label():
        menu = app.get(FLOOR_PAGE).html.select_one("nav ul.menu")
        return menu.find("a", href=lambda h: h.endswith("/alerts")).get_text(" ", strip=True)

    for _ in range(2):
        login_as(world["caseworker"])
        assert alerts_label() == "アラート 2"
        login_as(other)
        assert alerts_label() == "アラート 1"
    other.centre_id = world["centre"].id
    db.flush()
    assert alerts_label() == "アラート 2"


def test_unread_message_badges_stay_per_account(app, db, make, world, login_as):
    """The unread-messages statement is kept per scope: another facility's staff sees only its own
    unread messages, and a colleague at the same facility who has read the thread sees none."""
    kid, caseworker = world["kid"], world["caseworker"]
    other_facility = make.facility(centre=world["centre"])
    other_kid = make.child(facility=other_facility)
    other_staff = make.account("facility", facility=other_facility)
    colleague = make.account("facility", facility=world["facility"])
    messages = [Message(child_id=child.id, facility_id=child.facility_id, author_id=caseworker.id,
                        side=Side.CENTRE, body=body)
                for child, body in ((kid, "一通目"), (kid, "二通目"), (other_kid, "一通目"))]
    db.add_all(messages)
    db.flush()
    db.add(MessageRead(account_id=colleague.id, child_id=kid.id, last_read_message_id=messages[1].id))
    db.flush()
    for _ in range(2):
        for staff, label in ((world["staff"], "連絡帳 未読2件"), (other_staff, "連絡帳 未読1件"), (colleague, "連絡帳")):
            login_as(staff)
            menu = app.get(FLOOR_PAGE).html.select_one("nav ul.menu")
            assert menu.find("a", href=lambda h: h.endswith("/messages")).get_text(" ", strip=True) == label


def test_layout_links_follow_the_application_url(app, world, login_as):
    """The layout's links are kept per process by application URL: served under another script
    name (a proxy's prefix), the links carry it; back at the root, they do not."""
    login_as(world["staff"])
    for prefix in ("", "/mimamori", ""):
        page = app.get(FLOOR_PAGE, extra_environ={"SCRIPT_NAME": prefix})
        links = [a["href"] for a in page.html.select("nav ul.menu a, .who a")]
        assert len(links) > 5
        assert all(href.startswith(f"https://localhost{prefix}/") for href in links), links
        assert any(href == f"https://localhost{prefix}/help/index" for href in links), links
