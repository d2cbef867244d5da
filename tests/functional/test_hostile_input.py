"""Hostile input on every route, for every role: never a 500, always the app's own answer.

The routes come from the Pyramid introspector and the parameter names from the
application's own sources (what views read, what templates post), so a new
route or field is attacked without anyone editing this file. Each request:

- answers 2xx, 3xx or 4xx;
- has the security headers of webapp.security on every answer, and headers a
  server can write (latin-1, no CR/LF/NUL; a Location in ASCII): waitress
  answers a header it cannot encode with its own bare error page, after the
  application has already committed;
- renders an HTML answer with the application's layout (not Pyramid's or
  waitress's generic error page);
- when refused (4xx), writes nothing: the row count of every table is the
  same afterwards, except the access log (every request is logged) and the
  authentication events (a refused login is itself an event that must be
  recorded, S-ACCESSLOG). The change chain may grow by "view" records only:
  a 400 page that still shows children (a bad date in the attendance day's
  picker) must say who saw them (S-AUDIT).

Two tests share the checks: a sweep that sends every route, method and role
a hostile request (so "every route × every role" is a guarantee, not a
probability), and a Hypothesis property that explores combinations of values,
repeated parameters and wrong types from a fixed seed.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
import pathlib
import re
from urllib.parse import quote

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from webtest import TestApp

import webapp
import webapp.all_models  # noqa: F401  (every table in the metadata)
from tests.conftest import csrf_token
from tests.factories import PASSWORD
from webapp.audit.models import AuditRecord
from webapp.authz import Role
from webapp.db import Base
from webapp.security import CONTENT_SECURITY_POLICY

ENVIRON = {"wsgi.url_scheme": "https", "HTTP_HOST": "localhost", "HTTP_ORIGIN": "https://localhost",
           "REMOTE_ADDR": "192.0.2.10"}
ROLES = ["anonymous", *(role.value for role in Role)]
LONG = "x" * 100_000
LONG_JAPANESE = "あ" * 100_000
# Written by every request, refused or not (see the module docstring).
EXPECTED_WRITES = {"access_log", "auth_events"}
# The application's own layout (base.html): every HTML page it renders has it.
LAYOUT_MARK = 'class="skip-link"'
CSRF_REFUSAL = "送信を受け付けられませんでした"  # errors/csrf.html

HOSTILE = [
    "0001-01-01", "9999-12-31", "0001-01", "9999-12", "2026-02-29", "2026-13-01", "2026-11-26", "2026-11",
    "/あ", "あ", "\r\n", "/\n/evil", "/\r\nSet-Cookie: x=1", "\x00", "a\x00b", "\x1b[31m", "\u202e", "\ufeff",
    "-1", "0", "2147483648", "99999999999999999999", "-99999999999999999999", "１２３", "1e309", "nan", "inf",
    "", " ", "//evil.example/", "/\\evil.example", "https://evil.example/", "%", "' OR '1'='1",
    "<script>alert(1)</script>", "{{7*7}}", "true", "on", "null", "[]", "current", "csv", "../../etc/passwd",
    LONG, LONG_JAPANESE,
]
# In a URL: waitress refuses a request line over 256 KB, so 100,000 Japanese
# characters (900 KB encoded) never reach the application there; in a form they do.
IN_URL = [value for value in HOSTILE if value is not LONG_JAPANESE]
# Path ids: the world's, the edges of a database integer, and beyond.
HOSTILE_IDS = ["0", "1", "000001", "2147483647", "2147483648", "99999999999999999999999"]
# Bytes that are not UTF-8 and encodings that are not what they claim.
RAW_QUERY = ["", "next=%2F%E3%81%82", "next=%2F%0A%2Fevil", "&&&", "=x", "a", "q=%00", "next=%2F%2Fevil.example"]
NOT_UTF8_QUERY = ["%FF=1", "next=%FF", "a=%C3%28"]
RAW_SEGMENTS = ["%00", "%2F", "%E3%81%82", "%25", "%0D%0A"]
# Not UTF-8 in the path: WebTest's cookie jar cannot build such a request, so
# test_paths_that_are_not_utf8 sends these through WebOb directly.
NOT_UTF8_SEGMENTS = ["%FF", "%C3%28", "%ED%A0%80"]


def _parameter_names() -> list[str]:
    """Every query/form field name the application reads or its templates post."""
    root = pathlib.Path(webapp.__file__).parent
    names = set()
    reads = [
        r'(?:params|GET|POST|post|data|query)\.(?:get|getall|getone)\(\s*"([A-Za-z_][\w.-]*)"',
        r'(?:params|GET|POST|post|data)\[\s*"([A-Za-z_][\w.-]*)"\s*\]',
        r'(?:query_text|field)\(\s*[\w.]+,\s*"([A-Za-z_][\w-]*)"',
        r'\b(?:\.field|take)\(\s*"([A-Za-z_][\w-]*)"',
    ]
    for path in root.rglob("*.py"):
        if "migrations" in path.parts or "manuals" in path.parts:
            continue
        text = path.read_text(encoding="utf-8")
        for pattern in reads:
            names.update(re.findall(pattern, text))
    for path in (root / "templates").rglob("*.html"):
        names.update(re.findall(r'name="([A-Za-z_][\w.-]*)"', path.read_text(encoding="utf-8")))
    names.discard("csrf_token")  # always sent valid, so the request reaches the view
    names.discard("viewport")  # <meta name=...>
    return sorted(names)


PARAMETERS = _parameter_names()


@dataclasses.dataclass(frozen=True)
class Route:
    name: str
    pattern: str
    placeholders: tuple[tuple[str, str], ...]  # (name, regex or "" for any segment)
    methods: tuple[str, ...]


_PLACEHOLDER = re.compile(r"\{(\w+)(?::((?:[^{}]|\{[^{}]*\})*))?\}|\*(\w+)$")


def _routes(registry) -> list[Route]:
    introspector = registry.introspector
    methods: dict[str, set[str]] = {}
    for view in introspector.get_category("views"):
        intr = view["introspectable"]
        name = intr["route_name"]
        if name is None:
            continue
        declared = intr["request_methods"]
        if declared is None:
            methods.setdefault(name, set()).update({"GET", "POST"})
        else:
            methods.setdefault(name, set()).update({declared} if isinstance(declared, str) else declared)
    routes = []
    for item in introspector.get_category("routes"):
        intr = item["introspectable"]
        pattern = intr["pattern"]
        placeholders = tuple((m.group(1) or m.group(3), m.group(2) or "") for m in _PLACEHOLDER.finditer(pattern))
        found = methods.get(intr["name"], {"GET"}) & {"GET", "POST"}
        routes.append(Route(intr["name"], pattern, placeholders, tuple(sorted(found or {"GET"}))))
    return sorted(routes, key=lambda r: r.name)


@dataclasses.dataclass(frozen=True)
class Hostile:
    """One request: where, as whom, and with what."""
    route: str
    method: str
    role: str
    path: tuple[tuple[str, str], ...] = ()  # placeholder -> already-encoded segment
    query: tuple[tuple[str, str], ...] = ()
    raw_query: str = ""
    form: tuple[tuple[str, str], ...] = ()
    upload: str | None = None  # a field sent as a file (the wrong type for a text field)


class Clients:
    """One logged-in WebTest client per role (anonymous has none), re-logged in when a
    request ended its session (logout, or a login on the anonymous client)."""

    def __init__(self, wsgi_app, accounts):
        self.wsgi_app = wsgi_app
        self.accounts = accounts
        self.clients: dict[str, TestApp] = {}
        self.stale: set[str] = set(ROLES)
        self.tokens: dict[str, str] = {}  # role -> a valid CSRF token for its client

    def get(self, role: str) -> TestApp:
        if role not in self.clients:
            self.clients[role] = TestApp(self.wsgi_app, extra_environ=dict(ENVIRON))
        client = self.clients[role]
        if role in self.stale:
            client.reset()
            form = client.get("/login").forms[0]
            self.tokens[role] = form["csrf_token"].value  # bound to the pre-login id
            if role != "anonymous":
                form["login"] = self.accounts[role].login
                form["password"] = PASSWORD
                assert form.submit().status_int == 303
                self.tokens[role] = csrf_token(client)  # bound to the new session
            self.stale.discard(role)
        return client

    def answered(self, role: str, response) -> None:
        if any("mimamori_session=" in value for name, value in response.headerlist if name == "Set-Cookie"):
            self.stale.add(role)


def _encode(pairs) -> str:
    return "&".join(f"{quote(name, safe='')}={quote(value, safe='')}" for name, value in pairs)


def _url(routes: dict[str, Route], case: Hostile) -> str:
    route = routes[case.route]
    segments = dict(case.path)
    url = "/" + route.pattern.lstrip("/")
    for match in reversed(list(_PLACEHOLDER.finditer(url))):
        name = match.group(1) or match.group(3)
        url = url[:match.start()] + segments.get(name, "1") + url[match.end():]
    query = "&".join(part for part in (_encode(case.query), case.raw_query) if part)
    return url + ("?" + query if query else "")


def _count(table, *where):
    return sa.select(sa.func.count()).select_from(table).where(*where).scalar_subquery()


# Every table's row count in one statement (this runs twice per request).
COUNTS = sa.select(*(
    (_count(AuditRecord, AuditRecord.action != "view") if table.name == "audit_records" else _count(table))
    .label(table.name)
    for table in Base.metadata.sorted_tables if table.name not in EXPECTED_WRITES
))


def _counts(connection) -> dict:
    return dict(connection.execute(COUNTS).one()._mapping)


def send(world, case: Hostile):
    client = world.clients.get(case.role)
    url = _url(world.routes, case)
    before = _counts(world.connection)
    if case.method == "GET":
        response = client.get(url, status="*", expect_errors=True)
    else:
        form = [("csrf_token", world.clients.tokens[case.role]), *case.form]
        if case.upload is not None:
            response = client.post(url, params=form, upload_files=[(case.upload, "x.csv", b"=1+1\r\n\x00\xff")],
                                   status="*", expect_errors=True)
        else:
            response = client.post(url, params=_encode(form).encode("ascii"),
                                   content_type="application/x-www-form-urlencoded", status="*", expect_errors=True)
    world.clients.answered(case.role, response)
    check(world, case, url, response, before)
    return response


def check(world, case: Hostile, url: str, response, before) -> None:
    where = f"{case.method} {url[:300]!r} as {case.role}"
    assert 200 <= response.status_int < 500, f"{where}: {response.status} {response.text[:300]!r}"
    for name, value in response.headerlist:
        value.encode("latin-1")  # what waitress can write; anything else becomes its bare error
        assert not re.search(r"[\r\n\x00]", value), f"{where}: header {name}: {value[:200]!r}"
    if "Location" in response.headers:
        assert response.headers["Location"].isascii(), f"{where}: {response.headers['Location'][:200]!r}"
    headers = response.headers
    assert headers.get("Content-Security-Policy") == CONTENT_SECURITY_POLICY, where
    assert headers.get("X-Content-Type-Options") == "nosniff", where
    assert headers.get("X-Frame-Options") == "DENY", where
    assert headers.get("Referrer-Policy") == "same-origin", where
    if not url.startswith("/static/"):
        assert headers.get("Cache-Control") == "no-store", where
    if response.content_type == "text/html" and not 300 <= response.status_int < 400:
        assert LAYOUT_MARK in response.text, f"{where}: not the app's own page: {response.text[:300]!r}"
    if case.method == "POST":  # the token was valid: the request reached the view (or its refusal)
        assert CSRF_REFUSAL not in response.text, f"{where}: refused as CSRF, the test's token is wrong"
    if response.status_int >= 400:
        after = _counts(world.connection)
        changed = {table: (before[table], after[table]) for table in before if before[table] != after[table]}
        assert not changed, f"{where}: refused with {response.status} but wrote {changed}"


# --- The world the requests are made in ----------------------------------------------------------


@dataclasses.dataclass
class World:
    connection: object
    clients: Clients
    routes: dict[str, Route]
    ids: list[str]
    real_ids: dict[str, str]  # placeholder name -> an existing object's id


@pytest.fixture
def world(wsgi_app, app, db, make, connection):
    centre = make.centre()
    facility = make.facility(centre=centre)
    child = make.child(facility=facility)
    report = make.report(child, dt.date(2026, 10, 1))
    alert = make.alert(child)
    accounts = {
        "facility": make.account("facility", facility=facility),
        "caseworker": make.account("caseworker", centre=centre),
        "admin": make.account("admin"),
        "auditor": make.account("auditor"),
    }
    victim = make.account("facility", facility=facility)  # an account id admins' forms may act on
    db.commit()
    ids = sorted({str(i) for i in (centre.id, facility.id, child.id, report.id, alert.id, victim.id)})
    routes = {route.name: route for route in _routes(wsgi_app.registry)}
    real_ids = {"centre_id": centre.id, "facility_id": facility.id, "child_id": child.id, "report_id": report.id,
                "alert_id": alert.id, "account_id": victim.id, "number": 1}
    return World(connection, Clients(wsgi_app, accounts), routes, ids + HOSTILE_IDS,
                 {name: str(value) for name, value in real_ids.items()})


def _segment_for(world: World, name: str, regex: str, value: str, n: int) -> str:
    """A hostile value for a path placeholder; an id placeholder gets a real id two times in
    three (so the request reaches the view with its hostile query and form), else a hostile one."""
    if regex.startswith(r"\d"):
        return world.real_ids.get(name, "1") if n % 3 else HOSTILE_IDS[n % len(HOSTILE_IDS)]
    if n % 7 == 6:
        return RAW_SEGMENTS[n % len(RAW_SEGMENTS)]
    return quote(value, safe="")


# --- Every route, every method, every role ------------------------------------------------------


SHORT = [value for value in HOSTILE if len(value) < 1000]


@pytest.mark.req("S-WEB", "S-ACCESSLOG", "S-AUDIT", "F-UI")
def test_every_route_and_role_answers_hostile_requests_without_error(world):
    counter = itertools.count()
    sent = set()
    for route in world.routes.values():
        for method, role in itertools.product(route.methods, ROLES):
            n = next(counter)
            value = IN_URL[n % len(IN_URL)]
            path = tuple((name, _segment_for(world, name, regex, value, n)) for name, regex in route.placeholders)
            names = [PARAMETERS[(n * 3 + k) % len(PARAMETERS)] for k in range(3)]
            query = ((names[0], value), (names[1], SHORT[(n + 1) % len(SHORT)]), (names[1], "2"))
            form = ()
            if method == "POST":  # every field the app knows, each with a hostile value, one of them long
                form = tuple((name, SHORT[(n + k) % len(SHORT)]) for k, name in enumerate(PARAMETERS))
                form += ((names[2], LONG_JAPANESE if n % 10 == 0 else LONG),)
            raw_query = RAW_QUERY[n % len(RAW_QUERY)] if n % 11 else NOT_UTF8_QUERY[n % len(NOT_UTF8_QUERY)]
            case = Hostile(route.name, method, role, path, query, raw_query, form,
                           upload=names[2] if method == "POST" and n % 5 == 0 else None)
            send(world, case)
            sent.add((route.name, method, role))
    assert len(sent) == sum(len(r.methods) for r in world.routes.values()) * len(ROLES)
    assert {"locale", "login", "attendance.day", "centre.attendance_day", "logout"} <= {r for r, _m, _o in sent}


@pytest.mark.req("S-WEB", "F-UI")
def test_paths_that_are_not_utf8(world):
    from webob import Request

    for role in ("anonymous", "facility"):
        client = world.clients.get(role)
        cookie = "; ".join(f"{name}={value}" for name, value in client.cookies.items())
        for route in world.routes.values():
            for n, segment in enumerate(NOT_UTF8_SEGMENTS):
                case = Hostile(route.name, "GET", role, tuple((name, segment) for name, _regex in route.placeholders),
                               raw_query=NOT_UTF8_QUERY[n])
                url = _url(world.routes, case)
                before = _counts(world.connection)
                request = Request.blank(url, environ=dict(ENVIRON), headers={"Cookie": cookie})
                check(world, case, url, request.get_response(world.clients.wsgi_app), before)


# --- Hypothesis: combinations ----------------------------------------------------------------------


url_values = st.one_of(
    st.sampled_from(IN_URL),
    st.text(max_size=40),
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.dates().map(dt.date.isoformat),
    st.dates().map(lambda d: f"{d.year:04d}-{d.month:02d}"),
)
hostile_values = st.one_of(url_values, st.just(LONG_JAPANESE))


def pairs(values):
    return st.lists(st.tuples(st.sampled_from(PARAMETERS), values), max_size=4)


@st.composite
def hostile_requests(draw, routes: dict[str, Route], ids: list[str]):
    route = routes[draw(st.sampled_from(sorted(routes)))]
    method = draw(st.sampled_from(route.methods))
    role = draw(st.sampled_from(ROLES))
    path = []
    for name, regex in route.placeholders:
        if regex.startswith(r"\d"):
            segment = draw(st.one_of(st.sampled_from(ids), st.integers(0, 10**30).map(str)))
        else:
            segment = draw(st.one_of(url_values.map(lambda v: quote(v, safe="")), st.sampled_from(RAW_SEGMENTS)))
        path.append((name, segment))
    query = draw(pairs(url_values))
    if query and draw(st.booleans()):  # the same parameter twice, with two values
        query = [*query, (query[0][0], draw(url_values))]
    form = draw(pairs(hostile_values)) if method == "POST" else []
    upload = draw(st.none() | st.sampled_from(PARAMETERS)) if method == "POST" else None
    return Hostile(route.name, method, role, tuple(path), tuple(query), draw(st.sampled_from(RAW_QUERY + NOT_UTF8_QUERY)),
                   tuple(form), upload)


# The cases an attacker's tests found (issue #20): each stays a fixed example.
KNOWN = [  # (request, the status it must get)
    (Hostile("locale", "GET", "anonymous", (("code", "en"),), (("next", "/あ"),)), 303),
    (Hostile("locale", "GET", "facility", (("code", "en"),), (("next", "/\n/evil"),)), 303),
    (Hostile("locale", "GET", "anonymous", (("code", "ja"),), raw_query="next=%2F%E3%81%82"), 303),
    (Hostile("login", "POST", "anonymous", form=(("login", "{facility}"), ("password", PASSWORD), ("next", "/あ"))), 303),
    (Hostile("login", "POST", "anonymous", form=(("login", "{facility}"), ("password", PASSWORD), ("next", "/\n/evil"))), 303),
    (Hostile("attendance.day", "GET", "admin", (("facility_id", "{facility_id}"), ("day", "9999-12-31"))), 404),
    (Hostile("attendance.day", "GET", "facility", (("facility_id", "{facility_id}"), ("day", "0001-01-01"))), 404),
    (Hostile("attendance.day", "GET", "admin", (("facility_id", "{facility_id}"), ("day", "2026-11-26")),
            (("goto", "9999-12-31"),)), 400),
    (Hostile("centre.attendance_day", "GET", "caseworker", (("facility_id", "{facility_id}"), ("day", "9999-12-31"))), 404),
    (Hostile("centre.attendance_day", "GET", "caseworker", (("facility_id", "{facility_id}"), ("day", "0001-01-01"))), 404),
    # Found by the sweep: an id beyond a database integer overflowed in the admin's account pages.
    (Hostile("admin.account_edit", "GET", "admin", (("account_id", "99999999999999999999999"),)), 404),
    (Hostile("admin.account_reset", "POST", "admin", (("account_id", "2147483648"),)), 404),
    # Found by the sweep: a query, path or form that is not UTF-8 broke even the error page.
    (Hostile("children.list", "GET", "caseworker", raw_query="q=%FF"), 400),
    (Hostile("login", "GET", "anonymous", raw_query="next=%C3%28"), 400),
]
KNOWN_CASES = [case for case, _status in KNOWN]


def _resolve(world: World, case: Hostile) -> Hostile:
    """Fill the world's ids and logins into a fixed example."""
    facility = world.clients.accounts["facility"]
    names = {"{facility}": facility.login, "{facility_id}": str(facility.facility_id)}
    fill = lambda pairs: tuple((k, names.get(v, v)) for k, v in pairs)  # noqa: E731
    return dataclasses.replace(case, path=fill(case.path), form=fill(case.form))


