"""Kernel-level controls, checked on the hosts with a kernel of their own
(inventory group ``vmhosts``; in the lab the qemu VM vm1, ci/lab/vm).

Containers share the control machine's kernel: auditd cannot run there, and
kernel-wide sysctls, module loading, mounts and the clock belong to the machine
(shared/LAB.md). The base role applies the same files to every host and takes
effect on these hosts; these checks prove it. What each check expects is read
from the role's own files, so a rule added to the role is checked at once.
"""

import re
import time
import uuid
from pathlib import Path

import pytest

from inventory import PROV

req = pytest.mark.req
on_vms = pytest.mark.groups("vmhosts")

BASE = PROV / "roles" / "base" / "templates"


def _lines(path: Path) -> list[str]:
    return [l.strip() for l in path.read_text().splitlines() if l.strip() and not l.lstrip().startswith("#")]


def expected_audit_rules() -> list[dict]:
    """The role's audit rules as comparable facts: what is watched or which
    system calls, with which permissions, under which key."""
    out = []
    for line in _lines(BASE / "audit.rules"):
        f = line.split()
        key = f[f.index("-k") + 1]
        if f[0] == "-w":
            out.append({"watch": f[1], "perm": f[f.index("-p") + 1], "key": key})
        elif "-S" in f:
            arch = next(x.split("=", 1)[1] for i, x in enumerate(f) if f[i - 1] == "-F" and x.startswith("arch="))
            out.append({"arch": arch, "syscalls": set(f[f.index("-S") + 1].split(",")), "key": key})
        else:
            # -F path=P -F perm=X: the kernel lists it as a watch (-w P -p X).
            fields = dict(x.split("=", 1) for i, x in enumerate(f) if f[i - 1] == "-F")
            out.append({"watch": fields["path"], "perm": fields["perm"], "key": key})
    return out


def loaded_audit_rules(text: str) -> list[dict]:
    out = []
    for line in text.splitlines():
        f = line.split()
        if not f:
            continue
        if f[0] == "-w":
            out.append({"watch": f[1], "perm": f[f.index("-p") + 1], "key": f[f.index("-k") + 1]})
        elif "-S" in f:
            fields = dict(x.split("=", 1) for i, x in enumerate(f) if f[i - 1] == "-F")
            out.append({"arch": fields.get("arch"), "syscalls": set(f[f.index("-S") + 1].split(",")),
                        "key": fields.get("key")})
    return out


@on_vms
@req("O-LOGKEEP", "T-SP 17")
def test_auditd_runs_with_every_rule_loaded_and_locked(node, inv):
    """auditd active and enabled; every rule of the base role (identity files, sudoers, time
    changes, logins and sessions, module loading) is in the kernel (auditctl -l), locked (-e 2)."""
    assert node.host.service("auditd").is_running
    assert node.host.service("auditd").is_enabled
    status = node.run("auditctl -s")
    locked = inv.data.get("audit_immutable", True)
    assert re.search(rf"^enabled {2 if locked else 1}$", status, re.M), status
    loaded = loaded_audit_rules(node.run("auditctl -l"))
    expected = expected_audit_rules()
    assert {r["key"] for r in expected} >= {"identity", "scope", "time-change", "logins", "session", "modules"}
    missing = [r for r in expected if r not in loaded]
    assert not missing, missing
    # Processes started before auditd are audited too (kernel command line).
    assert "audit=1" in node.run("cat /proc/cmdline").split()


@on_vms
@req("O-LOGKEEP", "T-SP 17")
def test_audit_records_a_sudoers_change_and_ships_it_to_the_log_host(node, inv):
    """A change under /etc/sudoers.d is recorded with its key and reaches the log host."""
    from conftest import Target
    probe = f"mimamori-audit-probe-{uuid.uuid4().hex[:12]}"
    node.run(f"install -m 0440 /dev/null /etc/sudoers.d/{probe} && rm -f /etc/sudoers.d/{probe}")
    # auditd writes its log asynchronously; the emulated CPU can be minutes behind under load.
    deadline = time.time() + 120
    while True:
        # --input-logs: without a terminal, ausearch reads stdin instead of the logs.
        found = node.host.run(f"ausearch --input-logs -k scope -i | grep -F {probe}")
        if found.rc == 0 or time.time() > deadline:
            break
        time.sleep(1)
    assert found.rc == 0, "no audit record for the sudoers.d change"
    log_host = Target(inv.nodes[inv.data["log_host"]], inv)
    path = f"/var/log/remote/{node.name}/auth.log"
    # One event is several records (SYSCALL with the key, PATH with the file
    # name) sharing its serial msg=audit(TIME:N): find both on the log host.
    deadline = time.time() + 120
    while True:
        shipped = log_host.run(f"grep -F 'msg=audit(' {path} || true")
        serials = set(re.findall(r"msg=audit\(([\d.:]+)\).*" + re.escape(probe), shipped))
        keyed = [l for l in shipped.splitlines() if 'key="scope"' in l
                 and any(f"msg=audit({s})" in l for s in serials)]
        if keyed:
            break
        assert time.time() < deadline, f"the audit event did not reach {path} on the log host"
        time.sleep(2)


