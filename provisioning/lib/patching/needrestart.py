"""What to do after an upgrade, from ``needrestart -b -r l`` (batch mode, list only).

Batch output is ``KEY: value`` lines: NEEDRESTART-KCUR / KEXP (running and
expected kernel), NEEDRESTART-KSTA (0 unknown, 1 current, 2 ABI-compatible
upgrade pending, 3 version upgrade pending), NEEDRESTART-SVC (a service running
outdated binaries or libraries), NEEDRESTART-CONT / -SESS (containers, user
sessions: reported, not restarted).
"""

from __future__ import annotations

from dataclasses import dataclass, field

# Restarted by the orchestrator itself, in its own order and with its checks
# (drain, health, switchover): never in the generic restart list.
MANAGED = ("haproxy.service", "keepalived.service", "mimamori.service", "patroni.service",
           "etcd.service")
# Restarting these would cut the patch run's own connection or the host's
# console, or (systemd-networkd) may drop addresses it did not set, such as
# keepalived's VIP; systemd re-executes itself (daemon-reexec) instead.
# They are reported in the record; a reboot in a window picks them up.
NEVER = ("ssh.service", "systemd-logind.service", "getty@", "serial-getty@", "user@",
         "systemd-journald.service", "dbus.service", "systemd-networkd.service")


@dataclass
class Result:
    kernel_current: str | None = None
    kernel_expected: str | None = None
    kernel_status: int = 0
    services: list[str] = field(default_factory=list)
    sessions: list[str] = field(default_factory=list)

    @property
    def kernel_changed(self) -> bool:
        return self.kernel_status in (2, 3)


def parse(text: str) -> Result:
    r = Result()
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if not sep:
            continue
        value = value.strip()
        if key == "NEEDRESTART-KCUR":
            r.kernel_current = value
        elif key == "NEEDRESTART-KEXP":
            r.kernel_expected = value
        elif key == "NEEDRESTART-KSTA":
            r.kernel_status = int(value) if value.isdigit() else 0
        elif key == "NEEDRESTART-SVC" and value not in r.services:
            r.services.append(value)
        elif key == "NEEDRESTART-SESS":
            r.sessions.append(value)
    return r


@dataclass
class Decision:
    reboot: bool
    restart: list[str]          # generic services, restarted as they are
    managed: list[str]          # the orchestrator restarts these with its checks
    reexec_systemd: bool        # `systemctl daemon-reexec` instead of restarting PID 1
    notes: list[str]


def decide(result: Result, can_reboot: bool, reboot_required_file: bool = False) -> Decision:
    """Reboot when the kernel (or Debian's /run/reboot-required) asks and the host
    can reboot; otherwise restart what runs old code. A container shares the
    control machine's kernel and cannot reboot: it restarts services and the
    decision says the kernel update waits for the machine itself."""
    notes: list[str] = []
    wants_reboot = result.kernel_changed or reboot_required_file
    if wants_reboot and can_reboot:
        return Decision(True, [], [], False,
                        [f"kernel {result.kernel_current} -> {result.kernel_expected}: reboot"])
    if wants_reboot:
        notes.append("a kernel update is pending but this host cannot reboot (container): "
                     "services restarted instead")
    restart, managed, reexec = [], [], False
    for svc in result.services:
        if svc in ("systemd", "init", "systemd.service"):
            reexec = True
        elif any(svc == m for m in MANAGED):
            managed.append(svc)
        elif any(svc == n or (n.endswith("@") and svc.startswith(n)) for n in NEVER):
            notes.append(f"{svc} not restarted (would cut the session or console)")
        else:
            restart.append(svc)
    return Decision(False, restart, managed, reexec, notes)
