"""CSRF (S-WEB): the token is bound to the session, and every unsafe request
must come from one of our origins (webapp.csrf)."""

from __future__ import annotations

import re

import pytest
from webtest import TestApp

from tests.conftest import login
from webapp.csrf import origin_of, trusted_origins
from webapp.settings import SettingsError

pytestmark = pytest.mark.req("S-WEB")


def token_on(page) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)


def password_change(token, **values):
    return {"csrf_token": token, "current_password": "x", "new_password": "y", "confirm_password": "y", **values}


def test_a_self_chosen_cookie_and_field_pair_is_refused(app, make):
    """The old double-submit check accepted any cookie value repeated in the field."""
    app.set_cookie("mimamori_csrf", "a" * 43)
    page = app.post("/login", {"csrf_token": "a" * 43, "login": "x", "password": "y"}, status=403)
    assert "送信を受け付けられませんでした" in page.text


def test_the_login_form_works_with_its_own_token(app, make):
    account = make.account("facility")
    response = login(app, account)
    assert response.status_int == 303


def test_a_token_from_another_session_is_refused(app, wsgi_app, make):
    mine, theirs = make.account("facility"), make.account("facility")
    login(app, mine)
    my_token = token_on(app.get("/account/password"))
    other = TestApp(wsgi_app, extra_environ=dict(app.extra_environ))
    login(other, theirs)
    # Their own token works for them (a 400 from the form's checks, not a CSRF refusal) ...
    other.post("/account/password", password_change(token_on(other.get("/account/password"))), status=400)
    # ... mine does not, nor does theirs in my session.
    other.post("/account/password", password_change(my_token), status=403)
    app.post("/account/password", password_change(token_on(other.get("/account/password"))), status=403)


def test_the_token_changes_at_login_and_logout(app, make):
    account = make.account("facility")
    app.reset()
    before_login = token_on(app.get("/login"))
    login_page_again = token_on(app.get("/login"))
    assert before_login == login_page_again  # stable while nothing changes
    form = app.get("/login").forms[0]
    form["login"], form["password"] = account.login, "correct-horse-battery-42"
    form.submit(status=303)
    after_login = token_on(app.get("/account/password"))
    assert after_login != before_login
    # A token picked up before login (say, planted by someone) is dead after it.
    app.post("/account/password", password_change(before_login), status=403)
    app.post("/account/password", password_change(after_login), status=400)

    app.post("/logout", {"csrf_token": after_login}, status=303)
    after_logout = token_on(app.get("/login"))
    assert after_logout not in (before_login, after_login)
    app.post("/login", {"csrf_token": after_login, "login": "x", "password": "y"}, status=403)


def test_a_foreign_origin_is_refused_even_with_a_valid_token(app, make):
    account = make.account("facility")
    login(app, account)
    token = token_on(app.get("/account/password"))
    page = app.post("/account/password", password_change(token), status=403,
                    extra_environ={"HTTP_ORIGIN": "http://evil.example"})
    assert "送信を受け付けられませんでした" in page.text
    # Our own name over plain http, or on another port, is another origin too.
    for origin in ("http://localhost", "https://localhost:8443", "null"):
        app.post("/account/password", password_change(token), status=403, extra_environ={"HTTP_ORIGIN": origin})
    app.post("/account/password", password_change(token), status=400)


def test_the_host_header_does_not_make_an_origin_trusted(app):
    """Behind the load balancer the Host header is whatever the client sent."""
    app.reset()
    token = token_on(app.get("/login"))
    cookie = {"Cookie": f"mimamori_csrf={app.cookies['mimamori_csrf']}"}
    credentials = {"csrf_token": token, "login": "x", "password": "y"}
    fresh = TestApp(app.app, extra_environ=dict(app.extra_environ))
    fresh.post("/login", credentials, headers=cookie, status=400)  # token fine: the login fails
    fresh.post("/login", credentials, headers=cookie, status=403,
               extra_environ={"HTTP_HOST": "evil.example", "HTTP_ORIGIN": "https://evil.example",
                              "HTTP_X_FORWARDED_HOST": "evil.example"})


@pytest.fixture
def without_origin(app, make):
    """A logged-in client that sends no Origin header, and its valid token."""
    login(app, make.account("facility"))
    token = token_on(app.get("/account/password"))
    environ = {k: v for k, v in app.extra_environ.items() if k != "HTTP_ORIGIN"}
    return TestApp(app.app, extra_environ=environ, cookiejar=app.cookiejar), token


def test_without_origin_the_referer_decides(without_origin):
    bare, token = without_origin
    bare.post("/account/password", password_change(token), status=400,
              headers={"Referer": "https://localhost/account/password"})
    bare.post("/account/password", password_change(token), status=403,
              headers={"Referer": "https://evil.example/account/password"})


def test_an_unsafe_request_with_neither_origin_nor_referer_is_refused(without_origin):
    bare, token = without_origin
    page = bare.post("/account/password", password_change(token), status=403)
    assert "「戻る」ボタン" in page.text
    # Safe methods need neither.
    bare.get("/account/password", status=200)


def test_the_refusal_page_links_back_to_the_form_only_if_it_was_ours(app, make):
    account = make.account("facility")
    login(app, account)
    ours = app.post("/account/password", password_change("stale"), status=403,
                    headers={"Referer": "https://localhost/account/password"})
    assert 'href="https://localhost/account/password"' in ours.text
    theirs = app.post("/account/password", password_change("stale"), status=403,
                      extra_environ={"HTTP_ORIGIN": "https://evil.example"},
                      headers={"Referer": "https://evil.example/form"})
    assert "evil.example" not in theirs.text


@pytest.mark.parametrize(("url", "origin"), [
    ("https://Mimamori.Example.jp/", "https://mimamori.example.jp"),
    ("https://mimamori.example.jp:443/x?y", "https://mimamori.example.jp"),
    ("http://localhost:6543", "http://localhost:6543"),
    ("http://[::1]:6543/", "http://[::1]:6543"),
    ("null", None), ("javascript:alert(1)", None), ("https://x:notaport/", None), ("", None),
])
def test_origin_of(url, origin):
    assert origin_of(url) == origin


def test_trusted_origins_come_from_settings_only():
    settings = {"mimamori.public_url": "https://mimamori.example.jp",
                "mimamori.trusted_origins": "http://127.0.0.1:6543 https://alt.example.jp/"}
    assert trusted_origins(settings) == {"https://mimamori.example.jp", "http://127.0.0.1:6543",
                                         "https://alt.example.jp"}
    with pytest.raises(SettingsError):
        trusted_origins({"mimamori.public_url": "mimamori.example.jp"})