@on_vms
@req("O-FW")
def test_kernel_sysctls_in_force(node):
    """Every kernel-wide sysctl of the base role (60-mimamori-kernel.conf) has its value in the running kernel."""
    expected = dict(re.split(r"\s*=\s*", l, maxsplit=1) for l in _lines(BASE / "sysctl-kernel.conf"))
    assert len(expected) >= 10
    wrong = {k: node.run(f"sysctl -n {k}").strip() for k in expected}
    wrong = {k: v for k, v in wrong.items() if v != expected[k]}
    assert not wrong, wrong


@on_vms
@req("O-FW")
def test_network_sysctls_in_force_on_a_real_kernel(node):
    """The network sysctls (60-mimamori-net.conf) hold in the VM's own kernel, every one of them."""
    expected = dict(re.split(r"\s*=\s*", l, maxsplit=1) for l in _lines(BASE / "sysctl-net.conf"))
    wrong = {k: node.run(f"sysctl -n {k}").strip() for k in expected}
    wrong = {k: v for k, v in wrong.items() if v != expected[k]}
    assert not wrong, wrong


@on_vms
@req("O-FW")
def test_unused_kernel_modules_cannot_load(node):
    """Each blacklisted module resolves to its `install /bin/false` (or /bin/true) line, is not loaded,
    and loading it fails (or does nothing)."""
    commands = {l.split()[1]: l.split()[2] for l in _lines(BASE / "modprobe-blacklist.conf")
                if l.startswith("install ")}
    modules = list(commands)
    assert {"cramfs", "usb-storage", "dccp", "sctp", "firewire-core"} <= set(modules)
    assert set(commands.values()) <= {"/bin/false", "/bin/true"}
    loaded = node.run("cut -d' ' -f1 /proc/modules").split()
    # One command for all: every process start is slow on the emulated CPU.
    out = node.run("for m in " + " ".join(modules) + "; do echo \"$m: $(modprobe -n -v $m 2>&1 | tail -1)\"; done")
    resolved = dict(l.split(": ", 1) for l in out.splitlines())
    for mod in modules:
        assert resolved[mod].strip() == f"install {commands[mod]}", (mod, resolved[mod])
        assert mod.replace("-", "_") not in loaded, mod
    assert node.host.run("modprobe cramfs").rc != 0


@on_vms
@req("O-FW")
@pytest.mark.parametrize("path", ["/tmp", "/dev/shm"])
def test_temporary_folders_mounted_nodev_nosuid_noexec(node, path):
    """/tmp and /dev/shm: tmpfs mounted nodev,nosuid,noexec, from fstab; a program copied there does not run."""
    fstype, options = node.run(f"findmnt -n -o FSTYPE,OPTIONS {path}").split()
    assert fstype == "tmpfs"
    assert {"nodev", "nosuid", "noexec"} <= set(options.split(",")), options
    assert re.search(rf"^\S+\s+{re.escape(path)}\s+tmpfs\s+\S*noexec", node.run("cat /etc/fstab"), re.M)
    probe = f"{path}/mimamori-exec-probe"
    node.run(f"cp /bin/true {probe}")
    try:
        ran = node.host.run(probe)
    finally:
        node.run(f"rm -f {probe}")
    assert ran.rc != 0 and "ermission denied" in ran.stderr, (ran.rc, ran.stderr)


@on_vms
@req("O-TIME", "T-SP 18")
def test_chrony_disciplines_the_system_clock(node, inv):
    """chronyd runs as shipped (not -x), is synchronised to the environment's time server,
    and the kernel reports the clock synchronised (timedatectl)."""
    args = node.run("ps -o args= -C chronyd")
    assert args.strip() and " -x" not in f" {args} ", args
    assert not node.host.file("/etc/systemd/system/chrony.service.d/mimamori-container.conf").exists
    wanted = {inv.nodes[s].address if s in inv.nodes else s for s in inv.data["time_servers"]}
    deadline = time.time() + 180
    while True:
        track = node.run("chronyc -n tracking")
        synced = node.run("timedatectl show -p NTPSynchronized --value").strip()
        ref = re.search(r"^Reference ID\s*:\s*\S+\s+\((\S+)\)", track, re.M)
        if (synced == "yes" and ref and ref[1] in wanted) or time.time() > deadline:
            break
        time.sleep(3)
    assert ref and ref[1] in wanted, track
    assert re.search(r"^Leap status\s*:\s*Normal", track, re.M), track
    assert synced == "yes", track
