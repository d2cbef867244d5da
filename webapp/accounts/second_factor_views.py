"""Second factor pages: enrolment, the code step of login, and the admin's unlock and reset."""

from __future__ import annotations

from pyramid.csrf import new_csrf_token
from pyramid.httpexceptions import HTTPNotFound, HTTPSeeOther
from pyramid.security import NO_PERMISSION_REQUIRED, forget, remember
from pyramid.view import view_config

from webapp.accounts.models import Account
from webapp.accounts.second_factor import Outcome, SecondFactorService, grouped, qr_data_uri
from webapp.accounts.services import SESSION_COOKIE, AuthenticationService
from webapp.authz import Permission
from webapp.forms import FormErrors, query_text
from webapp.i18n import _
from webapp.redirects import safe_redirect_target


# --- Login, step two ----------------------------------------------------------------
# The pending session is not an identity (the security policy ignores it), so
# these views load it themselves from the cookie and refuse without one.


@view_config(route_name="login.second_factor", permission=NO_PERMISSION_REQUIRED,
             renderer="login_verify.html", request_method="GET")
def verify_form(request):
    if request.find_service(SecondFactorService).load_pending(request.cookies.get(SESSION_COOKIE)) is None:
        return HTTPSeeOther(request.route_url("login"))
    return {"values": {}, "errors": FormErrors(), "next": query_text(request.params, "next")[:500], "locked": False}


@view_config(route_name="login.second_factor", permission=NO_PERMISSION_REQUIRED,
             renderer="login_verify.html", request_method="POST")
def verify_submit(request):
    service = request.find_service(SecondFactorService)
    pending = service.load_pending(request.cookies.get(SESSION_COOKIE))
    if pending is None:
        return HTTPSeeOther(request.route_url("login"))
    code = query_text(request.POST, "code")[:64]
    next_url = query_text(request.POST, "next")[:500]
    result = service.verify(pending, code, request.client_address, request.user_agent)
    if result.outcome == Outcome.LOCKED:
        forget(request)
        request.response.status = 400
        return {"values": {}, "errors": FormErrors(), "next": "", "locked": True}
    if result.outcome == Outcome.WRONG:
        request.response.status = 400
        return {"values": {"code": code}, "next": next_url, "locked": False,
                "errors": FormErrors(code=_("確認コードが正しくありません。認証アプリの6桁の数字か、回復コードを入力してください。"))}
    location = safe_redirect_target(request, next_url)
    if pending.account.must_change_password:
        location = request.route_url("account.password")
    new_csrf_token(request)
    response = HTTPSeeOther(location)
    request.response = response
    remember(request, result.token)
    return response


# --- Enrolment ----------------------------------------------------------------------


def _enrolment_page(request, service, enrolment, values=None, errors=None):
    account = request.account
    return {
        "enrolled": False,
        "required": service.is_required(account),
        "qr": qr_data_uri(enrolment.uri(account.login)),
        "secret": grouped(enrolment.secret),
        "token": enrolment.token,
        "values": values or {},
        "errors": errors or FormErrors(),
    }


def _status_page(request, service):
    account = request.account
    return {"enrolled": True, "enrolled_at": account.totp_enrolled_at,
            "codes_left": service.recovery_codes_left(account)}


@view_config(route_name="account.second_factor", permission=Permission.ACCOUNT_SELF,
             renderer="accounts/second_factor.html", request_method="GET")
def enrolment_form(request):
    service = request.find_service(SecondFactorService)
    if service.is_enrolled(request.account):
        return _status_page(request, service)
    return _enrolment_page(request, service, service.begin_enrolment(request.account))


@view_config(route_name="account.second_factor", permission=Permission.ACCOUNT_SELF,
             renderer="accounts/second_factor.html", request_method="POST")
def enrolment_confirm(request):
    service = request.find_service(SecondFactorService)
    account = request.account
    if service.is_enrolled(account):
        # Replacing a factor needs an admin reset: a stolen session must not
        # be able to swap in the thief's phone.
        return HTTPSeeOther(request.route_url("account.second_factor"))
    code = query_text(request.POST, "code")[:64]
    enrolment = service.pending_enrolment(account, request.POST.get("enrolment"))
    if enrolment is None:
        request.response.status = 400
        return _enrolment_page(request, service, service.begin_enrolment(account), errors=FormErrors(
            code=_("登録の有効期限が切れました。新しいQRコードを読み取って、表示されたコードを入力してください。")))
    codes = service.confirm_enrolment(account, enrolment, code, request.client_address, request.user_agent)
    if codes is None:
        request.response.status = 400
        return _enrolment_page(request, service, enrolment, {"code": code}, FormErrors(
            code=_("確認コードが正しくありません。認証アプリに表示されている6桁の数字を入力してください。")))
    # More privilege than before (a required factor now present): new session id.
    remember(request, service.rotate(request.identity))
    new_csrf_token(request)
    # Shown once, straight from this POST; only their hashes are stored.
    request.override_renderer = "accounts/second_factor_codes.html"
    return {"codes": codes}


# --- Admin: unlock and second-factor reset (F-ADMIN, S-AUTH) -------------------------


def _target_account(request) -> Account:
    account = request.db.get(Account, int(request.matchdict["account_id"]))
    if account is None:
        raise HTTPNotFound()
    return account


@view_config(route_name="admin.account_unlock", permission=Permission.ADMIN_ACCOUNTS, request_method="POST")
def account_unlock(request):
    account = _target_account(request)
    request.find_service(AuthenticationService).unlock(account, by=request.account)
    return HTTPSeeOther(request.route_url("admin.account_edit", account_id=account.id, _query={"done": "unlocked"}))


@view_config(route_name="admin.account_reset_second_factor", permission=Permission.ADMIN_ACCOUNTS,
             request_method="POST")
def account_reset_second_factor(request):
    account = _target_account(request)
    request.find_service(SecondFactorService).reset(account, by=request.account)
    return HTTPSeeOther(request.route_url("admin.account_edit", account_id=account.id,
                                          _query={"done": "second_factor_reset"}))
