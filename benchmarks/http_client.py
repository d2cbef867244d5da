"""A minimal browser-like HTTP/1.1 client for the benchmarks: keep-alive, cookies, forms.

http.client rather than a library, so the client's own cost is small and
the same for the application and the baseline.
"""

from __future__ import annotations

import contextlib
import http.client
import re
import socket
import time
import urllib.parse
from http.cookies import SimpleCookie

from webapp.demo import DEMO_PASSWORD

_INPUT = re.compile(r"<input\b[^>]*>", re.S)
_ATTR = re.compile(r'(\w+)="([^"]*)"')


def free_port() -> int:
    with contextlib.closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Client:
    """One user: one keep-alive connection and its cookies. Not thread-safe; one per thread."""

    def __init__(self, port: int):
        self.port = port
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, form: dict | None = None):
        """Returns (status, headers, body text, seconds from sending to the last byte)."""
        headers = {"Host": f"127.0.0.1:{self.port}"}
        if method not in ("GET", "HEAD"):
            # As a browser does: the app refuses unsafe requests from other origins (webapp.csrf).
            headers["Origin"] = f"http://127.0.0.1:{self.port}"
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        started = time.perf_counter()
        try:
            self.connection.request(method, path, body=body, headers=headers)
        except (BrokenPipeError, ConnectionResetError):
            # waitress closes a keep-alive connection idle past its channel_timeout
            # (120 s): on a loaded machine, preparing other users' drafts can take
            # that long. Nothing was sent, so sending on a new connection is safe.
            self.connection.close()
            started = time.perf_counter()
            self.connection.request(method, path, body=body, headers=headers)
        response = self.connection.getresponse()
        data = response.read()
        seconds = time.perf_counter() - started
        for header in response.headers.get_all("Set-Cookie") or []:
            cookie = SimpleCookie()
            cookie.load(header)
            for name, morsel in cookie.items():
                if morsel["max-age"] == "0" or not morsel.value:
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value
        return response.status, response.headers, data.decode("utf-8", "replace"), seconds

    def form(self, path: str) -> dict:
        """The hidden and text inputs of the form posting to ``path`` on the page at ``path``."""
        status, _headers, page, _seconds = self.request("GET", path)
        assert status == 200, (path, status)
        start = page.index(f'action="http://127.0.0.1:{self.port}{path}"')
        end = page.index("</form>", start)
        values = {}
        for tag in _INPUT.findall(page[start:end]):
            attrs = dict(_ATTR.findall(tag))
            if "name" in attrs and attrs.get("type", "text") in ("hidden", "text"):
                values[attrs["name"]] = attrs.get("value", "")
        return values

    def login(self, login: str, password: str = DEMO_PASSWORD) -> None:
        status, _h, page, _s = self.request("GET", "/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        status, headers, body, _s = self.request(
            "POST", "/login", {"csrf_token": token, "login": login, "password": password, "next": ""})
        assert status == 303 and "/login" not in headers["Location"], (login, status, body[:300])
