"""Health check, login/logout, error pages, headers, language switch."""

import pytest
import sqlalchemy as sa

from tests.conftest import login
from webapp.accounts.models import LoginSession


def test_healthz_answers_without_login_when_database_answers(app):
    response = app.get("/healthz")
    assert response.text == "ok"


def test_healthz_is_503_when_the_database_is_unreachable(settings, clock, db):
    from sqlalchemy.orm import sessionmaker
    from webtest import TestApp

    from webapp.config import configure
    from webapp.settings import build_settings

    broken = sa.create_engine("postgresql+psycopg://nobody@127.0.0.1:1/none", pool_pre_ping=False)
    settings = dict(settings, **{"mimamori.db_session_factory": sessionmaker(bind=broken)})
    app = TestApp(configure(build_settings(settings, environ={})).make_wsgi_app())
    response = app.get("/healthz", status=503)
    assert "unavailable" in response.text


@pytest.mark.req("O-REDUNDANT")
def test_a_lost_database_gives_a_clear_503_page_not_a_500(settings, clock, db):
    """During a failover the app answers 503 with a Japanese explanation that
    nothing was saved, and never renders the page that needs the database."""
    from sqlalchemy.orm import sessionmaker
    from webtest import TestApp

    from webapp.config import configure
    from webapp.settings import build_settings

    broken = sa.create_engine("postgresql+psycopg://nobody@127.0.0.1:1/none", pool_pre_ping=False)
    settings = dict(settings, **{"mimamori.db_session_factory": sessionmaker(bind=broken)})
    app = TestApp(configure(build_settings(settings, environ={})).make_wsgi_app(),
                  extra_environ={"wsgi.url_scheme": "https", "REMOTE_ADDR": "192.0.2.10",
                                 "HTTP_ORIGIN": "https://localhost"})
    app.set_cookie("mimamori_session", "a-session-token-the-database-would-look-up")
    page = app.get("/account/password", status=503)
    assert page.headers["Retry-After"] == "30"
    assert "この操作は保存されていません" in page.text
    assert "ログアウト" not in page.text  # the standalone page, not base.html
    # A form sent during the switch: the same page, not a half-done save.
    posted = app.post("/account/password", {"csrf_token": "t", "current_password": "x"}, status=503)
    assert "この操作は保存されていません" in posted.text


@pytest.mark.req("S-AUTH")
def test_login_and_logout_end_the_server_side_session(app, make, db):
    account = make.account("facility")
    login(app, account)
    page = app.get("/account/password")
    assert account.display_name in page.text
    token = app.cookies["mimamori_session"]
    assert db.scalar(sa.select(sa.func.count()).select_from(LoginSession)) == 1

    logout_form = [f for f in page.forms.values() if f.action.endswith("/logout")][0]
    logout_form.submit().follow()
    # The old cookie no longer works even if replayed.
    app.set_cookie("mimamori_session", token)
    assert app.get("/").status_int == 303
    assert db.scalar(sa.select(LoginSession.ended_at)) is not None


@pytest.mark.req("S-AUTH")
def test_wrong_password_and_unknown_login_get_the_same_message(app, make):
    account = make.account("facility")
    messages = []
    for login_name in (account.login, "no-such-user"):
        form = app.get("/login").forms[0]
        form["login"] = login_name
        form["password"] = "wrong-password-123"
        response = form.submit(status=400)
        messages.append(response.html.select_one(".error-summary").get_text(strip=True))
        # What the user typed stays in the form.
        assert response.forms[0]["login"].value == login_name
    assert messages[0] == messages[1] == "ログインIDまたはパスワードが正しくありません。"


def test_disabled_account_cannot_log_in(app, make):
    account = make.account("caseworker", active=False)
    form = app.get("/login").forms[0]
    form["login"] = account.login
    form["password"] = "correct-horse-battery-42"
    form.submit(status=400)


@pytest.mark.req("S-WEB")
def test_post_without_csrf_token_is_refused_with_a_japanese_page(app):
    response = app.post("/login", {"login": "x", "password": "y"}, status=403)
    assert "送信を受け付けられませんでした" in response.text
    assert "「戻る」ボタン" in response.text


@pytest.mark.req("S-WEB")
def test_security_headers_on_every_page(app):
    for path, status in (("/login", 200), ("/no-such-page", 404)):
        response = app.get(path, status=status)
        assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
        assert "unsafe-inline" not in response.headers["Content-Security-Policy"]
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Cache-Control"] == "no-store"
        assert response.headers["Strict-Transport-Security"].startswith("max-age=63072000")


def test_session_cookie_is_secure_httponly_samesite(app, make):
    account = make.account("facility")
    form = app.get("/login").forms[0]
    form["login"] = account.login
    form["password"] = "correct-horse-battery-42"
    response = form.submit()
    cookie = [v for k, v in response.headerlist if k == "Set-Cookie" and v.startswith("mimamori_session=")][0]
    attributes = [part.strip().lower() for part in cookie.split(";")]
    assert {"secure", "httponly", "samesite=lax"} <= set(attributes)


def test_login_redirects_only_to_local_paths(app, make):
    account = make.account("facility")
    for target, expected in (("/children", "/children"), ("https://evil.example/", "/"), ("//evil.example", "/")):
        app.reset()
        form = app.get("/login", {"next": target}).forms[0]
        form["login"] = account.login
        form["password"] = "correct-horse-battery-42"
        response = form.submit()
        assert response.location == "https://localhost" + expected


def test_not_found_page_is_japanese(app):
    response = app.get("/does-not-exist", status=404)
    assert "ページが見つかりません" in response.text


def test_english_is_the_second_locale(app):
    app.get("/locale/en?next=/login").follow()
    assert "Log in" in app.get("/login").text
    app.get("/locale/ja?next=/login")
    assert "ログイン" in app.get("/login").text


@pytest.mark.req("S-AUTH")
def test_idle_session_times_out(app, make, clock, db):
    import datetime as dt

    account = make.account("facility")
    login(app, account)
    clock.set(clock.now() + dt.timedelta(minutes=31))
    assert app.get("/account/password").status_int == 303
    from webapp.audit.models import AuthEvent

    expired = db.scalars(sa.select(AuthEvent).where(AuthEvent.event == "session_expired")).all()
    assert [e.account_id for e in expired] == [account.id]


@pytest.mark.req("S-AUTH")
def test_forced_password_change_blocks_everything_else(app, make):
    account = make.account("facility", must_change_password=True)
    form = app.get("/login").forms[0]
    form["login"] = account.login
    form["password"] = "correct-horse-battery-42"
    assert form.submit().location.endswith("/account/password")
    assert app.get("/children").location.endswith("/account/password")

    form = app.get("/account/password").forms["password-form"]
    form["current_password"] = "correct-horse-battery-42"
    form["new_password"] = "short"
    form["confirm_password"] = "short"
    response = form.submit(status=400)
    assert "12文字以上" in response.text

    form = response.forms["password-form"]
    form["current_password"] = "correct-horse-battery-42"
    form["new_password"] = "a-much-longer-pass-9"
    form["confirm_password"] = "a-much-longer-pass-9"
    form.submit().follow()
    assert app.get("/children").status_int == 200
