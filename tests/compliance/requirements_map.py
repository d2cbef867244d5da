"""Requirement -> mechanism, for the report (the tests name the requirements they
prove with @pytest.mark.req; this names what in the appliance answers them), and
the checks that need a real kernel, which the report lists as not run when no
VM host ran them."""

MECHANISMS = {
    "O-FW": "nftables default-deny per host from the roles' declared ports "
            "(group_data/all.py firewall_ports, roles/*/firewall.py; roles/base); "
            "network and kernel sysctls, unused kernel modules blocked, /tmp and /dev/shm "
            "nodev,nosuid,noexec (roles/base); no needless packages or listening services",
    "O-TIME": "chrony against the environment's time_servers (roles/base); in containers "
              "chronyd -x follows the servers without setting the shared clock; on hosts "
              "with their own kernel (VMs, the lab's vm1) chronyd sets the clock",
    "T-SP 18": "as O-TIME",
    "O-AV": "ClamAV: freshclam from the configured mirror / custom databases, "
            "daily scan by mimamori-avscan.timer (roles/base)",
    "O-LOGKEEP": "persistent journald; rsyslog forwards auth, audit, antivirus and app access "
                 "logs over mutual TLS to log_host, kept log_keep_days days by logrotate "
                 "(roles/logging); auditd with the base role's rules, locked until reboot, "
                 "its records to syslog (roles/base, hosts with their own kernel)",
    "T-SP 17": "as O-LOGKEEP (infrastructure logs); app audit trail: S-AUDIT",
    "O-PATCH": "unattended-upgrades for Debian-Security only, fixed apt timer window, "
               "needrestart restarting all but rolling services (roles/base). "
               "Impact check on staging first: runbooks/deploy.md (procedure)",
    "T-SP 21": "as O-PATCH and O-AV",
    "S-TLS": "HAProxy TLS 1.2/1.3 Mozilla intermediate ciphers, HSTS, HTTP redirect (roles/lb); "
             "ACME certificate renewed by certbot (roles/certificates)",
    "S-ADMINIP": "SSH: nftables + sshd AllowUsers from ops_cidrs; /admin: HAProxy allow-list "
                 "admin_cidrs (roles/lb) and the app",
    "S-ACCESSLOG": "the app's access log (DB rows and a JSON line per request on stdout), shipped "
                   "to the log host (roles/logging)",
    "S-AUTH": "for OS accounts: PAM faillock and pwquality, login.defs (roles/base)",
    "O-CHANGE": "etckeeper on every host (roles/common), change records (ci/deploy)",
}

# Checks that need a real kernel (issue 6 item 3). Containers share the control
# machine's kernel: auditd cannot run, kernel-wide sysctls, module loading,
# mounts and the clock are the machine's. They run on the hosts of VM_GROUP
# (test_40_kernel.py); a check whose test left no result in a run -- no VM host in
# the inventory, or the test deselected -- is listed in the report as not run,
# with the reason: never silently skipped.
VM_GROUP = "vmhosts"
NEEDS_VM = [
    ("T-SP 17", "auditd running with its rules loaded (as O-LOGKEEP below)",
     "test_auditd_runs_with_every_rule_loaded_and_locked"),
    ("T-SP 18", "clock discipline on a real kernel (as O-TIME below)",
     "test_chrony_disciplines_the_system_clock"),
    ("O-LOGKEEP", "auditd running with the rules for identity files, sudoers, time changes, "
                  "logins and sessions, module loading loaded (auditctl -l)",
     "test_auditd_runs_with_every_rule_loaded_and_locked"),
    ("O-LOGKEEP", "audit records reach the log host",
     "test_audit_records_a_sudoers_change_and_ships_it_to_the_log_host"),
    ("O-FW", "kernel-wide sysctls of 60-mimamori-kernel.conf in force (kernel.*, fs.*)",
     "test_kernel_sysctls_in_force"),
    ("O-FW", "module blacklist effective (modprobe -n -v cramfs -> install /bin/false)",
     "test_unused_kernel_modules_cannot_load"),
    ("O-FW", "mount options: /tmp, /dev/shm nodev,nosuid,noexec",
     "test_temporary_folders_mounted_nodev_nosuid_noexec"),
    ("O-TIME", "clock discipline: chronyd sets the system clock (not -x), "
               "timedatectl NTP synchronized",
     "test_chrony_disciplines_the_system_clock"),
]
