"""Every host's hardening (issue 6): SSH, nftables from the roles' declared ports,
sysctls, kernel module blacklist, PAM lockout and password quality, login.defs,
chrony, persistent journal, unattended security updates with needrestart, ClamAV
with a configurable signature source and a scheduled scan. Central logging is
roles/logging; etckeeper is in roles/common.

Containers (the lab) cannot set kernel-wide sysctls, the clock or run auditd:
the files are written everywhere, and where they cannot take effect the
compliance suite runs those checks on a VM host instead of skipping them.
Hosts with a kernel of their own (VMs, real servers, the lab's vm1) also get
auditd with its rules, the kernel sysctls applied at once, and /tmp and
/dev/shm mounted nodev,nosuid,noexec.
"""

import hashlib
from io import StringIO
from pathlib import Path

from pyinfra import host, inventory
from pyinfra.api import deploy
from pyinfra.facts.files import Directory, File
from pyinfra.facts.server import Command
from pyinfra.operations import apt, files, server, systemd

from lib import firewall

HERE = Path(__file__).parent
T = HERE / "templates"

PACKAGES = [
    "nftables", "openssh-server", "chrony", "libpam-pwquality", "unattended-upgrades",
    "needrestart", "apt-listchanges", "clamav", "clamav-freshclam", "lynis", "logrotate",
    # pwscore (checks), PAM session tmp dirs, package integrity and version
    # listing, process accounting: Lynis's hardening suggestions worth taking.
    "libpwquality-tools", "libpam-tmpdir", "debsums", "apt-show-versions", "acct",
    # pwquality's dictcheck needs cracklib's dictionary (only a Recommends):
    # without it every password change fails with "error loading dictionary".
    "cracklib-runtime",
    # System activity history (CPU, memory, I/O every 10 minutes): the first
    # thing to look at after an incident, kept on the host (Lynis ACCT-9626).
    "sysstat",
    # /etc/protocols: nftables resolves "ip protocol vrrp" in the ruleset by name.
    # An installer's or cloud image's Debian has it; a minimal one may not (issue 22).
    "netbase",
]
# Packages a minimal Debian may carry that no role needs (no needless packages).
NEEDLESS = ["telnet", "inetutils-telnet", "rsh-client", "nis", "talk", "ftp", "xinetd",
            "avahi-daemon", "cups", "rpcbind", "exim4-daemon-light", "snmpd"]

# The lab's own ClamAV signature: this exact content is "infected" (compliance
# suite, O-AV), so a scan proves the mirror's signatures are loaded.
AV_TEST_CONTENT = b"MIMAMORI-LAB-ANTIVIRUS-TEST-FILE-NOT-A-VIRUS\n"
AV_SIGNATURE_NAME = "Mimamori.Lab.TestFile"


def av_signature() -> str:
    return f"{hashlib.md5(AV_TEST_CONTENT).hexdigest()}:{len(AV_TEST_CONTENT)}:{AV_SIGNATURE_NAME}\n"


def in_container() -> bool:
    return bool(host.get_fact(Command, "systemd-detect-virt --container || true").strip()
                not in ("", "none"))


@deploy("Harden the host")
def configure():
    d = host.data
    container = in_container()
    apt.packages(name="Install the hardening packages", packages=PACKAGES)
    apt.packages(name="Remove needless packages", packages=NEEDLESS, present=False)
    _ssh(d)
    _banner()
    _firewall()
    _kernel(container)
    if not container:
        _audit(d)
        _mounts()
    _accounts()
    _time(d, container)
    _journal()
    _activity_history()
    _integrity()
    _patching(d)
    _antivirus(d)


def _ssh(d):
    conf = files.template(
        name="Harden sshd", src=str(T / "sshd.conf.j2"),
        dest="/etc/ssh/sshd_config.d/10-mimamori.conf", mode="0600", ops_cidrs=d.ops_cidrs,
    )
    server.shell(name="Check and reload sshd", commands=["sshd -t", "systemctl reload ssh"],
                 _if=conf.did_change)


