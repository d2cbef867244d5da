"""Draining an app node and putting it back through a real HAProxy's runtime API
(Debian's HAProxy 2.6 on this machine, two instances standing for lb1 and lb2,
two small HTTP servers standing for the app nodes), with the parsers of
provisioning/lib/patching/haproxy.py reading its real answers."""

import shutil
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.request import urlopen

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "provisioning"))
from lib.patching import haproxy  # noqa: E402
from lib.patching.rolling import ADMIN_SOCK, Rolling, Settings, StepFailed  # noqa: E402

pytestmark = pytest.mark.req("O-PATCH", "O-247")

CFG = """global
    stats socket {sock} mode 600 level admin
defaults
    mode http
    timeout connect 2s
    timeout client 30s
    timeout server 30s
frontend web
    bind 127.0.0.1:{port}
    default_backend app
backend app
    balance roundrobin
    option httpchk GET /healthz
    # Slow start as in production: a node back UP is STARTING for a while.
    default-server check inter 200ms fall 2 rise 2 slowstart 1s
    server app1 127.0.0.1:{app1}
    server app2 127.0.0.1:{app2}
"""


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path == "/slow":
            time.sleep(2)
        body = self.server.name.encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        # HAProxy's health checks close their connection before reading the
        # whole answer: nothing to report.
        pass


def fetch(port: int, path: str = "/") -> str:
    with urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as r:
        return r.read().decode()


def free_port() -> int:
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Local:
    """Runs each host's commands on this machine; a load balancer's admin socket
    is its own instance's."""

    def __init__(self, socks):
        self.socks = socks

    def run(self, host, command):
        command = command.replace(ADMIN_SOCK, self.socks.get(host, ADMIN_SOCK))
        p = subprocess.run(["bash", "-c", command], capture_output=True, text=True)
        return p.returncode, p.stdout + p.stderr


@pytest.fixture
def lab(tmp_path):
    assert shutil.which("haproxy") and shutil.which("socat"), "ci/test installs haproxy and socat"
    apps = {}
    for name in ("app1", "app2"):
        srv = Server(("127.0.0.1", 0), Handler)
        srv.name = name
        threading.Thread(target=srv.serve_forever, daemon=True).start()
        apps[name] = srv
    procs, socks, ports = [], {}, {}
    try:
        for lb in ("lb1", "lb2"):
            sock, port = str(tmp_path / f"{lb}.sock"), free_port()
            cfg = tmp_path / f"{lb}.cfg"
            cfg.write_text(CFG.format(sock=sock, port=port, app1=apps["app1"].server_port,
                                      app2=apps["app2"].server_port))
            procs.append(subprocess.Popen(["haproxy", "-db", "-f", str(cfg)],
                                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
            socks[lb], ports[lb] = sock, port
        remote = Local(socks)
        rolling = Rolling(remote, Settings(lbs=["lb1", "lb2"], app_port=apps["app1"].server_port,
                                           drain_timeout=10, health_timeout=10, poll=0.1),
                          log=lambda m: None)

        def all_up():
            try:
                return all(s.up for lb in socks for s in rolling.stats(lb).values())
            except StepFailed:  # not listening yet
                return False
        rolling.wait("lb", "both HAProxy instances to see both nodes UP", 10, all_up)
        yield rolling, ports
    finally:
        # Stopped whatever happened, so no HAProxy outlives the test.
        for p in procs:
            p.terminate()
            p.wait(5)
        for srv in apps.values():
            srv.shutdown()


def test_parsers_read_the_real_answers(lab):
    rolling, _ = lab
    stats = rolling.stats("lb1")
    assert set(stats) == {("app", "app1"), ("app", "app2")}
    assert all(s.up and s.current_sessions == 0 for s in stats.values())
    states = rolling.server_states("lb2")
    assert set(states) == {"app1", "app2"} and all(s.ready for s in states.values())


def test_drain_waits_for_sessions_on_both_lbs_and_ready_puts_it_back(lab):
    rolling, ports = lab
    answers = []

    def slow(lb):
        answers.append(fetch(ports[lb], "/slow"))

    # Two slow requests on each load balancer: round robin puts one on each node.
    threads = [threading.Thread(target=slow, args=(lb,)) for lb in ("lb1", "lb1", "lb2", "lb2")]
    for t in threads:
        t.start()
    time.sleep(0.5)
    assert rolling.stats("lb1")[("app", "app1")].current_sessions == 1
    t0 = time.monotonic()
    rolling.drain("app1")
    waited = time.monotonic() - t0
    assert 0.8 < waited < 5, waited
    for lb in ("lb1", "lb2"):
        assert rolling.server_states(lb)["app1"].draining
        assert rolling.stats(lb)[("app", "app1")].status == "DRAIN"
        # New requests go to app2 only while app1 drains.
        assert {fetch(ports[lb]) for _ in range(6)} == {"app2"}
    for t in threads:
        t.join()
    assert sorted(answers) == ["app1", "app1", "app2", "app2"]

    rolling.back_in("app1")
    for lb in ("lb1", "lb2"):
        assert rolling.server_states(lb)["app1"].ready
        assert {fetch(ports[lb]) for _ in range(6)} == {"app1", "app2"}


def test_a_restarted_node_is_back_only_after_its_slow_start(lab):
    """The next node's drain follows at once: it must find this one ready, not
    still STARTING (a lab app upgrade stopped there before back_in waited)."""
    rolling, _ = lab
    rolling.drain("app1")
    for lb in ("lb1", "lb2"):  # as a restart looks to HAProxy: DOWN, then UP again
        rolling.haproxy(lb, "set server app/app1 health down")
    rolling.back_in("app1")
    assert all(rolling.server_states(lb)["app1"].ready for lb in ("lb1", "lb2"))
    rolling.drain("app2")
    rolling.back_in("app2")


def test_never_drains_the_last_ready_node(lab):
    rolling, _ = lab
    rolling.drain("app2")
    with pytest.raises(StepFailed, match="no other app node is up and ready"):
        rolling.drain("app1")
    assert rolling.server_states("lb1")["app1"].ready


def test_a_refused_command_is_a_failure(lab):
    rolling, _ = lab
    with pytest.raises(StepFailed, match="refused"):
        rolling.set_state("app9", "drain")


def test_parse_rejects_garbage():
    with pytest.raises(ValueError):
        haproxy.parse_stat("Unknown command")
    with pytest.raises(ValueError):
        haproxy.parse_servers_state("Can't find backend.\n")
