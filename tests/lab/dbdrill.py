"""Helpers for the database drills (test_85_patroni_drills.py) and their
benchmark (bench_db_failover.py): a writer that commits numbered rows and
counts acknowledged commits, who the primary is, and what each node says.

The writer runs on app1 with the app's own virtualenv (psycopg) and the app's
own credentials, through the same multi-host connection the app uses: libpq
picks whichever of db1/db2 accepts writes (target_session_attrs=read-write).
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from dataclasses import dataclass, field

import labkit
import runbookkit
from labkit import LAB, on

DB_NODES = {"db1": "10.77.0.31", "db2": "10.77.0.32"}
TABLE = "ha_drill"

WRITER = r'''
import os, sys, time, urllib.parse
import psycopg
drill, seconds, first = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
# From /etc/mimamori/secrets.env, sourced by the shell that started this.
url = os.environ["MIMAMORI_DATABASE_URL"]
password = urllib.parse.unquote(urllib.parse.urlsplit(url).password)
# tcp_user_timeout and keepalives: a commit sent to a host that just died
# fails in seconds instead of waiting for the kernel's TCP timeout.
conninfo = ("host=db1,db2 port=5432 dbname=mimamori user=mimamori_app "
            "sslmode=verify-full sslrootcert=/etc/mimamori/internal-ca.crt "
            "target_session_attrs=read-write connect_timeout=2 tcp_user_timeout=3000 "
            "keepalives_idle=1 keepalives_interval=1 keepalives_count=2")
n, conn, t0 = first, None, time.monotonic()
while time.monotonic() - t0 < seconds:
    t = time.monotonic() - t0
    try:
        if conn is None:
            conn = psycopg.connect(conninfo, password=password, autocommit=True)
        conn.execute("INSERT INTO ha_drill (id, drill) VALUES (%s, %s)", (n, drill))
        print(f"ack {n} {t:.3f}", flush=True)
    except Exception as exc:
        # Not acknowledged: the row may or may not be there; it is not counted.
        print(f"err {n} {t:.3f} {type(exc).__name__}", flush=True)
        try:
            conn and conn.close()
        except Exception:
            pass
        conn = None
        time.sleep(0.2)
    n += 1
    time.sleep(0.05)
print("done", flush=True)
'''


@dataclass
class WriterResult:
    acked: list[int] = field(default_factory=list)
    ack_times: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def longest_gap(self, after: float = 0.0) -> float:
        """Longest time between two acknowledged commits (seconds without write service)."""
        times = [t for t in self.ack_times if t >= after]
        return max((b - a for a, b in zip(times, times[1:])), default=float("inf"))


class Writer:
    """Commits numbered rows for ``seconds`` on app1, in a background thread."""

    def __init__(self, drill: str, seconds: float, first_id: int):
        self.drill, self.seconds, self.first_id = drill, seconds, first_id
        self.result = WriterResult()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        self._proc = proc = subprocess.Popen(
            ["bash", str(LAB), "ssh", "app1",
             "set -a; . /etc/mimamori/secrets.env; set +a; exec"
             f" /opt/mimamori/current/venv/bin/python - {self.drill} {self.seconds} {self.first_id}"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            # Its own process group: stop() ends the ssh under `lab ssh` too
            # (terminating bash alone left ssh, and the writer, running).
            start_new_session=True)
        proc.stdin.write(WRITER)
        proc.stdin.close()
        for line in proc.stdout:
            parts = line.split()
            if parts[:1] == ["ack"]:
                self.result.acked.append(int(parts[1]))
                self.result.ack_times.append(float(parts[2]))
            elif parts[:1] == ["err"]:
                self.result.errors.append(line.strip())
            elif parts[:1] != ["done"]:
                self.result.errors.append(line.strip())
        proc.wait()

    def __enter__(self):
        self._thread.start()
        return self

    def stop(self) -> None:
        """End the writer before its time is up (the rolling patch drills run it
        for as long as the patch takes). Commits acknowledged so far count."""
        proc = getattr(self, "_proc", None)
        if proc and proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)

    def wait(self) -> WriterResult:
        self._thread.join(timeout=self.seconds + 120)
        return self.result

    def __exit__(self, *exc):
        self.wait()


def rest(node: str, path: str) -> int:
    """HTTP status of Patroni's REST API (200 on /primary only on the leader)."""
    try:
        return labkit.get(f"http://{DB_NODES[node]}:8008{path}", timeout=2).status_code
    except Exception:
        return 0


def primary() -> str | None:
    found = [n for n in DB_NODES if rest(n, "/primary") == 200]
    return found[0] if len(found) == 1 else None


def other(node: str) -> str:
    return next(n for n in DB_NODES if n != node)


def psql(node: str, sql: str, db: str = "mimamori", check: bool = True) -> str:
    return on(node, f"sudo -u postgres psql -X -At -d {db} -c \"{sql}\"", check=check)


def healthy_cluster(timeout: float = 120) -> str:
    """Wait until one leader and one streaming replica; return the leader."""
    def ok():
        lead = primary()
        return lead if lead and rest(other(lead), "/replica") == 200 else None
    lead = labkit.wait_for(ok, timeout=timeout, interval=1)
    assert lead, on("db1", "patronictl list", check=False) + on("db2", "patronictl list", check=False)
    return lead


# Drill tables belong to the schema's owner like the app's own (test_81 checks
# that every table in public does; the patch drill creates this one before it).
OWNER = "mimamori_owner"


