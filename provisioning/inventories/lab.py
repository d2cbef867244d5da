"""The lab: systemd-nspawn hosts on this machine, made by `ci/lab/lab up`.

Groups name roles; the group named after the environment (``lab``) carries the
environment's data (group_data/lab.py) and holds every host.
"""

import os
from pathlib import Path

# ci/lab/lab's state (its ssh key), or LAB_STATE as ci/lab/lab itself reads it: a
# second checkout can then deploy to a lab that another one brought up.
_STATE = Path(os.environ.get("LAB_STATE") or Path(__file__).resolve().parents[2] / "ci" / "lab" / "state")


def _host(name, address, **data):
    return (name, {
        "ssh_hostname": address,
        "ssh_user": "root",
        "ssh_key": str(_STATE / "id_ed25519"),
        # Lab hosts get new host keys every time they are created.
        "ssh_strict_host_key_checking": "no",
        "ssh_known_hosts_file": "/dev/null",
        **data,
    })


lb = [_host("lb1", "10.77.0.11"), _host("lb2", "10.77.0.12")]
app = [_host("app1", "10.77.0.21"), _host("app2", "10.77.0.22")]
# PostgreSQL under Patroni; the first bootstraps the cluster (roles/db).
db = [_host("db1", "10.77.0.31"), _host("db2", "10.77.0.32")]
# mon1 runs the lab's ACME CA (and monitoring); backup1 is the backup host.
acme_lab = [_host("mon1", "10.77.0.51")]
other = [_host("backup1", "10.77.0.41")]
# The pgBackRest repository and the restic file repositories (roles/backup).
backup = other
# The three etcd members Patroni keeps its leader key in (roles/etcd).
etcd = db + acme_lab

# mon1 also carries the monitoring role's firewall ports and receives the logs.
mon = acme_lab

lab = lb + app + db + acme_lab + other

# A full VM (qemu, ci/lab/vm) with a kernel of its own: the base role's
# kernel-level controls (auditd, kernel sysctls, module blacklist, mount
# options, chrony setting the clock) take effect there, and the compliance suite
# checks them there (issue 6 item 3). It runs the roles every host runs and no
# role of the appliance. Its CPU is emulated (~8x slower): keep it to one host.
vmhosts = [_host(
    "vm1", "10.77.0.71",
    # Measured: a process start costs ~140 ms on the emulated CPU (~4 ms in a
    # container), and Lynis starts at least one per line it logs (~7,000): it
    # wrote 1,371 lines in 12 minutes. The VM's kernel-level controls are proven
    # by tests/compliance/test_40_kernel.py; production VMs run Lynis like any host.
    lynis_skip="Software-emulated VM (qemu without KVM): a process start costs ~140 ms "
               "(~4 ms in a container) and Lynis starts one for each of its ~7,000 log lines; "
               "it logged 1,371 lines in 12 minutes, so it would take about an hour. Not run "
               "here; the kernel-level controls are checked on this host by test_40_kernel.",
)]
lab += vmhosts
