"""The rolling patch itself: one host at a time, checks before and after, stop
at the first failure and leave every later host untouched.

Everything remote goes through ``Remote.run(host, command) -> (rc, output)``
(patch.py gives it pyinfra's SSH connection per host; tests give it a shell on
this machine), so the sequence and its stop rule are the same code in both.
"""

from __future__ import annotations

import json
import shlex
import time
from dataclasses import dataclass, field
from typing import Callable, Protocol

from . import haproxy, needrestart, packages
from .order import APP, DB, LB, Step

ADMIN_SOCK = "/run/haproxy/admin.sock"
BACKEND = "app"
DPKG = "dpkg-query -W -f '${Package}\\t${Version}\\t${db:Status-Abbrev}\\n'"
# NEEDRESTART_SUSPEND: needrestart's apt hook restarts nothing; the run asks
# needrestart afterwards and restarts in its own order. The lock timeout waits
# for a running unattended-upgrades instead of failing the host.
APT_ENV = ("DEBIAN_FRONTEND=noninteractive NEEDRESTART_SUSPEND=1 "
           "apt-get -y -q -o DPkg::Lock::Timeout=600 "
           "-o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold")


POLICY_RC_D = "/usr/sbin/policy-rc.d"
POLICY_MARK = "mimamori-patch"


def policy_rc_d(services: tuple[str, ...]) -> str:
    """A command installing a policy-rc.d that refuses (101) start/stop/restart of
    ``services`` by package scripts (invoke-rc.d, deb-systemd-invoke) and allows
    the rest. Fails if the host already has its own policy-rc.d."""
    names = "|".join(f"{n}|{n}.service" for n in services)
    script = (f"#!/bin/sh\n# {POLICY_MARK}: removed at the end of the host's patch step\n"
              f"case \"$1\" in {names}) exit 101;; esac\nexit 0\n")
    return (f"test ! -e {POLICY_RC_D} && printf '%s' {shlex.quote(script)} > {POLICY_RC_D}"
            f" && chmod 0755 {POLICY_RC_D}")


class StepFailed(Exception):
    def __init__(self, host: str, what: str):
        super().__init__(f"{host}: {what}")
        self.host, self.what = host, what


class Remote(Protocol):
    def run(self, host: str, command: str) -> tuple[int, str]: ...


@dataclass
class Settings:
    lbs: list[str]
    app_port: int = 6543
    drain_timeout: float = 60.0
    health_timeout: float = 120.0
    poll: float = 1.0
    # None: whatever a plain upgrade installs now; a dict: exactly these versions.
    pinned: dict[str, str] | None = None
    # Limit the run to these packages (emergency fix of one package).
    only_packages: list[str] | None = None
    can_reboot: Callable[[str], bool] = lambda host: True
    admin_sock: str = ADMIN_SOCK


@dataclass
class HostReport:
    host: str
    changes: list[dict] = field(default_factory=list)
    restarted: list[str] = field(default_factory=list)
    rebooted: bool = False
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0


@dataclass
class RunReport:
    done: list[HostReport] = field(default_factory=list)
    failed: str | None = None
    error: str | None = None
    untouched: list[str] = field(default_factory=list)


def members_healthy(members: list[dict]) -> bool:
    """``patronictl list -f json``: exactly one running leader, every other
    member streaming with no replication lag (checked between DB steps)."""
    leaders = [m for m in members if m.get("Role") == "Leader" and m.get("State") == "running"]
    replicas = [m for m in members if m.get("Role") != "Leader"]
    if len(leaders) != 1 or not replicas:
        return False
    for m in replicas:
        lag = m.get("Lag in MB", 0)
        try:
            lag = float(lag or 0)
        except (TypeError, ValueError):  # "unknown": not streaming from the leader
            return False
        if m.get("State") != "streaming" or lag > 0:
            return False
    return True


