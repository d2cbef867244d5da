"""The lab request loop's classification (tests/lab/loopcheck.py), without the
lab: which client errors fail a drill outright, and how a client timeout is
settled from an HAProxy access-log line found by the request's id."""

import socket
import ssl
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tests" / "lab"))

import loopcheck  # noqa: E402
from loopcheck import (  # noqa: E402
    CONNECT_TIMEOUT, OTHER_ERROR, READ_TIMEOUT, REFUSED, RESET, TLS_ERROR,
    classify_exception, entries_by_id, parse_haproxy_line, request_id, verdict,
)


# Stand-ins with the class names (and wrapping) of requests and urllib3, which
# the app's virtualenv does not have.
class RequestException(OSError):
    pass


class ConnectionError(RequestException):  # noqa: A001 - the name requests uses
    pass


class Timeout(RequestException):
    pass


class ConnectTimeout(ConnectionError, Timeout):
    pass


class ReadTimeout(Timeout):
    pass


class SSLError(ConnectionError):
    pass


class MaxRetryError(Exception):
    def __init__(self, reason):
        super().__init__("max retries")
        self.reason = reason


class ConnectTimeoutError(Exception):
    pass


class NewConnectionError(ConnectTimeoutError):
    """As in urllib3 2: a refused connection is a subclass of ConnectTimeoutError."""


class ProtocolError(Exception):
    pass


def wrapped(outer, inner_cause):
    """requests.X(MaxRetryError(reason=NewConnectionError from cause)), as requests raises them."""
    try:
        try:
            raise inner_cause
        except BaseException as cause:
            raise NewConnectionError("failed to establish a new connection") from cause
    except NewConnectionError as new:
        return outer(MaxRetryError(new))


@pytest.mark.parametrize("exc, kind", [
    (ConnectTimeout("connect timed out"), CONNECT_TIMEOUT),
    (wrapped(ConnectTimeout, TimeoutError("timed out")), CONNECT_TIMEOUT),
    (ReadTimeout("read timed out"), READ_TIMEOUT),
    (wrapped(ConnectionError, ConnectionRefusedError(111, "Connection refused")), REFUSED),
    (ConnectionError(ProtocolError("Connection aborted.", ConnectionResetError(104, "reset"))), RESET),
    (SSLError(ssl.SSLCertVerificationError("certificate verify failed")), TLS_ERROR),
    (wrapped(ConnectionError, socket.gaierror(-2, "Name or service not known")), OTHER_ERROR),
])
def test_exceptions_are_classified_by_what_they_wrap(exc, kind):
    assert classify_exception(exc) == kind


def test_a_tls_error_is_never_taken_for_a_timeout():
    # A handshake that timed out is still a TLS failure: the request never left.
    exc = SSLError(MaxRetryError(ssl.SSLError("The handshake operation timed out")))
    exc.__context__ = TimeoutError("timed out")
    assert classify_exception(exc) == TLS_ERROR


FILE_LINE = ('2026-12-07T09:12:01.512345+00:00 lb1 haproxy[812]: 10.77.0.1:51234 '
             '[07/Dec/2026:09:11:49.301] https~ app/app2 0/0/1/11203/11204 200 201 - - ---- '
             '3/3/0/0/0 0/0 "GET /healthz?lab-req=1a2b3c4d-4711 HTTP/1.1"')
JOURNAL_LINE = ('Dec 07 09:12:01 lb2 haproxy[901]: 10.77.0.1:51240 [07/Dec/2026:09:12:00.101] '
                'https~ app/<NOSRV> 0/-1/-1/-1/0 503 217 - - SC-- 1/1/0/0/0 0/0 '
                '"GET /healthz?lab-req=1a2b3c4d-4712 HTTP/1.1"')
