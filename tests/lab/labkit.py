"""Helpers shared by the lab tests and the benchmark (ci/lab/bench): HTTPS through
the VIP verified against the lab's ACME root, host commands, request loops."""

from __future__ import annotations

import json
import os
import subprocess
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import requests

import loopcheck

REPO = Path(__file__).resolve().parents[2]
LAB = REPO / "ci" / "lab" / "lab"
# Where provisioning keeps the lab's secrets: the same override lib/secrets.py reads.
SECRETS = Path(os.environ.get("MIMAMORI_SECRETS_DIR", REPO / "provisioning" / "secrets")) / "lab"
SITE = "www.mimamori.lab"
BASE = f"https://{SITE}"
VIP = "10.77.0.10"
WARD_ADDRESS = "10.77.0.200"
# Pebble's management API hands out the root it signs with; it listens with a
# certificate from the lab's internal CA.
PEBBLE_ROOT_URL = "https://mon1:15000/roots/0"


def get(url: str, **kwargs) -> requests.Response:
    """GET that ignores the environment's proxies and CA bundles: lab traffic
    goes straight to the lab, verified only against the CA a test names."""
    with requests.Session() as s:
        s.trust_env = False
        return s.get(url, **kwargs)


def internal_ca() -> str:
    return str(SECRETS / "internal-ca" / "ca.crt")


def acme_root(path: Path) -> str:
    """Write the lab ACME CA's root to ``path``; it is the only trust anchor the
    tests give clients of the site, so a stand-in or wrong certificate fails."""
    pem = get(PEBBLE_ROOT_URL, verify=internal_ca(), timeout=10).text
    assert "BEGIN CERTIFICATE" in pem
    path.write_text(pem)
    return str(path)


def on(host: str, command: str, check: bool = True) -> str:
    result = subprocess.run(["bash", str(LAB), "ssh", host, command], capture_output=True,
                            text=True, timeout=120)
    if check and result.returncode:
        raise AssertionError(f"{host}: {command!r} failed ({result.returncode}): "
                             f"{result.stdout}{result.stderr}")
    return result.stdout


def lab(*args: str) -> None:
    subprocess.run(["bash", str(LAB), *args], check=True, timeout=300)


def has_vip(lb: str) -> bool:
    return f" {VIP}/" in on(lb, "ip -o -4 addr show", check=False)


def vip_holder() -> str | None:
    for lb in ("lb1", "lb2"):
        if has_vip(lb):
            return lb
    return None


def haproxy_servers(lb: str) -> dict[str, str]:
    """Server name -> operational state of the app backend, from the runtime API."""
    out = on(lb, "echo 'show servers state app' | socat stdio /run/haproxy/admin.sock")
    states = {}
    for line in out.splitlines():
        parts = line.split()
        # be_id be_name srv_id srv_name srv_addr srv_op_state ...
        if len(parts) > 5 and parts[1] == "app":
            states[parts[3]] = {"0": "DOWN", "1": "STARTING", "2": "UP", "3": "STOPPING"}.get(
                parts[5], parts[5])
    return states


def wait_for(predicate, timeout: float, interval: float = 0.5):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    return predicate()


@dataclass
class Pending:
    """A request the client gave up on; settled against HAProxy's log afterwards."""
    rid: str
    kind: str
    at: float
    detail: str


@dataclass
class LoopResult:
    ok: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)
    failure_times: list[float] = field(default_factory=list)
    started: float = 0.0
    stopped: float = 0.0
    # Timeouts on the client that HAProxy's log shows the site answered: a slow
    # client (a loaded control machine), not a failed request. One line each.
    client_timeouts: list[str] = field(default_factory=list)
    pending: list[Pending] = field(default_factory=list)
    to_explain: list[tuple[int, str]] = field(default_factory=list)  # (index in errors, id)
    slowest: list[tuple[float, str]] = field(default_factory=list)

    @property
    def unavailable_seconds(self) -> float:
        """Span from the first to the last failed request (0 if none failed)."""
        if not self.failure_times:
            return 0.0
        return max(self.failure_times) - min(self.failure_times) + 0.2

    def fail(self, at: float, why: str) -> None:
        self.failed += 1
        self.failure_times.append(at)
        self.errors.append(why)

    def summary(self) -> str:
        slow = ", ".join(f"{s:.1f}s {rid}" for s, rid in self.slowest[:3])
        return (f"requests ok={self.ok} failed={self.failed} "
                f"client-timeouts-answered={len(self.client_timeouts)} "
                f"unavailable={self.unavailable_seconds:.1f}s slowest=[{slow}]")


def _load() -> str:
    one, five, _ = os.getloadavg()
    return f"load {one:.1f}/{five:.1f} on {os.cpu_count()} CPUs"


