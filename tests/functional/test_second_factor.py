"""The second factor through the web (S-AUTH): enrolment, the code step of login, lockout,
recovery codes, forced enrolment, the admin's unlock and reset, and session rotation and timeouts."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import sqlalchemy as sa
from webtest import TestApp

from tests.factories import PASSWORD
from tests.functional.test_scope_sweep import fill, swept_views
from webapp.accounts.models import Account, LoginSession
from webapp.accounts.second_factor import new_recovery_code, new_secret, recovery_hash, time_step, totp
from webapp.audit.models import AuthEvent
from webapp.authz import Role

COOKIE = "mimamori_session"
STEP = dt.timedelta(seconds=30)
ENVIRON = {"wsgi.url_scheme": "https", "HTTP_HOST": "localhost", "HTTP_ORIGIN": "https://localhost",
           "REMOTE_ADDR": "192.0.2.10"}


@pytest.fixture
def strict_app(settings, clock, db):
    """The application with the default second-factor setting (admins and caseworkers must enrol)."""
    from webapp.config import configure
    from webapp.settings import DEFAULTS, build_settings

    settings = {k: v for k, v in settings.items() if k != "mimamori.second_factor_roles"}
    built = build_settings(settings, environ={})
    assert built["mimamori.second_factor_roles"] == DEFAULTS["mimamori.second_factor_roles"] == "admin caseworker"
    config = configure(built)
    config.registry["clock"] = clock
    db.commit()
    return TestApp(config.make_wsgi_app(), extra_environ=ENVIRON)


def events(db, **filters):
    return db.scalars(sa.select(AuthEvent).filter_by(**filters).order_by(AuthEvent.id)).all()


def enrolled_account(make, db, role="caseworker", **kw):
    """An account already enrolled, with known secret and recovery codes (stored as hashes)."""
    secret = new_secret()
    codes = [new_recovery_code() for _ in range(3)]
    account = make.account(role, totp_secret=secret, totp_enrolled_at=dt.datetime(2026, 11, 1, tzinfo=dt.UTC),
                           recovery_codes=" ".join(recovery_hash(c) for c in codes), **kw)
    db.commit()
    return account, secret, codes


def password_step(app, account, password=PASSWORD, next_url=None):
    page = app.get("/login", {"next": next_url} if next_url else {}, status="*")
    if page.status_int == 303:
        # Already logged in (the form page sends such users home): post it anyway.
        token = csrf_of(app.get("/account/password"))
        return app.post("/login", {"csrf_token": token, "login": account.login, "password": password,
                                   "next": next_url or ""}, status="*")
    form = page.forms[0]
    form["login"] = account.login
    form["password"] = password
    return form.submit(status="*")


def code_step(app, code, status="*", url="/login/verify"):
    form = app.get(url).forms["verify-form"]
    form["code"] = code
    return form.submit(status=status)


def csrf_of(page) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)


def field_error(page, name) -> str:
    element = page.html.select_one(f"#{name}-error")
    return element.get_text() if element else ""


# --- Enrolment -----------------------------------------------------------------------


@pytest.mark.req("S-AUTH")
def test_caseworker_is_forced_to_enrol_and_enrols_with_a_code_from_the_page(strict_app, make, db, clock):
    app = strict_app
    account = make.account(Role.CASEWORKER)
    db.commit()
    assert password_step(app, account).status_int == 303
    # Every page but the account's own sends the user to enrol.
    for path in ("/", "/centre/submissions", "/children"):
        response = app.get(path)
        while response.status_int == 303 and not response.location.endswith("/account/second-factor"):
            response = response.follow()
        assert response.location.endswith("/account/second-factor"), path
    app.get("/account/password", status=200)

    page = app.get("/account/second-factor")
    assert "二要素認証が必須です" in page.text
    qr = page.html.select_one("img.qr")
    assert qr["src"].startswith("data:image/svg+xml") and qr["alt"]
    secret = page.html.select_one("code.totp-secret").get_text().replace(" ", "")
    assert re.fullmatch(r"[A-Z2-7]{32}", secret)
    assert "script" not in page.text.lower().replace("noscript", "")

    # A wrong code: error beside the field, input kept, nothing stored yet.
    form = page.forms["second-factor-form"]
    wrong = "000000" if totp(secret, clock.now()) != "000000" else "999999"
    form["code"] = wrong
    page = form.submit(status=400)
    assert "確認コードが正しくありません" in field_error(page, "code")
    assert page.forms["second-factor-form"]["code"].value == wrong
    db.refresh(account)
    assert account.totp_secret is None and account.totp_enrolled_at is None
    # The same secret is still on the page, so the app's entry keeps working.
    assert page.html.select_one("code.totp-secret").get_text().replace(" ", "") == secret

    token_before = app.cookies[COOKIE]
    form = page.forms["second-factor-form"]
    form["code"] = totp(secret, clock.now())
    page = form.submit(status=200)
    codes = [c.get_text() for c in page.html.select("code.recovery-code")]
    assert len(codes) == 10 and len(set(codes)) == 10
    db.refresh(account)
    assert account.totp_secret == secret and account.totp_enrolled_at == clock.now()
    assert account.totp_last_step == time_step(clock.now())
    assert not any(code in account.recovery_codes for code in codes)
    assert events(db, account_id=account.id)[-1].event == "second_factor_enrolled"
    # Privilege changed: new session id, the old one is ended.
    assert app.cookies[COOKIE] != token_before
    app.get("/centre/submissions", status=200)
    app.set_cookie(COOKIE, token_before)
    assert "/login" in app.get("/centre/submissions", status=303).location

    # Shown once: the status page never shows them again, and a new POST cannot replace the factor.
    app.reset()
    clock.set(clock.now() + STEP)
    password_step(app, account)
    code_step(app, totp(secret, clock.now()), status=303)
    status = app.get("/account/second-factor")
    assert status.html.select_one("#second-factor-status").get_text() == "登録済み"
    assert not any(code in status.text for code in codes)


@pytest.mark.req("S-AUTH")
def test_enrolment_with_an_expired_or_forged_secret_is_refused(strict_app, make, db, clock):
    app = strict_app
    account = make.account(Role.ADMIN)
    db.commit()
    password_step(app, account)
    page = app.get("/account/second-factor")
    secret = page.html.select_one("code.totp-secret").get_text().replace(" ", "")
    form = page.forms["second-factor-form"]
    # Someone swaps in a secret of their own: the signature no longer fits.
    mine = new_secret()
    form["enrolment"].force_value(mine + form["enrolment"].value[len(secret):])
    form["code"] = totp(mine, clock.now())
    refused = form.submit(status=400)
    assert "有効期限が切れました" in field_error(refused, "code")
    db.refresh(account)
    assert account.totp_secret is None

    clock.set(clock.now() + dt.timedelta(minutes=16))
    form = page.forms["second-factor-form"]
    form["code"] = totp(secret, clock.now())
    # Still logged in (16 minutes idle), but the page is too old.
    assert form.submit(status=400).status_int == 400
    db.refresh(account)
    assert account.totp_secret is None


@pytest.mark.req("S-AUTH")
@pytest.mark.parametrize("bad", ["", "12345", "1234567", "𠮷𠮷𠮷", "😀" * 10, "x" * 5000, "' OR 1=1 --"])
def test_bad_enrolment_codes_get_a_message_never_a_500(strict_app, make, db, bad):
    app = strict_app
    account = make.account(Role.CASEWORKER)
    db.commit()
    password_step(app, account)
    form = app.get("/account/second-factor").forms["second-factor-form"]
    form["code"] = bad
    page = form.submit(status=400)
    assert field_error(page, "code")


@pytest.mark.req("S-AUTH")
def test_facility_staff_are_not_forced_but_may_enrol(strict_app, make, db, clock):
    app = strict_app
    account = make.account(Role.FACILITY)
    db.commit()
    assert password_step(app, account).status_int == 303
    app.get("/reports/period/current", status=200)
    page = app.get("/account/second-factor")
    assert "二要素認証が必須です" not in page.text
    secret = page.html.select_one("code.totp-secret").get_text().replace(" ", "")
    form = page.forms["second-factor-form"]
    form["code"] = totp(secret, clock.now())
    form.submit(status=200)
    # From now on their login asks for the code too.
    app.reset()
    clock.set(clock.now() + STEP)
    assert password_step(app, account).location.startswith("https://localhost/login/verify")
    app.get("/reports/period/current", status=303)
    code_step(app, totp(secret, clock.now()), status=303)
    app.get("/reports/period/current", status=200)


@pytest.mark.req("S-AUTH")
def test_with_the_setting_empty_nobody_is_forced(app, make, db):
    account = make.account(Role.ADMIN)
    db.commit()
    password_step(app, account)
    app.get("/admin", status=200)


# --- Login, step two ---------------------------------------------------------------------


@pytest.mark.req("S-AUTH")
def test_login_with_totp_rotates_the_session_and_goes_where_asked(strict_app, make, db, clock):
    app = strict_app
    account, secret, _codes = enrolled_account(make, db)
    response = password_step(app, account, next_url="/children")
    assert response.location.startswith("https://localhost/login/verify")
    pending_token = app.cookies[COOKIE]
    assert events(db, account_id=account.id)[-1].event == "login_succeeded"
    # The pending session is not a login.
    assert "/login" in app.get("/children", status=303).location
    page = app.get("/login/verify")
    assert "確認コード" in page.text

    response = code_step(app, totp(secret, clock.now()), status=303, url=response.location)
    assert response.location == "https://localhost/children"
    assert app.cookies[COOKIE] != pending_token
    app.get("/children", status=200)
    assert events(db, account_id=account.id)[-1].event == "second_factor_succeeded"
    db.refresh(account)
    assert account.totp_last_step == time_step(clock.now())

    # The pending token is dead: neither a page nor the code step accepts it.
    fresh = TestApp(app.app, extra_environ=ENVIRON)
    fresh.set_cookie(COOKIE, pending_token)
    assert "/login" in fresh.get("/children", status=303).location
    assert fresh.get("/login/verify", status=303).location == "https://localhost/login"


@pytest.mark.req("S-AUTH")
def test_the_code_step_expires_ten_minutes_after_the_password(strict_app, make, db, clock):
    app = strict_app
    account, secret, _codes = enrolled_account(make, db)
    password_step(app, account)
    form = app.get("/login/verify").forms["verify-form"]
    clock.set(clock.now() + dt.timedelta(minutes=11))
    form["code"] = totp(secret, clock.now())
    assert form.submit(status=303).location == "https://localhost/login"
    assert "/login" in app.get("/children", status=303).location


@pytest.mark.req("S-AUTH")
def test_the_same_code_cannot_be_used_twice(strict_app, make, db, clock):
    app = strict_app
    account, secret, _codes = enrolled_account(make, db)
    code = totp(secret, clock.now())
    password_step(app, account)
    code_step(app, code, status=303)
    app.reset()
    password_step(app, account)
    page = code_step(app, code, status=400)
    assert "確認コードが正しくありません" in field_error(page, "code")
    # The next step's code is fine (a phone that has moved on).
    code_step(app, totp(secret, clock.now() + STEP), status=303)


@pytest.mark.req("S-AUTH")
def test_code_page_refuses_without_a_pending_session(strict_app, make, db):
    app = strict_app
    assert app.get("/login/verify", status=303).location == "https://localhost/login"
    token = csrf_of(app.get("/login"))
    assert app.post("/login/verify", {"csrf_token": token, "code": "123456"}, status=303).location \
        == "https://localhost/login"
    # A fully logged-in session is not a pending one either.
    account = make.account(Role.FACILITY)
    db.commit()
    password_step(app, account)
    assert app.get("/login/verify", status=303).location == "https://localhost/login"


@pytest.mark.req("S-AUTH")
def test_wrong_codes_are_logged_and_lock_after_five(strict_app, make, db, clock):
    app = strict_app
    account, secret, _codes = enrolled_account(make, db)
    right = totp(secret, clock.now())
    wrong = "000000" if right != "000000" else "111111"
    password_step(app, account)
    for attempt in range(4):
        page = code_step(app, wrong, status=400)
        assert "確認コードが正しくありません" in field_error(page, "code")
        assert page.forms["verify-form"]["code"].value == wrong
        event = events(db, account_id=account.id)[-1]
        assert (event.event, event.reason, event.client_address) == ("login_failed", "second_factor_wrong",
                                                                     "192.0.2.10")
    db.refresh(account)
    assert account.failed_logins == 4
    # A right password again does not wipe the count (or the code could be guessed for ever).
    app.reset()
    password_step(app, account)
    db.refresh(account)
    assert account.failed_logins == 4
    page = code_step(app, "𠮷😀" * 40, status=400)
    assert "ロックしました" in page.text
    db.refresh(account)
    assert account.locked_until == clock.now() + dt.timedelta(minutes=15)
    assert [e.event for e in events(db, account_id=account.id)][-2:] == ["login_failed", "account_locked"]
    # The pending session is gone, and the right password alone is refused while locked.
    assert app.get("/login/verify", status=303).location == "https://localhost/login"
    assert password_step(app, account).status_int == 400
    assert events(db, login=account.login)[-1].reason == "locked"


@pytest.mark.req("S-AUTH")
def test_a_right_code_does_not_help_once_locked_meanwhile(strict_app, make, db, clock):
    app = strict_app
    account, secret, _codes = enrolled_account(make, db)
    password_step(app, account)
    account.locked_until = clock.now() + dt.timedelta(minutes=10)
    db.commit()
    page = code_step(app, totp(secret, clock.now()), status=400)
    assert "ロックしました" in page.text
    assert "/login" in app.get("/children", status=303).location


@pytest.mark.req("S-AUTH")
def test_a_recovery_code_works_exactly_once(strict_app, make, db):
    app = strict_app
    account, _secret, codes = enrolled_account(make, db)
    password_step(app, account)
    code_step(app, codes[1].upper().replace("-", " "), status=303)
    app.get("/centre/submissions", status=200)
    db.refresh(account)
    assert len(account.recovery_codes.split()) == 2
    assert events(db, account_id=account.id)[-1].event == "second_factor_succeeded"

    app.reset()
    password_step(app, account)
    page = code_step(app, codes[1], status=400)
    assert "確認コードが正しくありません" in field_error(page, "code")
    code_step(app, codes[2], status=303)


@pytest.mark.req("S-AUTH", "S-WEB")
def test_a_pending_session_reaches_nothing(strict_app, make, db):
    """Walk the route table: with only a password, every protected page sends the user to log in."""
    app = strict_app
    account, _secret, _codes = enrolled_account(make, db, role="admin")
    password_step(app, account)
    token = csrf_of(app.get("/login/verify"))
    ids = {"child_id": 1, "report_id": 1, "facility_id": 1, "centre_id": 1, "account_id": account.id,
           "number": 1, "period": "2026-10", "code": "ja", "urgent_id": 1, "alert_id": 1, "notice_id": 1}
    checked = 0
    for route, pattern, method, _permission in swept_views(app):
        url = fill(pattern, ids)
        if method in (None, "GET"):
            response = app.get(url, status="*")
        else:
            response = app.post(url, {"csrf_token": token}, status="*")
        assert response.status_int == 303 and "/login?" in response.location, (route, response.status_int)
        checked += 1
    assert checked > 20
    # The pending session is still there for the code step, and nothing was changed.
    app.get("/login/verify", status=200)
    db.refresh(account)
    assert account.totp_secret is not None


# --- Admin: unlock and reset ---------------------------------------------------------


@pytest.fixture
def admin_app(app, make, db):
    admin = make.account(Role.ADMIN)
    db.commit()
    password_step(app, admin)
    return app, admin


@pytest.mark.req("S-AUTH", "S-ACCESSLOG")
def test_admin_unlock_is_logged_with_who_did_it(admin_app, make, db, clock):
    app, admin = admin_app
    target = make.account(Role.FACILITY, locked_until=clock.now() + dt.timedelta(minutes=10), failed_logins=3)
    db.commit()
    page = app.get(f"/admin/accounts/{target.id}")
    assert "ロック中" in page.html.select_one("#lock-status").get_text()
    response = page.forms["unlock-form"].submit(status=303)
    assert response.location.endswith(f"/admin/accounts/{target.id}?done=unlocked")
    assert "ロックを解除しました" in response.follow().text
    db.refresh(target)
    assert target.locked_until is None and target.failed_logins == 0
    event = events(db, account_id=target.id)[-1]
    assert (event.event, event.actor_id) == ("account_unlocked", admin.id)
    # And the account can log in again at once.
    other = TestApp(app.app, extra_environ=ENVIRON)
    assert password_step(other, target).status_int == 303


@pytest.mark.req("S-AUTH", "S-ACCESSLOG")
def test_admin_second_factor_reset_logs_out_and_forces_re_enrolment(admin_app, make, db, clock, settings):
    app, admin = admin_app
    target, secret, _codes = enrolled_account(make, db)
    # The target is logged in elsewhere.
    theirs = TestApp(app.app, extra_environ=ENVIRON)
    password_step(theirs, target)
    code_step(theirs, totp(secret, clock.now()), status=303)
    theirs.get("/centre/submissions", status=200)

    page = app.get(f"/admin/accounts/{target.id}")
    assert "登録済み" in page.html.select_one("#second-factor-status").get_text()
    response = page.forms["reset-second-factor-form"].submit(status=303)
    assert "done=second_factor_reset" in response.location
    db.refresh(target)
    assert (target.totp_secret, target.totp_enrolled_at, target.recovery_codes) == (None, None, None)
    event = events(db, account_id=target.id)[-1]
    assert (event.event, event.actor_id) == ("second_factor_reset", admin.id)
    assert "/login" in theirs.get("/centre/submissions", status=303).location
    assert db.scalar(sa.select(sa.func.count()).select_from(LoginSession).where(
        LoginSession.account_id == target.id, LoginSession.ended_at.is_(None))) == 0
    # Next login: no code step, but (with the default setting) straight to enrolment.
    from webapp.config import configure
    from webapp.settings import build_settings

    strict_settings = {k: v for k, v in settings.items() if k != "mimamori.second_factor_roles"}
    config = configure(build_settings(strict_settings, environ={}))
    config.registry["clock"] = clock
    strict = TestApp(config.make_wsgi_app(), extra_environ=ENVIRON)
    assert password_step(strict, target).location == "https://localhost/"
    assert strict.get("/centre/submissions").location.endswith("/account/second-factor")


def test_unlock_and_reset_of_unknown_accounts_are_404(admin_app):
    app, _admin = admin_app
    token = csrf_of(app.get("/account/password"))
    app.post("/admin/accounts/999999/unlock", {"csrf_token": token}, status=404)
    app.post("/admin/accounts/999999/reset-second-factor", {"csrf_token": token}, status=404)
    # GET does nothing.
    app.get("/admin/accounts/999999/unlock", status=404)


def test_only_admins_may_unlock_or_reset(app, make, db, clock):
    target = make.account(Role.FACILITY, locked_until=clock.now() + dt.timedelta(minutes=10))
    caseworker = make.account(Role.CASEWORKER)
    db.commit()
    password_step(app, caseworker)
    token = csrf_of(app.get("/account/password"))
    app.post(f"/admin/accounts/{target.id}/unlock", {"csrf_token": token}, status=403)
    app.post(f"/admin/accounts/{target.id}/reset-second-factor", {"csrf_token": token}, status=403)
    db.refresh(target)
    assert target.locked_until is not None


# --- Session ids and timeouts ------------------------------------------------------------


@pytest.mark.req("S-AUTH")
def test_session_id_changes_at_login_and_the_old_one_is_dead(app, make, db):
    account = make.account(Role.FACILITY)
    db.commit()
    # A token planted before login (session fixation) is replaced, not adopted.
    app.set_cookie(COOKIE, "planted-by-someone-else")
    password_step(app, account)
    first = app.cookies[COOKIE]
    assert first != "planted-by-someone-else"
    app.get("/children", status=200)
    # Logging in again (same browser, still logged in) gives a new id and ends the old one.
    password_step(app, account)
    second = app.cookies[COOKIE]
    assert second != first
    app.get("/children", status=200)
    other = TestApp(app.app, extra_environ=ENVIRON)
    other.set_cookie(COOKIE, first)
    assert "/login" in other.get("/children", status=303).location


@pytest.mark.req("S-AUTH")
def test_absolute_timeout_ends_even_an_active_session_after_twelve_hours(app, make, db, clock):
    account = make.account(Role.FACILITY)
    db.commit()
    start = clock.now()
    password_step(app, account)
    # Busy all day: never idle for 30 minutes...
    for _ in range(28):  # 11 h 40 min in steps of 25 minutes
        clock.set(clock.now() + dt.timedelta(minutes=25))
        app.get("/children", status=200)
    # ...and still logged out at 12 hours.
    clock.set(start + dt.timedelta(hours=12, minutes=1))
    assert "/login" in app.get("/children", status=303).location
    clock.set(start + dt.timedelta(hours=12, minutes=2))
    assert "/login" in app.get("/account/password", status=303).location


# --- Passwords: the change form uses the full rules ------------------------------------


@pytest.mark.req("S-AUTH")
def test_password_change_refuses_the_name_and_common_passwords_beside_the_field(app, make, db):
    account = make.account(Role.FACILITY, display_name="世田谷 花子")
    db.commit()
    password_step(app, account)
    for new, expected in (("花子の新しいパスワードです", "氏名を含めないで"), ("Sakura2026!!", "推測されやすい"),
                          (account.login.upper() + "-river-9", "ログインIDを含めないで")):
        form = app.get("/account/password").forms["password-form"]
        form["current_password"], form["new_password"], form["confirm_password"] = PASSWORD, new, new
        page = form.submit(status=400)
        assert expected in field_error(page, "new_password"), new