@pytest.mark.req("S-WEB", "S-ACCESSLOG", "S-AUDIT", "F-UI")
@pytest.mark.parametrize(("case", "status"), KNOWN, ids=[f"{c.method}-{c.route}-{c.role}-{n}" for n, (c, _s) in enumerate(KNOWN)])
def test_known_hostile_cases(world, case, status):
    response = send(world, _resolve(world, case))
    assert response.status_int == status


@pytest.mark.req("S-WEB", "S-ACCESSLOG", "S-AUDIT", "F-UI")
def test_hostile_requests_property(world):
    @settings(max_examples=250, derandomize=True, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(case=hostile_requests(world.routes, world.ids))
    @example(case=KNOWN_CASES[0])
    @example(case=KNOWN_CASES[3])
    @example(case=KNOWN_CASES[5])
    def run(case):
        send(world, _resolve(world, case))

    run()



@pytest.mark.req("S-WEB", "F-UI")
def test_a_nul_in_a_form_field_is_dropped_not_a_server_error(world):
    # Found by the property test on PostgreSQL: a facility code "\x00" reached a
    # lookup, and PostgreSQL refuses NUL in a text value (500). The form now sees
    # the code without it: an unknown code, answered with the form's own error.
    case = Hostile(route="children.new", method="POST", role="admin", path=(), query=(), raw_query="",
                   form=(("facility_code", "\x00"),), upload=None)
    send(world, _resolve(world, case))