class Rolling:
    def __init__(self, remote: Remote, settings: Settings, log: Callable[[str], None] = print,
                 sleep: Callable[[float], None] = time.sleep):
        self.r, self.s, self.log, self.sleep = remote, settings, log, sleep

    # -- helpers -------------------------------------------------------------
    def must(self, host: str, command: str, what: str) -> str:
        rc, out = self.r.run(host, command)
        if rc:
            raise StepFailed(host, f"{what} failed (exit {rc}): {out.strip()[-400:]}")
        return out

    def wait(self, host: str, what: str, timeout: float, predicate: Callable[[], bool]) -> None:
        deadline = time.monotonic() + timeout
        while True:
            if predicate():
                return
            if time.monotonic() >= deadline:
                raise StepFailed(host, f"timed out after {timeout:.0f} s waiting for {what}")
            self.sleep(self.s.poll)

    def haproxy(self, lb: str, command: str) -> str:
        return self.must(lb, f"echo {shlex.quote(command)} | socat stdio {self.s.admin_sock}",
                         f"HAProxy runtime API `{command}`")

    # -- packages ------------------------------------------------------------
    def installed(self, host: str) -> dict[str, str]:
        return packages.parse_dpkg(self.must(host, DPKG, "dpkg-query"))

    def upgrade(self, host: str, report: HostReport, hold: tuple[str, ...] = ()) -> None:
        """Upgrade, with maintainer scripts kept from restarting ``hold``
        (policy-rc.d): the run restarts them itself, its own way."""
        if not hold:
            return self._upgrade(host, report)
        self.must(host, policy_rc_d(hold), "install policy-rc.d")
        try:
            self._upgrade(host, report)
        finally:
            self.r.run(host, f"grep -q {POLICY_MARK} {POLICY_RC_D} && rm -f {POLICY_RC_D}")

    def _upgrade(self, host: str, report: HostReport) -> None:
        before = self.installed(host)
        self.must(host, "apt-get -q -o DPkg::Lock::Timeout=600 update", "apt-get update")
        if self.s.pinned is not None:
            args = packages.install_args(self.s.pinned, before)
            if args:
                self.must(host, f"{APT_ENV} install --only-upgrade "
                                + " ".join(shlex.quote(a) for a in args), "apt-get install")
        elif self.s.only_packages:
            self.must(host, f"{APT_ENV} install --only-upgrade "
                            + " ".join(shlex.quote(p) for p in self.s.only_packages),
                      "apt-get install")
        else:
            # --with-new-pkgs: a new kernel ABI comes as a new package; never removes any.
            self.must(host, f"{APT_ENV} upgrade --with-new-pkgs", "apt-get upgrade")
        report.changes = packages.changes(before, self.installed(host))
        self.log(f"[{host}] {len(report.changes)} package(s) changed")

    def after_upgrade(self, host: str, report: HostReport) -> needrestart.Decision:
        out = self.must(host, "needrestart -b -r l", "needrestart")
        rc, _ = self.r.run(host, "test -e /run/reboot-required")
        decision = needrestart.decide(needrestart.parse(out), self.s.can_reboot(host),
                                      reboot_required_file=rc == 0)
        report.notes += decision.notes
        if decision.reboot:
            self.reboot(host)
            report.rebooted = True
            return decision
        if decision.reexec_systemd:
            self.must(host, "systemctl daemon-reexec", "systemctl daemon-reexec")
            report.restarted.append("systemd (daemon-reexec)")
        for svc in decision.restart:
            self.must(host, f"systemctl restart {shlex.quote(svc)}", f"restart {svc}")
            report.restarted.append(svc)
        return decision

    def reboot(self, host: str) -> None:
        self.log(f"[{host}] rebooting for a new kernel")
        boot_id = self.must(host, "cat /proc/sys/kernel/random/boot_id", "boot id").strip()
        self.r.run(host, "systemd-run --on-active=2 systemctl reboot")
        self.sleep(5)

        def back() -> bool:
            # "degraded" (a unit failed) still counts as booted: the health
            # checks of the host's role decide whether it may serve again.
            rc, out = self.r.run(host, "cat /proc/sys/kernel/random/boot_id; "
                                       "systemctl is-system-running --wait || true")
            words = out.split()
            return rc == 0 and len(words) >= 2 and words[0] != boot_id \
                and words[1] in ("running", "degraded")
        self.wait(host, "the host to come back after its reboot", 600, back)

    def restart_managed(self, host: str, decision: needrestart.Decision, report: HostReport,
                        service: str) -> None:
        if not decision.reboot and f"{service}.service" in decision.managed:
            self.must(host, f"systemctl restart {service}.service", f"restart {service}")
            report.restarted.append(f"{service}.service")

    # -- app nodes -----------------------------------------------------------
    def server_states(self, lb: str) -> dict[str, haproxy.ServerState]:
        try:
            return haproxy.parse_servers_state(self.haproxy(lb, f"show servers state {BACKEND}"))
        except ValueError as exc:
            raise StepFailed(lb, str(exc)) from None

    def stats(self, lb: str) -> dict[tuple[str, str], haproxy.ServerStat]:
        try:
            return haproxy.parse_stat(self.haproxy(lb, "show stat"))
        except ValueError as exc:
            raise StepFailed(lb, str(exc)) from None

    def set_state(self, host: str, state: str) -> None:
        for lb in self.s.lbs:
            answer = self.haproxy(lb, f"set server {BACKEND}/{host} state {state}")
            if not haproxy.command_ok(answer):
                raise StepFailed(host, f"{lb} refused `state {state}`: {answer.strip()}")

    def drain(self, host: str) -> None:
        others = [h for h, st in self.server_states(self.s.lbs[0]).items()
                  if h != host and st.ready]
        if not others:
            raise StepFailed(host, "no other app node is up and ready: draining it would "
                                   "stop the service")
        self.set_state(host, "drain")
        self.wait(host, "its sessions on every load balancer to end", self.s.drain_timeout,
                  lambda: all(self.stats(lb)[(BACKEND, host)].current_sessions == 0
                              for lb in self.s.lbs))

    def healthy(self, host: str) -> bool:
        rc, _ = self.r.run(host, f"curl -sf -o /dev/null http://127.0.0.1:{self.s.app_port}/healthz")
        return rc == 0

    def back_in(self, host: str) -> None:
        self.wait(host, "/healthz on the node", self.s.health_timeout, lambda: self.healthy(host))
        self.set_state(host, "ready")
        # Health checks run while drained: UP in every HAProxy's eyes before
        # the next node, and past its slow start too (op_state STARTING until
        # then): the next node's drain refuses while no other node is ready,
        # which stopped a lab run that went on right after the "UP".
        self.wait(host, "every load balancer to see it UP and ready", self.s.health_timeout,
                  lambda: all(self.stats(lb)[(BACKEND, host)].up
                              and self.server_states(lb)[host].ready for lb in self.s.lbs))

    def patch_app(self, host: str, report: HostReport) -> None:
        self.drain(host)
        self.upgrade(host, report)
        decision = self.after_upgrade(host, report)
        self.restart_managed(host, decision, report, "mimamori")
        self.back_in(host)

    # -- load balancers --------------------------------------------------------
    def patch_lb(self, host: str, report: HostReport) -> None:
        # Debian's haproxy and keepalived packages restart their service on
        # upgrade: a restart of the VIP holder's HAProxy would move the VIP.
        self.upgrade(host, report, hold=("haproxy", "keepalived"))
        decision = self.after_upgrade(host, report)
        if not decision.reboot and "haproxy.service" in decision.managed:
            # A reload re-executes HAProxy's master from the new binary and
            # libraries and hands it the listening sockets (expose-fd
            # listeners): no refused connection, the VIP stays where it is.
            self.must(host, "systemctl reload haproxy.service", "reload haproxy")
            report.restarted.append("haproxy.service (reload)")
        # keepalived has no such reload: on the VIP holder (patched last) its
        # restart hands the VIP to the patched peer and preemption brings it back.
        self.restart_managed(host, decision, report, "keepalived")
        self.wait(host, "HAProxy and keepalived active", self.s.health_timeout, lambda: self.r.run(
            host, "systemctl is-active --quiet haproxy keepalived")[0] == 0)

    # -- database ------------------------------------------------------------
    def cluster(self, host: str) -> str:
        return self.must(host, "patronictl list -f json", "patronictl list")

    def cluster_healthy(self, host: str) -> bool:
        try:
            members = json.loads(self.cluster(host))
        except (StepFailed, ValueError):
            return False
        return members_healthy(members)

    def leader(self, host: str) -> str | None:
        for m in json.loads(self.cluster(host)):
            if m.get("Role") == "Leader":
                return m["Member"]
        return None

    def patch_db(self, step: Step, report: HostReport) -> None:
        host = step.host
        self.wait(host, "a healthy cluster (one leader, replicas streaming, no lag)",
                  self.s.health_timeout, lambda: self.cluster_healthy(host))
        if step.switchover_to:
            if self.leader(host) == host:
                self.log(f"[{host}] switchover to {step.switchover_to}")
                self.must(host, f"patronictl switchover --leader {host} "
                                f"--candidate {step.switchover_to} --force", "patronictl switchover")
            self.wait(host, f"{step.switchover_to} to lead and {host} to stream",
                      self.s.health_timeout,
                      lambda: self.cluster_healthy(host) and self.leader(host) != host)
        self.upgrade(host, report)
        decision = self.after_upgrade(host, report)
        # Only ever on a replica: the primary was switched away above.
        self.restart_managed(host, decision, report, "etcd")
        self.restart_managed(host, decision, report, "patroni")
        self.wait(host, "the cluster healthy again after the upgrade", self.s.health_timeout,
                  lambda: self.cluster_healthy(host))

    # -- the run ---------------------------------------------------------------
    def run(self, steps: list[Step]) -> RunReport:
        report = RunReport()
        for i, step in enumerate(steps):
            hr = HostReport(step.host)
            t0 = time.monotonic()
            self.log(f"[{step.host}] patching ({step.kind})")
            try:
                if step.kind == APP:
                    self.patch_app(step.host, hr)
                elif step.kind == LB:
                    self.patch_lb(step.host, hr)
                elif step.kind == DB:
                    self.patch_db(step, hr)
                else:
                    self.upgrade(step.host, hr)
                    decision = self.after_upgrade(step.host, hr)
                    # e.g. etcd on the monitoring host: one member at a time keeps quorum.
                    for svc in decision.managed:
                        self.restart_managed(step.host, decision, hr, svc.removesuffix(".service"))
            except Exception as exc:  # noqa: BLE001 - whatever broke, stop here and record it
                if not isinstance(exc, StepFailed):
                    exc = StepFailed(step.host, f"{type(exc).__name__}: {exc}")
                hr.seconds = time.monotonic() - t0
                report.failed, report.error = step.host, str(exc)
                report.untouched = [s.host for s in steps[i + 1:]]
                # What did change on the failed host is recorded too.
                report.done.append(hr)
                self.log(f"STOPPED at {step.host}: {exc}; untouched: "
                         f"{', '.join(report.untouched) or 'none'}")
                return report
            hr.seconds = time.monotonic() - t0
            report.done.append(hr)
        return report
