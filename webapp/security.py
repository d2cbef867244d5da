"""Who is asking, and may they: the security policy, CSRF and response headers.

Identity comes from our own server-side session (:class:`LoginSession`); the
cookie holds only a random token. Permissions come from the table in
:mod:`webapp.authz`. Which *objects* a user may touch is a query concern
(:mod:`webapp.children.scope`), never decided here.
"""

from __future__ import annotations

import datetime as dt

from pyramid.security import Allowed, Denied
from pyramid.tweens import EXCVIEW

from webapp.accounts.second_factor import SecondFactorService, required_roles
from webapp.accounts.services import (
    SESSION_COOKIE,
    AuthenticationService,
    LoginPolicy,
    PasswordService,
    SessionService,
)
from webapp.accounts.throttle import AddressThrottle
from webapp.audit.events import AuthEventType, FailureReason, record_after_request
from webapp.authz import Permission, Role, role_has
from webapp.csrf import NEW_SESSION_TOKEN, SessionBoundCSRFStoragePolicy, origin_checked_view, trusted_origins
from webapp.settings import as_bool

class MimamoriSecurityPolicy:
    def __init__(self, secure_cookies: bool, absolute: dt.timedelta):
        self.secure_cookies = secure_cookies
        self.absolute = absolute

    def identity(self, request):
        """The current, fully authenticated :class:`LoginSession`, or None. Cached per request."""
        if not hasattr(request, "_mimamori_identity"):
            request._mimamori_identity = self._load_identity(request)
        return request._mimamori_identity

    def _load_identity(self, request):
        sessions = request.find_service(SessionService)
        session = sessions.load(request.cookies.get(SESSION_COOKIE))
        if sessions.expired is not None:
            expired = sessions.expired
            record_after_request(
                request, AuthEventType.SESSION_EXPIRED, login=expired.account.login, account_id=expired.account_id,
                client_address=request.client_address, user_agent=request.user_agent)
        if session is None or session.second_factor_pending:
            return None
        account = session.account
        if account.role == Role.ADMIN and not request.from_admin_network:
            # S-ADMINIP: an admin session is worthless outside the ward's ranges,
            # even with a stolen cookie. Logged every time it is tried.
            record_after_request(
                request, AuthEventType.ADDRESS_REFUSED, login=account.login, account_id=account.id,
                reason=FailureReason.ADDRESS_NOT_ALLOWED, client_address=request.client_address,
                user_agent=request.user_agent)
            return None
        # Captured now, while the database session is open, for the access log.
        request.environ["mimamori.actor"] = {
            "account_id": account.id, "login": account.login, "role": str(account.role),
            "organisation": account.organisation_name,
        }
        return session

    def authenticated_userid(self, request):
        session = self.identity(request)
        return session.account_id if session else None

    def permits(self, request, context, permission):
        session = self.identity(request)
        if session is None:
            return Denied("not logged in")
        account = session.account
        # A page asks 5-7 times (view, menu, badges); the answer is remembered for
        # this request only, keyed by everything it is decided on (not the context:
        # no decision here reads it), so a change within the request (a password
        # changed, a second factor enrolled) is decided afresh.
        key = (permission, session, account.role, account.must_change_password, account.totp_secret,
               account.totp_enrolled_at, request.path)
        decided = request.__dict__.setdefault("_mimamori_permits", {})
        if key not in decided:
            decided[key] = self._decide(request, account, permission)
        return decided[key]

    def _decide(self, request, account, permission):
        # Until a forced password change is done, nothing but the account's own
        # pages (change password, logout) is allowed.
        if account.must_change_password and permission != Permission.ACCOUNT_SELF:
            return Denied("password change required")
        # Likewise until a required second factor is enrolled (the forbidden
        # view sends the user to the enrolment page).
        if permission != Permission.ACCOUNT_SELF and request.find_service(SecondFactorService).needs_enrolment(account):
            return Denied("second factor enrolment required")
        if request.path.startswith("/admin") and not request.from_admin_network:
            return Denied("admin paths only from the ward's address ranges")
        if role_has(account.role, permission):
            return Allowed(f"role {account.role} has {permission}")
        return Denied(f"role {account.role} lacks {permission}")

    def remember(self, request, token, **kw):
        # The CSRF token follows the session id at once (webapp.csrf).
        request.environ[NEW_SESSION_TOKEN] = token
        request.response.set_cookie(
            SESSION_COOKIE,
            token,
            max_age=int(self.absolute.total_seconds()),
            secure=self.secure_cookies,
            httponly=True,
            samesite="Lax",
            path="/",
        )
        return []

    def forget(self, request, **kw):
        request.environ[NEW_SESSION_TOKEN] = None
        request.response.delete_cookie(SESSION_COOKIE, path="/")
        return []


