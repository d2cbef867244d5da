"""What became of one request of a drill's request loop (labkit.RequestLoop):
measured, not guessed. Pure functions, no lab and no requests needed, so
tests/unit/test_lab_loopcheck.py runs them in ci/test.

A request the site refused fails the drill: an HTTP status other than 200, a
refused or reset connection, a TLS error. A request the *client* gave up on
(a timeout) is only pending: on a loaded control machine the client can be
too slow to read an answer the site gave. Each request carries a unique id in
its query string (``?lab-req=ID``); HAProxy's access log on lb1/lb2 (option
httplog) shows whether a timed-out request arrived and what status the site
gave it. Answered there with a status below 500: the client was slow, not the
site. Not in the log, or a 5xx/aborted answer: a failed request.
"""

from __future__ import annotations

import dataclasses
import re

ID_PARAM = "lab-req"
_ID = re.compile(ID_PARAM + r"=([A-Za-z0-9_.-]+)")

# Outcomes of one request, as the client saw it.
OK = "ok"
HTTP_ERROR = "http-error"   # an answer, but not 200
TLS_ERROR = "tls-error"
REFUSED = "refused"         # connection refused (nothing listening on the VIP)
RESET = "reset"             # connection reset or closed without an answer
CONNECT_TIMEOUT = "connect-timeout"
READ_TIMEOUT = "read-timeout"
OTHER_ERROR = "error"
TIMEOUTS = (CONNECT_TIMEOUT, READ_TIMEOUT)

# Most specific first: requests' SSLError and ConnectTimeout are also
# ConnectionErrors, and urllib3 2's NewConnectionError (a refused connection)
# is a subclass of ConnectTimeoutError, so the wrapped exceptions are matched
# by their own class name only, and what the socket said wins over timeouts.
_KINDS = (
    (TLS_ERROR, ("SSLError", "SSLCertVerificationError", "SSLZeroReturnError", "SSLEOFError",
                 "CertificateError")),
    (REFUSED, ("ConnectionRefusedError",)),
    (RESET, ("ConnectionResetError", "ConnectionAbortedError", "BrokenPipeError",
             "RemoteDisconnected", "ProtocolError", "ChunkedEncodingError", "IncompleteRead")),
    (CONNECT_TIMEOUT, ("ConnectTimeout", "ConnectTimeoutError")),
    (READ_TIMEOUT, ("ReadTimeout", "ReadTimeoutError", "TimeoutError", "timeout")),
)


def _chain(exc: BaseException):
    """The exception and everything it wraps: __cause__, __context__, urllib3's
    ``reason`` and exceptions passed as arguments (requests wraps urllib3's
    MaxRetryError, which wraps e.g. NewConnectionError from ConnectionRefusedError)."""
    seen, todo = set(), [exc]
    while todo:
        e = todo.pop(0)
        if e is None or id(e) in seen:
            continue
        seen.add(id(e))
        yield e
        todo += [e.__cause__, e.__context__, getattr(e, "reason", None)]
        todo += [a for a in getattr(e, "args", ()) if isinstance(a, BaseException)]


def classify_exception(exc: BaseException) -> str:
    """The outcome kind of a request that raised ``exc`` (by class names along the
    wrapped chain, so this needs neither requests nor urllib3 imported): the
    outermost exception with its base classes (requests' ConnectTimeout is a
    Timeout), each wrapped one by its own name."""
    names = {cls.__name__ for cls in type(exc).__mro__}
    names |= {type(e).__name__ for e in _chain(exc)}
    for kind, markers in _KINDS:
        if names.intersection(markers):
            return kind
    return OTHER_ERROR


def innermost(exc: BaseException) -> str:
    """The deepest wrapped exception, as ``Name: message`` (what the socket or
    TLS layer said), for the failure line."""
    last = list(_chain(exc))[-1]
    return f"{type(last).__name__}: {str(last)[:160]}"


