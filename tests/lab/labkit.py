"""Helpers shared by the lab tests and the benchmark (ci/lab/bench): HTTPS through
the VIP verified against the lab's ACME root, host commands, request loops."""

from __future__ import annotations

import json
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parents[2]
LAB = REPO / "ci" / "lab" / "lab"
SECRETS = REPO / "provisioning" / "secrets" / "lab"
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
class LoopResult:
    ok: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)
    failure_times: list[float] = field(default_factory=list)
    started: float = 0.0
    stopped: float = 0.0

    @property
    def unavailable_seconds(self) -> float:
        """Span from the first to the last failed request (0 if none failed)."""
        if not self.failure_times:
            return 0.0
        return max(self.failure_times) - min(self.failure_times) + 0.2


class RequestLoop:
    """Sequential GETs through the VIP on new connections, until stopped, bounded
    in time. A new connection per request is what a crowd of browsers does, and
    is what exposes a moved VIP or a dead node."""

    def __init__(self, ca: str, path: str = "/healthz", timeout: float = 3.0,
                 max_seconds: float = 120.0):
        self.ca, self.url, self.timeout, self.max_seconds = ca, BASE + path, timeout, max_seconds
        self.result = LoopResult()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        r = self.result
        r.started = time.monotonic()
        while not self._stop.is_set() and time.monotonic() - r.started < self.max_seconds:
            t = time.monotonic()
            try:
                resp = get(self.url, verify=self.ca, timeout=self.timeout,
                                    headers={"Connection": "close"})
                if resp.status_code == 200:
                    r.ok += 1
                else:
                    r.failed += 1
                    r.failure_times.append(t)
                    r.errors.append(f"{resp.status_code} {resp.text[:80]!r}")
            except requests.RequestException as exc:
                r.failed += 1
                r.failure_times.append(t)
                r.errors.append(type(exc).__name__)
                time.sleep(0.1)
            time.sleep(0.05)
        r.stopped = time.monotonic()

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(timeout=30)


def last_change_record() -> dict:
    lines = Path("/var/log/mimamori-deploy/lab.jsonl").read_text().splitlines()
    return json.loads(lines[-1])