def _account(request):
    session = request.identity
    return session.account if session else None


# Applied to every response. No page uses inline script or style, so the policy
# can be strict; 'form-action self' stops a injected form posting elsewhere.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


def security_headers_tween_factory(handler, registry):
    hsts = as_bool(registry.settings["mimamori.secure_cookies"])

    def tween(request):
        response = handler(request)
        headers = response.headers
        headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("Referrer-Policy", "same-origin")
        if hsts and request.scheme == "https":
            headers.setdefault("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
        # Any dynamic page may show personal data: never let a browser or proxy
        # keep it. Only the static assets are cacheable.
        if not request.path.startswith("/static/"):
            headers["Cache-Control"] = "no-store"
        return response

    return tween


def includeme(config):
    settings = config.get_settings()
    secure = as_bool(settings["mimamori.secure_cookies"])
    idle = dt.timedelta(minutes=int(settings["mimamori.session_idle_minutes"]))
    absolute = dt.timedelta(hours=int(settings["mimamori.session_absolute_hours"]))

    passwords = PasswordService(
        time_cost=int(settings["mimamori.argon2_time_cost"]),
        memory_cost=int(settings["mimamori.argon2_memory_cost"]),
    )
    config.register_service(passwords, PasswordService)
    policy = LoginPolicy(
        lockout_threshold=int(settings["mimamori.lockout_threshold"]),
        lockout_duration=dt.timedelta(minutes=int(settings["mimamori.lockout_minutes"])),
        address=AddressThrottle(
            logins=int(settings["mimamori.address_throttle_logins"]),
            window=dt.timedelta(minutes=int(settings["mimamori.address_throttle_window_minutes"])),
            base_delay=dt.timedelta(seconds=int(settings["mimamori.address_throttle_base_seconds"])),
            max_delay=dt.timedelta(seconds=int(settings["mimamori.address_throttle_max_seconds"])),
        ),
    )
    config.register_service_factory(
        lambda _ctx, request: AuthenticationService(request.db, passwords, request.clock, policy),
        AuthenticationService,
    )
    config.register_service_factory(
        lambda _ctx, request: SessionService(request.db, request.clock, idle, absolute), SessionService
    )

    second_factor_roles = required_roles(settings["mimamori.second_factor_roles"])
    config.register_service_factory(
        lambda _ctx, request: SecondFactorService(
            request.db, request.clock, request.find_service(SessionService), policy,
            settings["mimamori.session_secret"], second_factor_roles),
        SecondFactorService,
    )

    config.set_security_policy(MimamoriSecurityPolicy(secure, absolute))
    config.add_request_method(_account, "account", reify=True)

    # CSRF on every unsafe request: a token bound to the session, and our own
    # Origin check (Pyramid's trusts the Host header and skips plain http).
    config.set_csrf_storage_policy(
        SessionBoundCSRFStoragePolicy(SESSION_COOKIE, settings["mimamori.session_secret"], secure))
    config.set_default_csrf_options(require_csrf=True, check_origin=False)
    config.registry["csrf.trusted_origins"] = trusted_origins(settings)
    # Checked just before the token, after the permission check.
    config.add_view_deriver(origin_checked_view, under="secured_view", over="csrf_view")
    # Over the exception view tween, so error pages get the headers too.
    config.add_tween("webapp.security.security_headers_tween_factory", over=EXCVIEW)