def haproxy_log_entries(ids: list[str], lbs=("lb1", "lb2")) -> tuple[dict, list[str]]:
    """HAProxy access-log lines carrying the given request ids, from each load
    balancer (the Debian package's /var/log/haproxy.log via rsyslog, and the
    journal in case HAProxy logged there), and the load balancers that could
    not be read."""
    found: dict[str, list] = {}
    unreadable = []
    patterns = " ".join(f"-e {loopcheck.ID_PARAM}={rid}" for rid in ids)
    for lb in lbs:
        command = (f"{{ cat /var/log/haproxy.log.1 /var/log/haproxy.log 2>/dev/null;"
                   f" journalctl -q -o short -t haproxy --no-pager 2>/dev/null; }}"
                   f" | grep -F {patterns}; true")
        try:
            result = subprocess.run(["bash", str(LAB), "ssh", lb, command], capture_output=True,
                                    text=True, timeout=60)
        except (subprocess.SubprocessError, OSError):
            unreadable.append(lb)
            continue
        if result.returncode:
            unreadable.append(lb)
            continue
        for rid, entries in loopcheck.entries_by_id(result.stdout, lb).items():
            found.setdefault(rid, []).extend(entries)
    return found, unreadable


HAPROXY_LOG_WAIT_S = 45


class RequestLoop:
    """Sequential GETs through the VIP on new connections, until stopped, bounded
    in time. A new connection per request is what a crowd of browsers does, and
    is what exposes a moved VIP or a dead node.

    Failures are measured, not guessed (loopcheck.py): an HTTP status other than
    200, a refused or reset connection or a TLS error fails at once; a client
    timeout is settled when the loop ends, against HAProxy's access log on
    lb1/lb2 found by the request's id (``?lab-req=ID``): answered there (status
    below 500) it is a slow client and lands in ``client_timeouts``; otherwise
    it fails. ``connect_timeout`` defaults to ``timeout``."""

    def __init__(self, ca: str, path: str = "/healthz", timeout: float = 3.0,
                 max_seconds: float = 120.0, connect_timeout: float | None = None,
                 evidence: bool = True):
        self.ca, self.url, self.timeout, self.max_seconds = ca, BASE + path, timeout, max_seconds
        self.connect_timeout = timeout if connect_timeout is None else connect_timeout
        self.evidence = evidence
        self.run_id = uuid.uuid4().hex[:8]
        self.result = LoopResult()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        r = self.result
        r.started = time.monotonic()
        n = 0
        sep = "&" if "?" in self.url else "?"
        while not self._stop.is_set() and time.monotonic() - r.started < self.max_seconds:
            n += 1
            rid = f"{self.run_id}-{n}"
            t = time.monotonic()
            wall = time.strftime("%H:%M:%S", time.gmtime())  # to match the patch log and HAProxy's
            try:
                resp = get(f"{self.url}{sep}{loopcheck.ID_PARAM}={rid}", verify=self.ca,
                           timeout=(self.connect_timeout, self.timeout),
                           headers={"Connection": "close"})
                if resp.status_code == 200:
                    r.ok += 1
                else:
                    r.fail(t, f"{resp.status_code} {resp.text[:80]!r} at {wall} UTC id={rid}")
            except requests.RequestException as exc:
                kind = loopcheck.classify_exception(exc)
                detail = (f"{type(exc).__name__} ({loopcheck.innermost(exc)}) after "
                          f"{time.monotonic() - t:.1f}s at {wall} UTC id={rid}, {_load()}")
                if kind in loopcheck.TIMEOUTS and self.evidence:
                    r.pending.append(Pending(rid, kind, t, detail))
                else:
                    r.fail(t, f"{kind}: {detail}")
                    # Failed whatever HAProxy says; its log line says where (settle).
                    r.to_explain.append((len(r.errors) - 1, rid))
                time.sleep(0.1)
            r.slowest = sorted([*r.slowest, (time.monotonic() - t, rid)], reverse=True)[:5]
            time.sleep(0.05)
        r.stopped = time.monotonic()

    def settle(self) -> None:
        """Decide each pending timeout from HAProxy's log (see the class doc)."""
        r = self.result
        if not self.evidence or not (r.pending or r.to_explain):
            return
        # HAProxy logs a request when it ends, at the latest its server timeout
        # (30 s) plus retries after it arrived; rsyslog writes soon after.
        if r.pending:
            time.sleep(max(2.0, max(p.at for p in r.pending) + HAPROXY_LOG_WAIT_S - time.monotonic()))
        found, unreadable = haproxy_log_entries(
            [p.rid for p in r.pending] + [rid for _, rid in r.to_explain[:50]])
        for index, rid in r.to_explain[:50]:
            seen = "; ".join(f"{e.lb} logged status {e.status} via {e.server} (timers {e.timers}, "
                             f"termination {e.termination})" for e in found.get(rid, []))
            unread = f" (unreadable on {', '.join(unreadable)})" if unreadable else ""
            r.errors[index] += f" [HAProxy: {seen or 'not in the log' + unread}]"
        r.to_explain = []
        for p in r.pending:
            limit = self.connect_timeout if p.kind == loopcheck.CONNECT_TIMEOUT else self.timeout
            failed, why = loopcheck.verdict(p.kind, found.get(p.rid, []), limit)
            if unreadable and not found.get(p.rid):
                why += f" (log unreadable on {', '.join(unreadable)})"
            if failed:
                r.fail(p.at, f"{why} [{p.detail}]")
            else:
                r.client_timeouts.append(f"{why} [{p.detail}]")
        r.pending = []

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(timeout=max(30, self.timeout + self.connect_timeout + 5))
        self.settle()


def last_change_record() -> dict:
    lines = Path("/var/log/mimamori-deploy/lab.jsonl").read_text().splitlines()
    return json.loads(lines[-1])