# The ward decides the final legal wording; this one already names what an
# auditor looks for (authorised use, prohibition, monitoring, evidence).
BANNER = ("Authorised use only. This system belongs to the Mimamori service of Setagaya ward.\n"
          "Unauthorised access is prohibited and may be subject to criminal prosecution.\n"
          "All activity is logged, monitored and recorded, and may be used as evidence.\n")


def _banner():
    for path in ("/etc/issue", "/etc/issue.net"):
        files.put(name=f"Legal banner {path}", src=StringIO(BANNER), dest=path, mode="0644")


def _firewall():
    conf = files.template(
        name="Write the nftables ruleset", src=str(T / "nftables.conf.j2"),
        dest="/etc/nftables.conf", mode="0700", rules=firewall.rules(),
    )
    # Check the file first: a broken ruleset must never replace a working one.
    server.shell(name="Load the ruleset", commands=["nft -c -f /etc/nftables.conf",
                                                    "nft -f /etc/nftables.conf"],
                 _if=conf.did_change)
    systemd.service(name="Load the ruleset at boot", service="nftables", enabled=True)


def _kernel(container):
    net = files.put(name="Network sysctls", src=str(T / "sysctl-net.conf"),
                    dest="/etc/sysctl.d/60-mimamori-net.conf", mode="0644")
    kernel = files.put(name="Kernel sysctls", src=str(T / "sysctl-kernel.conf"),
              dest="/etc/sysctl.d/60-mimamori-kernel.conf", mode="0644")
    server.shell(name="Apply the network sysctls",
                 commands=["sysctl -q -p /etc/sysctl.d/60-mimamori-net.conf"], _if=net.did_change)
    if not container:
        server.shell(name="Apply the kernel sysctls",
                     commands=["sysctl -q -p /etc/sysctl.d/60-mimamori-kernel.conf"],
                     _if=kernel.did_change)
    files.put(name="Blacklist unused kernel modules", src=str(T / "modprobe-blacklist.conf"),
              dest="/etc/modprobe.d/60-mimamori-blacklist.conf", mode="0644")
    files.put(name="No core dumps", src=StringIO("# Managed by pyinfra (roles/base).\n* hard core 0\n"),
              dest="/etc/security/limits.d/60-mimamori.conf", mode="0644")
    # A core dump holds whatever the process had in memory (sessions, personal
    # data): none from systemd-coredump or login shells either (Lynis KRNL-5820).
    files.put(name="No core dumps from systemd",
              src=StringIO("# Managed by pyinfra (roles/base).\n[Coredump]\nStorage=none\nProcessSizeMax=0\n"),
              dest="/etc/systemd/coredump.conf.d/60-mimamori.conf", mode="0644")
    files.put(name="No core dumps from shells",
              src=StringIO("# Managed by pyinfra (roles/base).\nulimit -c 0\n"),
              dest="/etc/profile.d/mimamori-nocore.sh", mode="0644")


AUDIT_PACKAGES = ["auditd", "audispd-plugins"]


def _audit(d):
    apt.packages(name="Install auditd", packages=AUDIT_PACKAGES)
    rules = files.put(name="Audit rules", src=str(T / "audit.rules"),
                      dest="/etc/audit/rules.d/60-mimamori.rules", mode="0640")
    final = files.template(name="Audit rules locked until reboot",
                           src=str(T / "audit-finalize.rules.j2"),
                           dest="/etc/audit/rules.d/99-mimamori-finalize.rules", mode="0640",
                           immutable=d.get("audit_immutable", True))
    # Audit events also go to syslog, which ships them to the log host (roles/logging).
    plugin = files.line(name="Audit events to syslog", path="/etc/audit/plugins.d/syslog.conf",
                        line=r"^active\s*=", replace="active = yes")
    systemd.service(name="Run auditd", service="auditd", running=True, enabled=True)
    systemd.service(name="Restart auditd for its syslog plugin", service="auditd", restarted=True,
                    _if=plugin.did_change)
    # Once the kernel holds immutable rules (-e 2) nothing can load new ones:
    # they take effect at the next boot, and the deploy says so instead of failing.
    server.shell(
        name="Load the audit rules",
        commands=["augenrules --check >/dev/null; if auditctl -s | grep -q '^enabled 2'; then"
                  " echo 'audit rules are locked until reboot: the new rules load at the next boot' >&2;"
                  " else augenrules --load; fi"],
        _if=lambda: rules.did_change() or final.did_change(),
    )


