"""The ``next`` parameter of the language switch and the login (issue #20 item 3)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from tests.factories import PASSWORD
from webapp.accounts.models import LoginSession
from webapp.audit.models import AuthEvent


def _login(app, account, next_value):
    form = app.get("/login").forms[0]
    form["login"] = account.login
    form["password"] = PASSWORD
    form["next"] = next_value
    return form.submit(status="*")


@pytest.mark.req("S-WEB", "F-UI")
def test_language_switch_sends_a_japanese_path_percent_encoded(app):
    response = app.get("/locale/en", {"next": "/あ"}, status=303)
    assert response.headers["Location"] == "https://localhost/%E3%81%82"
    assert response.headers["Content-Security-Policy"]
    assert "mimamori_locale=en" in response.headers["Set-Cookie"]


@pytest.mark.req("S-WEB")
@pytest.mark.parametrize("hostile", ["/\n/evil", "/\r\nSet-Cookie: a=b", "//evil.example", "/\\evil.example",
                                     "https://evil.example/", "/a\x00b"])
def test_language_switch_refuses_other_targets_and_goes_home(app, hostile):
    response = app.get("/locale/ja", {"next": hostile}, status=303)
    assert response.headers["Location"] == "https://localhost/"


@pytest.mark.req("S-WEB", "S-AUTH", "S-ACCESSLOG")
def test_login_with_a_japanese_next_succeeds_with_a_working_session(app, make, db):
    account = make.account("facility")
    db.commit()
    response = _login(app, account, "/あ")
    assert response.status_int == 303 and response.headers["Location"] == "https://localhost/%E3%81%82"
    # The success recorded once, and the session it speaks of exists and works.
    succeeded = db.scalars(sa.select(AuthEvent).filter_by(login=account.login, event="login_succeeded")).all()
    assert len(succeeded) == 1
    assert db.scalars(sa.select(LoginSession).filter_by(account_id=account.id)).one()
    assert app.get("/").headers["Location"].endswith("/today")  # the facility home, logged in


@pytest.mark.req("S-WEB", "S-AUTH")
@pytest.mark.parametrize("hostile", ["/\n/evil", "//evil.example", "/\\evil.example"])
def test_login_with_a_broken_next_goes_home(app, make, db, hostile):
    account = make.account("facility")
    db.commit()
    response = _login(app, account, hostile)
    assert response.status_int == 303 and response.headers["Location"] == "https://localhost/"
    assert db.scalars(sa.select(LoginSession).filter_by(account_id=account.id)).one()


@pytest.mark.req("S-WEB", "F-UI")
def test_a_request_that_is_not_utf8_gets_the_apps_400_page(app, make, db):
    from webapp.audit.models import AccessLogEntry

    response = app.get("/login?next=%FF", status=400)
    assert "リクエストを読み取れませんでした" in response.text
    assert response.headers["X-Frame-Options"] == "DENY"
    row = db.scalars(sa.select(AccessLogEntry).order_by(AccessLogEntry.id.desc())).first()
    assert (row.route, row.status) == ("login", 400)
