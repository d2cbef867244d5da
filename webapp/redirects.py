"""Where a ``next`` parameter may send the browser: a path of this site, nothing else.

Every ``next`` (login, the second factor step, the language switch) goes
through :func:`safe_redirect_target`. It refuses, and falls back to the home
page, anything that could leave the site or break the response:

- absolute URLs and protocol-relative ``//host`` (open redirect), and a
  backslash, which browsers read as ``/`` (``/\\host``);
- control characters: CR/LF would split the ``Location`` header (WebOb
  refuses them with an exception, a 500), browsers drop tab and newline
  inside URLs (``/\\n/evil`` becomes ``//evil``), NUL has no place in a path;
- anything over MAX_LENGTH characters, and text that is not valid Unicode.

What it keeps it percent-encodes: a ``Location`` header must be ASCII
(waitress cannot write ``/あ`` and answers with its own bare error page after
the application has already committed), so ``/あ`` becomes ``/%E3%81%82``;
existing ``%xx`` escapes and URL punctuation are left alone.
"""

from __future__ import annotations

import re
from urllib.parse import quote, urlsplit

MAX_LENGTH = 2000
# C0 controls, DEL and the C1 controls (U+0080..U+009F).
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
# Reserved and unreserved URL characters plus "%" itself are kept as they are.
_KEEP = "!#$%&'()*+,/:;=?@[]~"


def same_site_path(target) -> str | None:
    """``target`` as an ASCII path of this site (``/...``), or None if it is not one."""
    if not isinstance(target, str) or not target or len(target) > MAX_LENGTH:
        return None
    if not target.startswith("/") or target.startswith("//") or "\\" in target or _CONTROL.search(target):
        return None
    try:
        encoded = quote(target, safe=_KEEP)
    except UnicodeEncodeError:  # a lone surrogate: not text a browser sent on purpose
        return None
    parts = urlsplit(encoded)
    if parts.scheme or parts.netloc:
        return None
    return encoded


def safe_redirect_target(request, target) -> str:
    """Where to send the browser for ``next=target``: the path, or the home page."""
    return same_site_path(target) or request.route_url("home")