# Temporary folders never hold devices, set-user-ID programs or anything to run
# (CIS Debian 12 1.1.2.1, 1.1.2.2; dev-sec linux-baseline os-14).
MOUNTS = {
    "/tmp": "tmpfs /tmp tmpfs rw,nosuid,nodev,noexec,relatime,size=25%,mode=1777 0 0",
    "/dev/shm": "tmpfs /dev/shm tmpfs rw,nosuid,nodev,noexec,relatime 0 0",
}


def _mounts():
    for path, entry in MOUNTS.items():
        line = files.line(name=f"Mount {path} nodev,nosuid,noexec", path="/etc/fstab",
                          line=rf"^\S+\s+{path}\s", replace=entry)
        server.shell(name=f"Mount {path} with its options now",
                     commands=[f"systemctl daemon-reload; if mountpoint -q {path}; then"
                               f" mount -o remount {path}; else mount {path}; fi"],
                     _if=line.did_change)


def _accounts():
    files.put(name="Account lockout", src=str(T / "faillock.conf"),
              dest="/etc/security/faillock.conf", mode="0644")
    files.put(name="Password quality", src=str(T / "pwquality.conf"),
              dest="/etc/security/pwquality.conf", mode="0644")
    for name in ("common-auth", "common-account", "common-password"):
        files.put(name=f"PAM {name}", src=str(T / name), dest=f"/etc/pam.d/{name}", mode="0644")
    for key, value in {"PASS_MAX_DAYS": "365", "PASS_MIN_DAYS": "1", "PASS_WARN_AGE": "14",
                       "UMASK": "027", "ENCRYPT_METHOD": "YESCRYPT", "LOGIN_RETRIES": "3",
                       "LOGIN_TIMEOUT": "60",
                       # yescrypt is used; should anything fall back to SHA-512
                       # crypt, it still gets many rounds (Lynis AUTH-9230).
                       "SHA_CRYPT_MIN_ROUNDS": "65536", "SHA_CRYPT_MAX_ROUNDS": "65536"}.items():
        # pyinfra matches with grep's basic regular expressions, where "?" is a
        # plain character: "#*" is the optional comment sign. KEY right after
        # it, so prose comments ("# UMASK is the default...") stay comments.
        files.line(name=f"login.defs {key}", path="/etc/login.defs",
                   line=rf"^#*{key}\s", replace=f"{key}\t{value}")
    files.put(name="Idle shells end after 15 minutes",
              src=StringIO("# Managed by pyinfra (roles/base).\nreadonly TMOUT=900; export TMOUT\n"),
              dest="/etc/profile.d/mimamori-tmout.sh", mode="0644")


def _time(d, container):
    serving = host.name in d.time_servers
    servers = [s for s in d.time_servers if s != host.name]
    conf = files.template(
        name="chrony servers", src=str(T / "chrony.conf.j2"), dest="/etc/chrony/chrony.conf",
        servers=servers, serving=serving,
        clients=[h.data.ssh_hostname for h in inventory.get_group(host.data.env, [])],
    )
    dropin_path = "/etc/systemd/system/chrony.service.d/mimamori-container.conf"
    if container:
        dropin = files.put(name="chrony in a container", src=str(T / "chrony-container.conf"),
                           dest=dropin_path)
    else:
        dropin = files.file(name="No container drop-in for chrony", path=dropin_path, present=False)
    systemd.daemon_reload(name="Reload units for chrony", _if=dropin.did_change)
    systemd.service(name="Restart chrony", service="chrony", restarted=True,
                    _if=lambda: conf.did_change() or dropin.did_change())
    systemd.service(name="Run chrony (always)", service="chrony", running=True, enabled=True)