ABORTED_LINE = ('Dec 07 09:12:31 lb1 haproxy[812]: 10.77.0.1:51250 [07/Dec/2026:09:12:01.000] '
                'https~ app/app1 0/0/0/-1/30001 -1 0 - - CH-- 1/1/0/0/0 0/0 '
                '"GET /healthz?lab-req=1a2b3c4d-4713 HTTP/1.1"')


def test_an_haproxy_httplog_line_is_parsed():
    e = parse_haproxy_line(FILE_LINE, "lb1")
    assert (e.lb, e.status, e.server, e.termination) == ("lb1", 200, "app/app2", "----")
    assert e.timers == "0/0/1/11203/11204"
    assert request_id(e.request) == "1a2b3c4d-4711"
    assert e.answered


def test_other_syslog_lines_are_ignored():
    assert parse_haproxy_line("Dec 07 09:00:00 lb1 haproxy[1]: Proxy https started.") is None
    assert parse_haproxy_line("Server app/app1 is DOWN, reason: Layer4 connection problem") is None


def test_entries_are_found_by_request_id_across_formats():
    found = entries_by_id("\n".join([FILE_LINE, JOURNAL_LINE, ABORTED_LINE, "noise"]), "lb1")
    assert sorted(found) == ["1a2b3c4d-4711", "1a2b3c4d-4712", "1a2b3c4d-4713"]
    assert found["1a2b3c4d-4712"][0].status == 503
    assert found["1a2b3c4d-4713"][0].status == -1


def test_a_timeout_the_site_answered_is_a_slow_client_not_a_failure():
    failed, why = verdict(READ_TIMEOUT, [parse_haproxy_line(FILE_LINE, "lb1")])
    assert not failed
    assert "lb1 answered 200" in why and "too slow" in why
    # The site took 11.2 s; a client that waited 30 s and still timed out was the slow one.
    failed, why = verdict(READ_TIMEOUT, [parse_haproxy_line(FILE_LINE, "lb1")], 30)
    assert not failed and "in 11204 ms" in why


def test_a_site_slower_than_the_clients_timeout_fails_even_with_a_200():
    failed, why = verdict(READ_TIMEOUT, [parse_haproxy_line(FILE_LINE, "lb1")], 10)
    assert failed and "later than the client's 10 s" in why


def test_total_time_is_read_from_the_timers():
    assert parse_haproxy_line(FILE_LINE).total_ms == 11204
    assert parse_haproxy_line(ABORTED_LINE).total_ms == 30001
    assert parse_haproxy_line(FILE_LINE.replace("/11204 ", "/+11204 ")).total_ms == 11204


@pytest.mark.parametrize("kind", [READ_TIMEOUT, CONNECT_TIMEOUT])
def test_a_timeout_missing_from_the_log_fails(kind):
    failed, why = verdict(kind, [])
    assert failed and "never arrived" in why


@pytest.mark.parametrize("line", [JOURNAL_LINE, ABORTED_LINE])
def test_a_timeout_the_site_did_not_answer_fails(line):
    failed, why = verdict(READ_TIMEOUT, [parse_haproxy_line(line, "lb2")])
    assert failed and "lb2 logged status" in why


@pytest.mark.parametrize("kind", [REFUSED, RESET, TLS_ERROR, OTHER_ERROR])
def test_a_refused_request_fails_whatever_the_log_says(kind):
    # Only a timeout can be cleared: a refused request failed on the site's side.
    failed, _ = verdict(kind, [parse_haproxy_line(FILE_LINE, "lb1")])
    assert failed


def test_request_ids_survive_url_encoding_and_query_order():
    assert request_id("https://www.mimamori.lab/healthz?x=1&lab-req=ab12-3 ") == "ab12-3"
    assert request_id("GET /healthz HTTP/1.1") is None
    assert loopcheck.ID_PARAM == "lab-req"


def test_the_failure_line_names_what_the_socket_said():
    exc = wrapped(ConnectionError, ConnectionRefusedError(111, "Connection refused"))
    assert loopcheck.innermost(exc) == "ConnectionRefusedError: [Errno 111] Connection refused"
