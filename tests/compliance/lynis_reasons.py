"""Why a Lynis suggestion is left open on the appliance's hosts. The report lists
every open suggestion with its reason from here; one missing here is listed as
"no reason recorded" so it gets reviewed, never hidden."""

REASONS = {
    "BOOT-5122": "No GRUB on these hosts (containers; cloud VMs boot without a boot loader menu); "
                 "console access is the hosting provider's.",
    "BOOT-5264": "systemd unit sandboxing is applied to the appliance's own units; Debian's "
                 "units are kept as shipped to stay on Debian's security updates.",
    "KRNL-5788": "Containers share the machine's kernel: no /vmlinuz on the host.",
    "KRNL-5820": "Core dumps are disabled in limits.d; systemd-coredump is not installed.",
    "KRNL-6000": "Kernel-wide sysctls cannot be set in a container; they are in "
                 "60-mimamori-kernel.conf and checked on the VM host (issue 6 item 3).",
    "AUTH-9282": "Only root and system accounts exist; nobody logs in with a password.",
    "AUTH-9284": "Only root and system accounts exist; nobody logs in with a password.",
    "AUTH-9262": "pam_pwquality is installed and configured; Lynis looks for pam_cracklib/passwdqc.",
    "FILE-6310": "/tmp, /home and /var on separate partitions: a partitioning decision of the "
                 "hosting provider's images; not possible in containers.",
    "USB-1000": "No USB on virtual servers; usb-storage is blacklisted.",
    "NETW-3200": "dccp, sctp, rds and tipc are blacklisted in modprobe.d; containers "
                 "cannot unload the machine's modules.",
    "PKGS-7346": "Old configuration files are removed by the next image rebuild.",
    "PKGS-7370": "debsums: package integrity is covered by the immutable image and etckeeper.",
    "PKGS-7394": "apt-show-versions is not needed: unattended-upgrades reports pending security "
                 "updates.",
    "DEB-0280": "libpam-tmpdir is not used: no interactive users besides operators.",
    "DEB-0810": "apt-listbugs is interactive and not suited to unattended updates.",
    "DEB-0811": "apt-listchanges is installed; its mail goes to root.",
    "DEB-0880": "fail2ban is unnecessary: SSH only answers the operators' ranges (nftables).",
    "SSH-7408": "MaxSessions stays 10: pyinfra opens several channels at once on its one "
                "connection (with 2, a deploy failed with 'open failed'). Port 22 is kept: SSH "
                "answers only the operators' ranges (nftables and AllowUsers), and a moved port "
                "hides nothing from a scanner inside them. Every other option Lynis checks is "
                "hardened (tested).",
    "LOGG-2154": "Logs go to the log host with rsyslog over TLS (roles/logging); "
                 "Lynis only recognises some remote-logging syntaxes.",
    "ACCT-9622": "Process accounting (acct) is not used; auditd covers it on real kernels.",
    "ACCT-9628": "auditd cannot run in a container (LAB.md); it runs on the VM host and on "
                 "production VMs (issue 6 item 3).",
    "TIME-3185": "systemd-timesyncd is not used: chrony is the time daemon.",
    "CRYP-7902": "Certificates checked by the compliance suite (30-day validity).",
    "TOOL-5002": "No automation agent on the hosts: pyinfra runs from the control machine.",
    "HRDN-7230": "Malware scanning is ClamAV (O-AV); no rootkit scanner installed.",
    "MALW-3280": "ClamAV is installed and scans daily.",
    "NAME-4028": "The lab has no DNS by design (LAB.md): names come from /etc/hosts.",
    "NAME-4404": "The lab has no DNS by design (LAB.md): names come from /etc/hosts.",
    "MAIL-8818": "No mail server on the hosts.",
    "FIRE-4513": "nftables is the firewall; Lynis inspects iptables for unused rules.",
    "HTTP-6640": "HAProxy terminates TLS; no Apache modules in use.",
    "PHP-2376": "No PHP.",
    "DBS-1826": "PostgreSQL is reachable only from its declared clients (O-FW).",
    "LYNIS": "The Debian 12 package of Lynis is older than upstream; updates come with Debian.",
}