def _journal():
    files.directory(name="Persistent journal folder", path="/var/log/journal", mode="2755",
                    group="systemd-journal")
    conf = files.put(name="journald settings", src=str(T / "journald.conf"),
                     dest="/etc/systemd/journald.conf.d/50-mimamori.conf", mode="0644")
    server.shell(name="Move the journal to disk",
                 commands=["systemctl restart systemd-journald", "journalctl --flush"],
                 _if=conf.did_change)


def _activity_history():
    enabled = files.line(name="sysstat collects", path="/etc/default/sysstat",
                         line=r"^ENABLED=", replace='ENABLED="true"')
    systemd.service(name="Restart sysstat", service="sysstat", restarted=True, _if=enabled.did_change)
    systemd.service(name="Run sysstat", service="sysstat", running=True, enabled=True)


def _integrity():
    # Without aide-common (a Recommends): its daily job would scan with
    # Debian's much wider configuration; ours is mimamori-aide-check.timer.
    apt.packages(name="Install AIDE", packages=["aide"], no_recommends=True)
    files.put(name="AIDE configuration", src=str(T / "aide.conf"), dest="/etc/aide/mimamori.conf",
              mode="0600")
    files.put(name="File integrity script", src=str(T / "mimamori-aide"),
              dest="/usr/local/sbin/mimamori-aide", mode="0750")
    units = [files.put(name=f"File integrity {u}", src=str(T / u), dest=f"/etc/systemd/system/{u}")
             for u in ("mimamori-aide-check.service", "mimamori-aide-check.timer")]
    systemd.daemon_reload(name="Reload units for the integrity check",
                          _if=lambda: any(u.did_change() for u in units))
    systemd.service(name="Daily file integrity check", service="mimamori-aide-check.timer",
                    running=True, enabled=True)
    # The baseline is taken (first deploy) or renewed (later ones) by ci/deploy
    # after the change record is written: then every role has run, and it is
    # not an operation, so a second deploy still reports no change.
    # Only root uses the assembler, the one compiler-like tool a Debian
    # dependency (binutils) brings (Lynis HRDN-7222); dpkg keeps the mode
    # through upgrades. Decided on the override alone, not on the file: facts are
    # read before the operations run, and on a bare host binutils only arrives
    # with needrestart (PACKAGES, above), so the second deploy restricted it
    # (issue 22). dpkg records the override even before the file exists.
    assembler = "/usr/bin/x86_64-linux-gnu-as"
    if not host.get_fact(Command, f"dpkg-statoverride --list {assembler} || true"):
        server.shell(name="Restrict the assembler to root",
                     commands=[f"dpkg-statoverride --update --add root root 0750 {assembler}"])
    files.directory(name="Only root reads sudoers.d", path="/etc/sudoers.d", mode="0750")
    # CIS Debian 12 5.1.x: scheduled jobs and sshd's settings are root's alone
    # (Lynis FILE-7524).
    files.file(name="Only root reads sshd_config", path="/etc/ssh/sshd_config", mode="0600")
    for folder in ("cron.d", "cron.daily", "cron.weekly", "cron.monthly"):
        files.directory(name=f"Only root reads /etc/{folder}", path=f"/etc/{folder}", mode="0700")
    # Debian creates the postgres home world-readable; it holds the database
    # files and the replication password file (Lynis HOME-9304).
    # roles/db sets the same right after installing PostgreSQL.
    if host.get_fact(Directory, path="/var/lib/postgresql"):
        files.directory(name="Only postgres reads its home", path="/var/lib/postgresql", mode="0750")


