"""The rolling sequence and its stop rule (provisioning/lib/patching/rolling.py),
against simulated hosts that answer the commands the run sends (apt, dpkg-query,
needrestart, HAProxy's runtime API, patronictl). The real HAProxy runtime API is
exercised in test_patching_haproxy.py; the whole run on real hosts in
tests/lab/test_45_rolling_patch.py."""

import json
import re
import sys
from collections import defaultdict
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "provisioning"))
from lib.patching.order import plan  # noqa: E402
from lib.patching.rolling import Rolling, Settings, members_healthy  # noqa: E402

pytestmark = pytest.mark.req("O-PATCH", "O-247", "O-CHANGE")

GROUPS = {"lb": ["lb1", "lb2"], "app": ["app1", "app2"], "db": ["db1", "db2"],
          "all": ["lb1", "lb2", "app1", "app2", "db1", "db2", "mon1"]}
MANAGED = {"lb1": "haproxy.service", "lb2": "haproxy.service", "app1": "mimamori.service",
           "app2": "mimamori.service", "db1": "patroni.service", "db2": "patroni.service"}


class Hosts:
    """Every host of the lab, as far as the run can see them."""

    def __init__(self, broken=()):
        self.log: list[tuple[str, str]] = []
        self.pkgs = defaultdict(lambda: {"openssl": "1", "cron": "1"})
        self.broken = set(broken)
        self.admin = {lb: {"app1": 0, "app2": 0} for lb in GROUPS["lb"]}
        self.leader = "db1"

    def run(self, host, cmd):
        self.log.append((host, cmd))
        if cmd.startswith("dpkg-query"):
            return 0, "".join(f"{p}\t{v}\tii \n" for p, v in self.pkgs[host].items())
        if cmd.startswith("apt-get -s"):
            return 0, f"Inst openssl [{self.pkgs[host]['openssl']}] (2 Debian:12.9/stable [amd64])\n"
        if "apt-get" in cmd and (" upgrade" in cmd or " install" in cmd):
            if host in self.broken:
                return 100, "E: Sub-process /usr/bin/dpkg returned an error code (1)"
            self.pkgs[host]["openssl"] = "2"
            return 0, ""
        if cmd.startswith("needrestart"):
            svc = MANAGED.get(host)
            return 0, ("NEEDRESTART-KSTA: 1\nNEEDRESTART-SVC: cron.service\n"
                       + (f"NEEDRESTART-SVC: {svc}\n" if svc else ""))
        if "socat" in cmd:
            return 0, self.haproxy(host, re.search(r"echo '?([^|']*)'? \|", cmd)[1])
        if cmd.startswith("patronictl list"):
            return 0, json.dumps([
                {"Member": m, "Role": "Leader" if m == self.leader else "Sync Standby",
                 "State": "running" if m == self.leader else "streaming", "Lag in MB": 0}
                for m in ("db1", "db2")])
        if cmd.startswith("patronictl switchover"):
            self.leader = re.search(r"--candidate (\S+)", cmd)[1]
            return 0, "Successfully switched over"
        if cmd.startswith("test -e /run/reboot-required"):
            return 1, ""
        return 0, ""  # systemctl, curl /healthz, apt-get update

    def haproxy(self, lb, command):
        words = command.split()
        if command.startswith("set server"):
            name = words[2].split("/")[1]
            self.admin[lb][name] = 8 if words[-1] == "drain" else 0
            return "\n"
        if command.startswith("show servers state"):
            return "1\n# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state\n" + "".join(
                f"3 app {i} {n} 10.0.0.{i} 2 {a}\n" for i, (n, a) in enumerate(self.admin[lb].items(), 1))
        return "# pxname,svname,scur,status\n" + "".join(
            f"app,{n},0,{'DRAIN' if a else 'UP'}\n" for n, a in self.admin[lb].items())


def roll(hosts):
    messages = []
    rolling = Rolling(hosts, Settings(lbs=["lb1", "lb2"], poll=0, drain_timeout=1,
                                      health_timeout=1, can_reboot=lambda h: False),
                      log=messages.append, sleep=lambda s: None)
    return rolling.run(plan(GROUPS, vip_holder="lb1", primary="db1")), messages


def first(log, host, needle):
    return next(i for i, (h, c) in enumerate(log) if h == host and needle in c)


