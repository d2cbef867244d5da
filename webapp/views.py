"""Views that belong to no domain area: health, home, login, errors, language."""

from __future__ import annotations

import logging
import math

import sqlalchemy as sa
from pyramid.csrf import new_csrf_token
from pyramid.exceptions import BadCSRFOrigin, BadCSRFToken
from pyramid.httpexceptions import HTTPClientError, HTTPForbidden, HTTPNotFound, HTTPSeeOther
from pyramid.security import NO_PERMISSION_REQUIRED, forget, remember
from pyramid.view import exception_view_config, forbidden_view_config, notfound_view_config, view_config

from webapp.accounts.second_factor import SecondFactorService
from webapp.accounts.services import AuthenticationService, LoginAttempt, SessionService
from webapp.audit.events import AuthEventLog, AuthEventType, FailureReason
from webapp.authz import Permission, Role
from webapp.csrf import origin_of
from webapp.i18n import LOCALE_COOKIE, LOCALES
from webapp.i18n import _
from webapp.forms import query_text
from webapp.redirects import safe_redirect_target, same_site_path
from webapp.security import SESSION_COOKIE
from webapp.sqlite_reads import retry_as_writer

log = logging.getLogger(__name__)


@view_config(route_name="healthz", permission=NO_PERMISSION_REQUIRED, renderer="string")
def healthz(request):
    """For load balancers: 200 only when this node can reach the database."""
    try:
        request.db.execute(sa.text("SELECT 1"))
    except sa.exc.SQLAlchemyError:
        log.exception("health check: database unreachable")
        request.response.status = 503
        return "database unavailable"
    return "ok"



@view_config(route_name="home", permission=Permission.ACCOUNT_SELF)
def home(request):
    role = request.account.role
    if role == Role.FACILITY:
        return HTTPSeeOther(request.route_url("facility.today"))
    if role == Role.CASEWORKER:
        return HTTPSeeOther(request.route_url("centre.matrix"))
    if role == Role.ADMIN:
        return HTTPSeeOther(request.route_url("admin.home"))
    if role == Role.AUDITOR:
        return HTTPSeeOther(request.route_url("logs.access"))
    return HTTPSeeOther(request.route_url("account.password"))


@view_config(route_name="login", permission=NO_PERMISSION_REQUIRED, renderer="login.html",
             request_method="GET")
def login_form(request):
    if request.authenticated_userid is not None:
        return HTTPSeeOther(request.route_url("home"))
    return {"login": "", "error": None, "hint": None, "next": request.params.get("next", "")}