def request_id(text: str) -> str | None:
    """The lab request id in a URL or a log line."""
    m = _ID.search(text)
    return m.group(1) if m else None


@dataclasses.dataclass
class HaproxyEntry:
    """One HAProxy httplog line, the fields the verdict needs."""
    lb: str
    status: int          # -1 when HAProxy sent nothing (e.g. the client left first)
    timers: str          # TR/Tw/Tc/Tr/Ta in ms
    termination: str     # e.g. "----" (normal), "CD--" (client aborted), "SC--" (server refused)
    server: str          # backend/server
    request: str
    line: str

    @property
    def total_ms(self) -> int | None:
        """Ta: from accepting the request to the last byte of the answer (ms)."""
        last = self.timers.split("/")[-1].lstrip("+")
        return int(last) if last.lstrip("-").isdigit() and not last.startswith("-") else None

    @property
    def answered(self) -> bool:
        """The site answered: a status the app or HAProxy gave that is not a
        server error. HAProxy's own 5xx (no server, server timeout) is a failure."""
        return 0 < self.status < 500


# ... 10.77.0.1:54321 [07/Dec/2026:09:00:00.123] https~ app/app1 0/0/1/3/4 200 123 - - ---- 1/1/0/0/0 0/0 "GET /healthz?lab-req=x HTTP/1.1"
_HTTPLOG = re.compile(
    r"\s\S+:\d+ \[[^\]]+\] \S+ (?P<server>\S+) "
    r"(?P<timers>[-+\d]+/[-+\d]+/[-+\d]+/[-+\d]+/[-+\d]+) (?P<status>-?\d+) \+?\d+ \S+ \S+ "
    r"(?P<term>\S{4}) .*?\"(?P<request>[^\"]*)\"\s*$")


def parse_haproxy_line(line: str, lb: str = "") -> HaproxyEntry | None:
    m = _HTTPLOG.search(line)
    if not m:
        return None
    return HaproxyEntry(lb=lb, status=int(m.group("status")), timers=m.group("timers"),
                        termination=m.group("term"), server=m.group("server"),
                        request=m.group("request"), line=line.strip())


def entries_by_id(log_text: str, lb: str = "") -> dict[str, list[HaproxyEntry]]:
    found: dict[str, list[HaproxyEntry]] = {}
    for line in log_text.splitlines():
        rid = request_id(line)
        entry = parse_haproxy_line(line, lb) if rid else None
        if entry:
            found.setdefault(rid, []).append(entry)
    return found


def verdict(kind: str, entries: list[HaproxyEntry],
            client_timeout_s: float | None = None) -> tuple[bool, str]:
    """(failed, why) for a request that ended as ``kind`` on the client, given the
    HAProxy log lines carrying its id. Only a timeout can be cleared, and only
    by a log line showing the site answered it (status below 500) within the
    time the client was willing to wait (HAProxy's Ta), so the delay was the
    client's. A site slower than the client's timeout still fails."""
    if kind not in TIMEOUTS:
        return True, f"{kind}: the site refused or broke the request"
    if not entries:
        return True, f"{kind}: not in HAProxy's log on either load balancer (never arrived)"
    facts = [f"{e.lb} logged status {e.status} via {e.server} (timers {e.timers}, "
             f"termination {e.termination})" for e in entries]
    for e in entries:
        in_time = (client_timeout_s is None or
                   (e.total_ms is not None and e.total_ms < client_timeout_s * 1000))
        if e.answered and in_time:
            return False, (f"{kind} on the client, but {e.lb} answered {e.status} via {e.server} "
                           f"in {e.total_ms} ms (timers {e.timers}, termination {e.termination}):"
                           " the site answered, the client was too slow to read it")
    if client_timeout_s is not None and any(e.answered for e in entries):
        return True, (f"{kind}: the site answered later than the client's "
                      f"{client_timeout_s:g} s: " + "; ".join(facts))
    return True, f"{kind}: " + "; ".join(facts)