def prepare_table() -> None:
    lead = healthy_cluster()
    psql(lead, f"CREATE TABLE IF NOT EXISTS {TABLE} (id bigint PRIMARY KEY, drill text NOT NULL,"
               f" at timestamptz NOT NULL DEFAULT now());"
               f" ALTER TABLE {TABLE} OWNER TO {OWNER};"
               f" GRANT SELECT, INSERT ON {TABLE} TO mimamori_app")


def rows_on(node: str, drill: str) -> set[int]:
    out = psql(node, f"SELECT id FROM {TABLE} WHERE drill = '{drill}'")
    return {int(x) for x in out.split()}


def lost_writes(drill: str, result: WriterResult) -> set[int]:
    """Acknowledged ids missing on the current primary."""
    lead = healthy_cluster(timeout=180)
    return set(result.acked) - rows_on(lead, drill)


def container_pid(host: str) -> int:
    """PID of the host's init, to enter its namespaces when its network is cut."""
    nspawn = (LAB.parent / "state" / "hosts" / host / "pid").read_text().strip()
    return int(subprocess.run(["pgrep", "-P", nspawn], capture_output=True, text=True,
                              check=True).stdout.split()[0])


def is_primary_inside(host: str) -> bool | None:
    """Asked inside the host's namespaces (works with its link down): is
    PostgreSQL there a primary? None if it does not answer."""
    try:
        r = subprocess.run(
            ["nsenter", "-t", str(container_pid(host)), "-m", "-u", "-i", "-n", "-p", "--",
             "runuser", "-u", "postgres", "--", "psql", "-X", "-At", "-c",
             "select pg_is_in_recovery()"], capture_output=True, text=True, timeout=10)
    except (subprocess.SubprocessError, OSError, IndexError, ValueError):
        return None
    out = r.stdout.strip()
    return {"f": True, "t": False}.get(out)


def set_link(host: str, up: bool) -> None:
    """Cut or restore the host's only network link (its veth on the lab bridge)."""
    subprocess.run(["ip", "link", "set", f"vb-{host}", "up" if up else "down"], check=True)


# ---------------------------------------------------------------- the drills

@dataclass
class Drill:
    name: str
    old_leader: str
    new_leader: str | None = None
    writes: WriterResult = field(default_factory=WriterResult)
    lost: set[int] = field(default_factory=set)
    unavailable_s: float = 0.0
    rejoined_as_replica: bool = False
    # Partition only: moments each node answered as a primary during the cut.
    old_primary_at: list[float] = field(default_factory=list)
    new_primary_at: list[float] = field(default_factory=list)

    def line(self) -> str:
        return (f"{self.name:<26} acked={len(self.writes.acked):<5} lost={len(self.lost):<3}"
                f" without_writes_s={self.unavailable_s:5.1f}"
                f" leader {self.old_leader}->{self.new_leader}"
                f" old_rejoined={'yes' if self.rejoined_as_replica else 'NO'}")


_next_id = [int(time.time()) * 1000]


def _ids() -> int:
    _next_id[0] += 1_000_000
    return _next_id[0]


def _finish(d: Drill) -> Drill:
    d.new_leader = healthy_cluster(timeout=180)
    d.lost = lost_writes(d.name, d.writes)
    d.unavailable_s = d.writes.longest_gap()
    d.rejoined_as_replica = labkit.wait_for(
        lambda: rest(d.old_leader, "/replica") == 200, timeout=120, interval=1)
    return d


def switchover() -> Drill:
    lead = healthy_cluster()
    d = Drill("switchover", lead)
    with Writer(d.name, 25, _ids()) as w:
        time.sleep(5)
        # runbooks/database-ha.md "Planned switchover", as written.
        runbookkit.run("ha.switchover", timeout=120, leader=lead, replica=other(lead))
    d.writes = w.result
    return _finish(d)


def patroni_stop() -> Drill:
    lead = healthy_cluster()
    d = Drill("leader-patroni-stopped", lead)
    with Writer(d.name, 30, _ids()) as w:
        time.sleep(5)
        on(lead, "systemctl stop patroni")
        time.sleep(10)
        # runbooks/database-ha.md "Failover (automatic)": the old leader back.
        runbookkit.run("ha.rejoin-old-leader", timeout=120, old_leader=lead)
    d.writes = w.result
    return _finish(d)


def host_kill() -> Drill:
    lead = healthy_cluster()
    d = Drill("leader-host-killed", lead)
    with Writer(d.name, 45, _ids()) as w:
        time.sleep(5)
        labkit.lab("kill", lead)
        time.sleep(30)
        labkit.lab("start", lead)
    d.writes = w.result
    return _finish(d)


def partition(cut_seconds: float = 60) -> Drill:
    lead = healthy_cluster()
    peer = other(lead)
    d = Drill("leader-link-cut-60s", lead)
    stop = threading.Event()

    def probe():
        while not stop.is_set():
            t = time.monotonic()
            if is_primary_inside(lead):
                d.old_primary_at.append(t)
            if is_primary_inside(peer):
                d.new_primary_at.append(time.monotonic())
            time.sleep(0.2)

    prober = threading.Thread(target=probe, daemon=True)
    with Writer(d.name, cut_seconds + 40, _ids()) as w:
        time.sleep(5)
        cut = time.monotonic()
        set_link(lead, False)
        prober.start()
        try:
            time.sleep(cut_seconds)
        finally:
            set_link(lead, True)
    stop.set()
    prober.join()
    d.old_primary_at = [t - cut for t in d.old_primary_at]
    d.new_primary_at = [t - cut for t in d.new_primary_at]
    d.writes = w.result
    return _finish(d)
