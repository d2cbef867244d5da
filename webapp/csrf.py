"""CSRF (S-WEB): a token bound to the login session, and the Origin check.

The token is a synchronizer token without a table of its own: an HMAC, under
the session secret, of the session cookie's random token. Only the server can
compute it, it is different for every session, and it changes whenever the
session id does (at login, at the second factor, at logout), so a planted
cookie/field pair or a token from another session is worthless. Before login
the same is done with a random pre-login id in its own cookie, so the login
form is protected too (login CSRF).

Independently of the token, every unsafe request must come from one of our
own origins: ``Origin``, or ``Referer`` when a browser sends no Origin. The
trusted origins come from settings (``mimamori.public_url`` and
``mimamori.trusted_origins``), never from the request's Host or
X-Forwarded-* headers. A request with neither header is refused: every
browser we support sends Origin on a form POST, and our Referrer-Policy
(same-origin) keeps Referer for our own pages, so only non-browser clients
arrive without, and those can send the header (OWASP, "Verifying Origin
With Standard Headers").
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from urllib.parse import urlsplit

from pyramid.exceptions import BadCSRFOrigin
from pyramid.interfaces import ICSRFStoragePolicy
from zope.interface import implementer

from webapp.settings import SettingsError, as_list

PRE_LOGIN_COOKIE = "mimamori_csrf"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
# What secrets.token_urlsafe(32) produces; anything else in the cookie is replaced.
_PRE_LOGIN_ID = re.compile(r"[A-Za-z0-9_-]{43}")
# Set on the request by the security policy's remember()/forget(): the session
# the response is about to hand out (None after a logout) wins over the cookie
# the request came with, so a page rendered right after a login or a rotation
# carries tokens for the new session.
NEW_SESSION_TOKEN = "mimamori.new_session_token"


@implementer(ICSRFStoragePolicy)
class SessionBoundCSRFStoragePolicy:
    def __init__(self, session_cookie: str, secret: str, secure: bool):
        self.session_cookie = session_cookie
        self.key = hashlib.sha256(b"mimamori-csrf\0" + secret.encode()).digest()
        self.secure = secure

    def _binding(self, request) -> str:
        if NEW_SESSION_TOKEN in request.environ:
            session_token = request.environ[NEW_SESSION_TOKEN]
        else:
            session_token = request.cookies.get(self.session_cookie)
        if session_token and len(session_token) <= 100:
            return "session:" + session_token
        pre_login = request.cookies.get(PRE_LOGIN_COOKIE, "")
        if not _PRE_LOGIN_ID.fullmatch(pre_login):
            pre_login = self._new_pre_login_id(request)
        return "pre-login:" + pre_login

    def _new_pre_login_id(self, request) -> str:
        value = secrets.token_urlsafe(32)
        request.cookies[PRE_LOGIN_COOKIE] = value

        def set_cookie(_request, response):
            response.set_cookie(PRE_LOGIN_COOKIE, value, secure=self.secure, httponly=True,
                                samesite="Lax", path="/")

        request.add_response_callback(set_cookie)
        return value

    def get_csrf_token(self, request) -> str:
        digest = hmac.new(self.key, self._binding(request).encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")

    def new_csrf_token(self, request) -> str:
        """A new pre-login id; a session's token changes with the session id itself."""
        self._new_pre_login_id(request)
        return self.get_csrf_token(request)

    def check_csrf_token(self, request, supplied_token) -> bool:
        expected = self.get_csrf_token(request)
        return hmac.compare_digest(expected.encode(), str(supplied_token or "").encode("utf-8", "replace"))


def origin_of(url: str | None) -> str | None:
    """``scheme://host[:port]`` of a URL, lower case, default port left out; None if it has none."""
    try:
        parts = urlsplit((url or "").strip())
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    if port is None or port == {"http": 80, "https": 443}[parts.scheme]:
        return f"{parts.scheme}://{host}"
    return f"{parts.scheme}://{host}:{port}"


def trusted_origins(settings) -> frozenset[str]:
    urls = [settings["mimamori.public_url"], *as_list(settings.get("mimamori.trusted_origins", ""))]
    origins = {origin_of(url) for url in urls}
    if None in origins:
        raise SettingsError(f"mimamori.public_url and mimamori.trusted_origins must be http(s) URLs, got {urls!r}")
    return frozenset(origins)


def request_origin(request) -> str | None:
    """Where the browser says the request comes from: Origin, else Referer's origin."""
    origin = request.headers.get("Origin")
    if origin is not None:
        # "null" (sandboxed frames, some redirects) is no origin of ours.
        return origin_of(origin)
    return origin_of(request.referrer)


def origin_checked_view(view, info):
    """A view deriver: every view's unsafe requests must come from a trusted origin.

    A deriver rather than a tween so that, like Pyramid's token check, it runs
    once the route and context are known and the error page can be rendered
    as any other page.
    """
    if info.exception_only:
        return view
    trusted = info.registry["csrf.trusted_origins"]

    def checked(context, request):
        if request.method not in SAFE_METHODS:
            origin = request_origin(request)
            if origin is None:
                raise BadCSRFOrigin("unsafe request without a usable Origin or Referer")
            if origin not in trusted:
                raise BadCSRFOrigin(f"unsafe request from foreign origin {origin}")
        return view(context, request)

    return checked