def test_whole_run_patches_every_host_in_order_with_drain_and_switchover():
    hosts = Hosts()
    report, _ = roll(hosts)
    assert report.failed is None
    assert [r.host for r in report.done] == ["lb2", "lb1", "app1", "app2", "db2", "db1", "mon1"]
    assert all(r.changes == [{"package": "openssl", "before": "1", "after": "2"}]
               for r in report.done)
    log = hosts.log
    # app1: drained on both load balancers before its upgrade, back after its restart.
    upgrade = first(log, "app1", "apt-get -y")
    assert first(log, "lb1", "app/app1 state drain") < upgrade
    assert first(log, "lb2", "app/app1 state drain") < upgrade
    restart = first(log, "app1", "systemctl restart mimamori.service")
    assert upgrade < restart < first(log, "lb1", "app/app1 state ready")
    assert restart < first(log, "lb2", "app/app1 state ready")
    # The old primary hands over before anything changes on it; the replica went first.
    assert first(log, "db2", "apt-get -y") < first(log, "db1", "patronictl switchover --leader db1 "
                                                               "--candidate db2") < first(log, "db1", "apt-get -y")
    assert hosts.leader == "db2"
    assert "systemctl restart cron.service" in [c for h, c in log if h == "mon1"]
    # Package scripts may not restart HAProxy/keepalived during the LB's upgrade.
    lb_apt = first(log, "lb1", "apt-get -y")
    assert first(log, "lb1", "> /usr/sbin/policy-rc.d") < lb_apt < first(log, "lb1", "rm -f /usr/sbin/policy-rc.d")
    assert not [c for h, c in log if h.startswith("app") and "policy-rc.d" in c]
    # HAProxy's new binary through a reload (sockets handed over), never a restart.
    assert "systemctl reload haproxy.service" in [c for h, c in log if h == "lb1"]
    assert not [c for h, c in log if "restart haproxy" in c]
    assert all(hosts.admin[lb] == {"app1": 0, "app2": 0} for lb in hosts.admin)


def test_first_failure_stops_the_run_and_later_hosts_are_untouched():
    hosts = Hosts(broken={"app2"})
    report, messages = roll(hosts)
    assert report.failed == "app2" and "apt-get upgrade failed (exit 100)" in report.error
    assert report.untouched == ["db2", "db1", "mon1"]
    assert not [c for h, c in hosts.log if h in report.untouched]
    # The failed node stays drained: the others carry the service until an operator looks.
    assert all(hosts.admin[lb]["app2"] == 8 for lb in hosts.admin)
    assert "STOPPED at app2" in messages[-1]


def test_an_unhealthy_cluster_stops_before_the_database_is_touched():
    hosts = Hosts()
    hosts.run = (lambda orig: lambda h, c: (0, json.dumps([{"Member": "db1", "Role": "Leader",
                                                            "State": "running"}]))
                 if c.startswith("patronictl list") else orig(h, c))(hosts.run)
    report, _ = roll(hosts)
    assert report.failed == "db2" and "healthy cluster" in report.error
    assert not [c for h, c in hosts.log if h in ("db1", "db2") and "apt-get" in c]


def test_members_healthy():
    leader = {"Member": "db1", "Role": "Leader", "State": "running"}
    replica = {"Member": "db2", "Role": "Sync Standby", "State": "streaming", "Lag in MB": 0}
    assert members_healthy([leader, replica])
    assert not members_healthy([leader, dict(replica, **{"Lag in MB": 3})])
    assert not members_healthy([leader, dict(replica, State="stopped")])
    assert not members_healthy([leader, dict(replica, **{"Lag in MB": "unknown"})])
    assert not members_healthy([leader, dict(replica, Role="Leader", State="running")])


def test_an_unexpected_error_also_stops_and_is_reported():
    hosts = Hosts()
    # lb1's HAProxy does not know app2 (a renamed node): a KeyError inside the drain wait.
    hosts.haproxy = (lambda orig: lambda lb, c: orig(lb, c).replace("app2", "web2")
                     if lb == "lb1" else orig(lb, c))(hosts.haproxy)
    report, _ = roll(hosts)
    assert report.failed == "app2" and "KeyError" in report.error
    assert report.untouched == ["db2", "db1", "mon1"]


def test_a_new_kernel_reboots_a_host_that_can_and_waits_for_a_new_boot():
    hosts = Hosts()
    boots = iter(["boot-1\n", "boot-1\nrunning\n", "boot-2\nstarting\n", "boot-2\ndegraded\n"])
    orig = hosts.run

    def run(h, c):
        if c.startswith("needrestart") and h == "mon1":
            hosts.log.append((h, c))
            return 0, "NEEDRESTART-KCUR: 6.1.0-25-amd64\nNEEDRESTART-KEXP: 6.1.0-26-amd64\nNEEDRESTART-KSTA: 3\n"
        if "boot_id" in c and h == "mon1":
            hosts.log.append((h, c))
            return 0, next(boots)
        return orig(h, c)
    hosts.run = run
    rolling = Rolling(hosts, Settings(lbs=["lb1", "lb2"], poll=0, health_timeout=1,
                                      can_reboot=lambda h: h == "mon1"),
                      log=lambda m: None, sleep=lambda s: None)
    report = rolling.run(plan({"all": ["mon1"]}, None, None))
    assert report.failed is None and report.done[0].rebooted
    cmds = [c for h, c in hosts.log if h == "mon1"]
    assert "systemd-run --on-active=2 systemctl reboot" in cmds
    assert not [c for c in cmds if c.startswith("systemctl restart")]
    assert next(boots, None) is None  # waited through the old boot and "starting"