def _patching(d):
    files.put(name="Daily security updates", src=str(T / "auto-upgrades"),
              dest="/etc/apt/apt.conf.d/20auto-upgrades", mode="0644")
    files.put(name="Only security updates unattended", src=str(T / "unattended-upgrades.conf"),
              dest="/etc/apt/apt.conf.d/52mimamori-unattended-upgrades", mode="0644")
    files.template(name="needrestart policy", src=str(T / "needrestart.conf.j2"),
                   dest="/etc/needrestart/conf.d/50-mimamori.conf", mode="0644",
                   no_restart=d.patch_no_autorestart)
    changed = []
    for timer in ("apt-daily", "apt-daily-upgrade"):
        changed.append(files.template(
            name=f"{timer} window", src=str(T / "timer-window.conf.j2"),
            dest=f"/etc/systemd/system/{timer}.timer.d/mimamori-window.conf",
            calendar=d.patch_window.replace("03:30", "03:00") if timer == "apt-daily"
            else d.patch_window,
        ))
    # The lab image masks the timers so nothing takes the apt lock while it is
    # built; every deployed host runs them.
    masked = host.get_fact(Command, "systemctl is-enabled apt-daily.timer apt-daily-upgrade.timer"
                                    " 2>/dev/null | grep -c masked || true").strip()
    if masked != "0":
        server.shell(name="Unmask the apt timers",
                     commands=["systemctl unmask apt-daily.timer apt-daily-upgrade.timer"])
    systemd.daemon_reload(name="Reload units for the apt timers",
                          _if=lambda: any(c.did_change() for c in changed))
    for timer in ("apt-daily.timer", "apt-daily-upgrade.timer"):
        systemd.service(name=f"Enable {timer}", service=timer, running=True, enabled=True)


def _antivirus(d):
    if host.name == d.clamav_mirror_host:
        files.directory(name="Signature mirror folder", path="/srv/clamav-mirror", mode="0755")
        files.put(name="The lab's own signature database", src=StringIO(av_signature()),
                  dest="/srv/clamav-mirror/mimamori-lab.hdb", mode="0644")
        unit = files.put(name="Signature mirror unit", src=str(T / "avmirror.service"),
                         dest="/etc/systemd/system/mimamori-avmirror.service")
        systemd.service(name="Restart the mirror", service="mimamori-avmirror", restarted=True,
                        daemon_reload=True, _if=unit.did_change)
        systemd.service(name="Serve the signatures", service="mimamori-avmirror", running=True,
                        enabled=True)
    conf = files.template(
        name="freshclam settings", src=str(T / "freshclam.conf.j2"),
        dest="/etc/clamav/freshclam.conf", mode="0444",
        private_mirror=d.clamav_private_mirror, custom_urls=d.clamav_custom_urls,
        exclude_official=d.clamav_exclude_official,
    )
    systemd.service(name="Restart freshclam", service="clamav-freshclam", restarted=True,
                    _if=conf.did_change)
    systemd.service(name="Run freshclam", service="clamav-freshclam", running=True, enabled=True)
    name = d.clamav_custom_urls[0].rsplit("/", 1)[-1] if d.clamav_custom_urls else None
    if name and not host.get_fact(File, path=f"/var/lib/clamav/{name}"):
        server.shell(
            name="Wait for the first signatures",
            commands=[f"for i in $(seq 60); do test -s /var/lib/clamav/{name} && exit 0; sleep 1; done;"
                      f" echo 'freshclam fetched no {name}' >&2; exit 1"],
        )
    unit = files.put(name="Scan unit", src=str(T / "avscan.service"),
              dest="/etc/systemd/system/mimamori-avscan.service")
    timer = files.template(name="Scan timer", src=str(T / "avscan.timer.j2"),
                           dest="/etc/systemd/system/mimamori-avscan.timer",
                           calendar=d.clamav_scan_calendar)
    systemd.daemon_reload(name="Reload units for the scan",
                          _if=lambda: unit.did_change() or timer.did_change())
    systemd.service(name="Schedule the scan", service="mimamori-avscan.timer", running=True,
                    enabled=True)
