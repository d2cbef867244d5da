"""Reading needrestart's batch output and deciding restart or reboot
(provisioning/lib/patching/needrestart.py)."""

import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "provisioning"))
from lib.patching import needrestart  # noqa: E402

pytestmark = pytest.mark.req("O-PATCH")

AFTER_OPENSSL = """NEEDRESTART-VER: 3.6
NEEDRESTART-KCUR: 6.1.0-25-amd64
NEEDRESTART-KEXP: 6.1.0-25-amd64
NEEDRESTART-KSTA: 1
NEEDRESTART-SVC: cron.service
NEEDRESTART-SVC: haproxy.service
NEEDRESTART-SVC: ssh.service
NEEDRESTART-SVC: rsyslog.service
NEEDRESTART-SVC: getty@tty1.service
NEEDRESTART-SVC: systemd-networkd.service
NEEDRESTART-SVC: systemd
NEEDRESTART-SESS: root @ session #3
"""
NEW_KERNEL = """NEEDRESTART-VER: 3.6
NEEDRESTART-KCUR: 6.1.0-25-amd64
NEEDRESTART-KEXP: 6.1.0-26-amd64
NEEDRESTART-KSTA: 3
NEEDRESTART-SVC: cron.service
"""


def test_services_split_into_generic_managed_and_never():
    d = needrestart.decide(needrestart.parse(AFTER_OPENSSL), can_reboot=True)
    assert not d.reboot
    assert d.restart == ["cron.service", "rsyslog.service"]
    assert d.managed == ["haproxy.service"]
    assert d.reexec_systemd
    assert any("ssh.service" in n for n in d.notes) and any("getty@tty1" in n for n in d.notes)
    assert any("systemd-networkd" in n for n in d.notes)


def test_new_kernel_reboots_where_it_can():
    r = needrestart.parse(NEW_KERNEL)
    assert r.kernel_changed and r.kernel_expected == "6.1.0-26-amd64"
    d = needrestart.decide(r, can_reboot=True)
    assert d.reboot and d.restart == []


def test_container_restarts_services_instead_and_says_so():
    d = needrestart.decide(needrestart.parse(NEW_KERNEL), can_reboot=False)
    assert not d.reboot and d.restart == ["cron.service"]
    assert "cannot reboot" in d.notes[0]


def test_reboot_required_file_alone_asks_for_a_reboot():
    current = needrestart.parse("NEEDRESTART-KSTA: 1\n")
    assert not needrestart.decide(current, True).reboot
    assert needrestart.decide(current, True, reboot_required_file=True).reboot


def test_parses_the_real_needrestart_of_this_machine():
    """Debian's needrestart here (a container: kernel status unknown, no reboot)."""
    out = subprocess.run(["needrestart", "-b", "-r", "l"], capture_output=True, text=True).stdout
    r = needrestart.parse(out)
    assert "NEEDRESTART-VER" in out
    assert r.kernel_current and r.kernel_status in (0, 1, 2, 3)
    assert all(s.endswith(".service") or s == "systemd" for s in r.services)


def test_policy_rc_d_refuses_only_the_held_services(tmp_path):
    """The script patch_lb installs, run for real: 101 for haproxy/keepalived, 0 otherwise."""
    from lib.patching.rolling import POLICY_RC_D, policy_rc_d
    target = tmp_path / "policy-rc.d"
    command = policy_rc_d(("haproxy", "keepalived")).replace(POLICY_RC_D, str(target))
    subprocess.run(["bash", "-c", command], check=True)
    rc = {name: subprocess.run([str(target), name, "restart"]).returncode
          for name in ("haproxy", "haproxy.service", "keepalived.service", "cron", "haproxy-x")}
    assert rc == {"haproxy": 101, "haproxy.service": 101, "keepalived.service": 101,
                  "cron": 0, "haproxy-x": 0}
    # Never over an existing policy-rc.d (the host's own).
    assert subprocess.run(["bash", "-c", command]).returncode != 0