def lockout_advice(policy):
    minutes = int(policy.lockout_duration.total_seconds() // 60)
    return _("パスワードを${count}回続けて間違えると、そのログインIDは${minutes}分間ログインできなくなります。"
             "そうなったときは${minutes}分待ってから、もう一度お試しください。"
             "急ぐ場合は、施設の方は施設の管理者か担当のセンターに、センターの方は区の管理者に連絡し、"
             "ロックの解除を依頼してください。",
             mapping={"count": policy.lockout_threshold, "minutes": minutes})


@view_config(route_name="login", permission=NO_PERMISSION_REQUIRED, renderer="login.html",
             request_method="POST")
def login_submit(request):
    login = query_text(request.POST, "login")[:64]
    password = query_text(request.POST, "password")[:1024]
    # Where to go is settled before anything is recorded: a target that cannot
    # be a redirect falls back to the home page instead of failing after
    # login_succeeded has been written and the session started.
    next_path = same_site_path(request.POST.get("next")) or ""
    attempt = LoginAttempt(login=login, password=password, client_address=request.client_address,
                           user_agent=request.user_agent, from_admin_network=request.from_admin_network)
    authentication = request.find_service(AuthenticationService)
    result = authentication.authenticate(attempt)
    if result.failure == FailureReason.THROTTLED:
        # About the address, not the login: says nothing about any ID.
        seconds = math.ceil(result.wait.total_seconds())
        request.response.status = 429
        request.response.headers["Retry-After"] = str(seconds)
        return {"login": login, "next": next_path, "hint": None, "error": _(
            "このネットワークからのログインの失敗が続いているため、少し間をおいていただいています。"
            "${seconds}秒待ってから、もう一度ログインしてください。", mapping={"seconds": seconds})}
    if not result.ok:
        # One message for every reason (unknown login, wrong password, locked,
        # disabled, address): never reveal whether the login exists. So the
        # lockout advice is there every time, for a locked-out user to find.
        # The auth event keeps the real reason for the admins.
        request.response.status = 400
        return {"login": login, "next": next_path, "error": _("ログインIDまたはパスワードが正しくありません。"),
                "hint": lockout_advice(authentication.policy)}
    sessions = request.find_service(SessionService)
    # Whatever session the browser brought (pending, or planted by someone
    # else) ends here: the session id is always new after a login.
    previous = sessions.load(request.cookies.get(SESSION_COOKIE))
    if previous is not None:
        sessions.end(previous)
    second_factor = request.find_service(SecondFactorService)
    if second_factor.is_enrolled(result.account):
        # Step two: this session reaches nothing but the code page.
        token = second_factor.start_pending(result.account)
        location = request.route_url("login.second_factor", _query={"next": next_path} if next_path else {})
    else:
        token = sessions.start(result.account)
        location = next_path or request.route_url("home")
        if result.account.must_change_password:
            location = request.route_url("account.password")
    # A fresh CSRF token too, so one planted before login is useless after it.
    new_csrf_token(request)
    response = HTTPSeeOther(location)
    request.response = response
    remember(request, token)
    return response


@view_config(route_name="logout", permission=NO_PERMISSION_REQUIRED, request_method="POST")
def logout(request):
    if request.identity is not None:
        account = request.identity.account
        request.find_service(SessionService).end(request.identity)
        AuthEventLog(request.db, request.clock).record(
            AuthEventType.LOGOUT, login=account.login, account_id=account.id,
            client_address=request.client_address, user_agent=request.user_agent)
    response = HTTPSeeOther(request.route_url("login"))
    request.response = response
    forget(request)
    # A fresh pre-login token too: nothing from before this logout works after it.
    new_csrf_token(request)
    return response


@view_config(route_name="locale", permission=NO_PERMISSION_REQUIRED)
def set_locale(request):
    code = request.matchdict["code"]
    if code not in LOCALES:
        raise HTTPNotFound()
    response = HTTPSeeOther(safe_redirect_target(request, request.params.get("next")))
    response.set_cookie(LOCALE_COOKIE, code, max_age=365 * 24 * 3600, httponly=True, samesite="Lax")
    return response


# --- Error pages: always a Japanese page, never a stack trace. -----------------


@forbidden_view_config(renderer="errors/forbidden.html")
def forbidden(exc, request):
    if request.authenticated_userid is None:
        return HTTPSeeOther(request.route_url("login", _query={"next": request.path_qs}))
    if request.account.must_change_password:
        return HTTPSeeOther(request.route_url("account.password"))
    if request.find_service(SecondFactorService).needs_enrolment(request.account):
        return HTTPSeeOther(request.route_url("account.second_factor"))
    request.response.status = 403
    return {}


@notfound_view_config(renderer="errors/notfound.html", append_slash=HTTPSeeOther)
def notfound(exc, request):
    request.response.status = 404
    return {}


@exception_view_config(BadCSRFToken, renderer="errors/csrf.html")
@exception_view_config(BadCSRFOrigin, renderer="errors/csrf.html")
def bad_csrf(exc, request):
    """403: a form from an old page, another session or another site (webapp.csrf).

    Nothing was saved. The page says so and how to get the typed text back;
    it never re-offers the submitted values, or a forged post would become a
    one-click button on our own site.
    """
    log.info("CSRF refusal on %s %s: %s", request.method, request.path, exc)
    request.response.status = 403
    return {"back": _same_origin_referrer(request)}


def _same_origin_referrer(request) -> str | None:
    """The page the form was on, if it was one of ours: the link to open it afresh."""
    referrer = request.referrer
    if referrer and origin_of(referrer) in request.registry["csrf.trusted_origins"]:
        return referrer
    return None


@exception_view_config(HTTPClientError, renderer="errors/bad_request.html")
def client_error(exc, request):
    """Any other 4xx a view or tween raises (a request that is not UTF-8, webapp.malformed):
    the application's page with its status, not Pyramid's plain one."""
    request.response.status = exc.status
    return {}


@exception_view_config(sa.exc.OperationalError, renderer="errors/unavailable.html")
@exception_view_config(sa.exc.InterfaceError, renderer="errors/unavailable.html")
def database_unavailable(exc, request):
    """The database could not be reached or dropped the connection, as during a
    failover (runbooks/database-ha.md): the transaction was rolled back whole,
    so say so and ask for a retry, with 503 rather than a 500."""
    if retry_as_writer(request, exc):
        # Not a failure: webapp.sqlite_reads runs this GET again as a writer.
        log.info("read transaction could not write on %s %s; retrying as a writer", request.method, request.path)
    else:
        log.warning("database unavailable on %s %s: %s", request.method, request.path,
                    type(exc.orig if getattr(exc, "orig", None) is not None else exc).__name__)
    request.response.status = 503
    request.response.headers["Retry-After"] = "30"
    return {}


@exception_view_config(Exception, renderer="errors/server.html")
def server_error(exc, request):
    log.exception("unhandled error on %s %s", request.method, request.path)
    request.response.status = 500
    return {}


def includeme(config):
    config.scan(".views")
