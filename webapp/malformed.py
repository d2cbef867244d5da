"""Requests whose bytes are not UTF-8 get the application's 400 page, never a 500.

WebOb decodes the path, the query string and form bodies as UTF-8 when they
are first read, and raises if they are not: in a view, in the access log
(which records the path) and again in the error page itself (the layout reads
``request.params`` and ``request.path_qs``), so the answer ended as a bare
server error without our headers.

NUL characters (``%00`` or a raw 0x00) are dropped from a form body the same
way, before anyone reads it: no text the app keeps or looks up can hold one
(PostgreSQL refuses it in a text value, so a facility code ending in NUL on
POST /children/new was a 500), no keyboard types one, and dropping it keeps the
rest of what was typed. Query strings are left to their readers, which already
refuse a NUL where it matters (``next``) or drop it (the search boxes); a
multipart body to its view: an uploaded file is the import's to judge.

The outer tween runs before anything reads the request: it replaces what
cannot be decoded (the path's bad bytes by U+FFFD, an undecodable query or
body by nothing) so every later reader sees text, and marks the request. The
inner tween, inside the exception view, then refuses the marked request with
HTTPBadRequest, which the application renders as its own Japanese page (and
the access log records as 400).
"""

from __future__ import annotations

import re
from urllib.parse import unquote_to_bytes

from pyramid.httpexceptions import HTTPBadRequest
from pyramid.events import ContextFound
from pyramid.tweens import INGRESS

MALFORMED = "mimamori.malformed"
_FORM = "application/x-www-form-urlencoded"


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


# Runs of bytes >= 0x80, escaped or raw. A UTF-8 character is made of such bytes
# only, so the text is UTF-8 if and only if each maximal run is. (A regex and
# bytes.fromhex, not unquote_to_bytes, which takes seconds on a 1 MB body.)
_HIGH_BYTES = re.compile(rb"(?:%[89A-Fa-f][0-9A-Fa-f]|[\x80-\xff])+")


def _query_is_utf8(text: str) -> bool:
    """A URL-encoded string (query or form body) whose decoded bytes are UTF-8."""
    try:
        data = text.encode("latin-1")
    except UnicodeEncodeError:  # not even latin-1: a WSGI string cannot hold this
        return False
    for run in _HIGH_BYTES.finditer(data):
        escaped = run.group()
        if len(escaped) == 3 * escaped.count(b"%"):  # escapes only, the usual case
            raw = bytes.fromhex(escaped.replace(b"%", b"").decode("ascii"))
        else:
            raw = unquote_to_bytes(escaped)
        if not _is_utf8(raw):
            return False
    return True


# Every literal "%" is itself escaped (%25), so "%00" can only be an escaped NUL.
_NUL = re.compile(r"%00|\x00")


def _repair(request) -> bool:
    """Make the request readable; True if something had to be dropped or replaced."""
    environ = request.environ
    malformed = False
    raw_path = environ.get("PATH_INFO", "").encode("latin-1", "replace")
    if not _is_utf8(raw_path):
        environ["PATH_INFO"] = raw_path.decode("utf-8", "replace").encode("utf-8").decode("latin-1")
        malformed = True
    if not _query_is_utf8(environ.get("QUERY_STRING", "")):
        environ["QUERY_STRING"] = ""
        malformed = True
    if request.method == "POST" and request.content_length:
        if request.content_type == _FORM:
            body = request.body.decode("latin-1")
            if _NUL.search(body):
                body = _NUL.sub("", body)
                request.body = body.encode("latin-1")
            readable = _query_is_utf8(body)
        else:
            try:
                request.POST  # noqa: B018  (multipart: parsed, and its text decoded, now)
                readable = True
            except (UnicodeDecodeError, ValueError):
                readable = False
        if not readable:
            request.body = b""
            malformed = True
    return malformed


def repair_tween_factory(handler, registry):
    def tween(request):
        if _repair(request):
            request.environ[MALFORMED] = True
        return handler(request)

    return tween


def refuse_malformed(event) -> None:
    # On ContextFound, not in a tween: the error page's layout asks for
    # permissions, which needs the request's context.
    if event.request.environ.get(MALFORMED):
        raise HTTPBadRequest()


def includeme(config):
    config.add_tween("webapp.malformed.repair_tween_factory", under=INGRESS)
    config.add_subscriber(refuse_malformed, ContextFound)
