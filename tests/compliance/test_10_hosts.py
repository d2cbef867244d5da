"""Per-host controls, checked on every host of the inventory over SSH."""

import ipaddress
import re
import time

import pytest

req = pytest.mark.req

MAX_AUTH_TRIES = 4
SAFE_CIPHERS = {"chacha20-poly1305@openssh.com", "aes256-gcm@openssh.com", "aes128-gcm@openssh.com",
                "aes256-ctr", "aes192-ctr", "aes128-ctr"}
SAFE_KEX = {"sntrup761x25519-sha512@openssh.com", "curve25519-sha256", "curve25519-sha256@libssh.org",
            "diffie-hellman-group16-sha512", "diffie-hellman-group18-sha512"}
SAFE_MACS = {"hmac-sha2-512-etm@openssh.com", "hmac-sha2-256-etm@openssh.com",
             "umac-128-etm@openssh.com", "hmac-sha2-512", "hmac-sha2-256"}


def sshd_effective(node) -> dict:
    # sshd -T prints what sshd really uses, after every include and default.
    out = node.run("sshd -T -C user=root,host=control,addr=10.77.0.1 2>/dev/null || sshd -T")
    conf = {}
    for line in out.splitlines():
        k, _, v = line.partition(" ")
        conf.setdefault(k, v)
    return conf


@req("S-ADMINIP", "O-FW")
def test_sshd_keys_only_no_root_password(node):
    """sshd: keys only, root only with a key, no empty passwords."""
    c = sshd_effective(node)
    assert c["passwordauthentication"] == "no"
    assert c["kbdinteractiveauthentication"] == "no"
    assert c["permitrootlogin"] in ("without-password", "prohibit-password")
    assert c["permitemptypasswords"] == "no"
    assert c["pubkeyauthentication"] == "yes"


@req("S-ADMINIP")
def test_sshd_limits_forwarding_and_logs_verbosely(node):
    """sshd: MaxAuthTries <= 4, no forwarding of any kind, LogLevel VERBOSE."""
    c = sshd_effective(node)
    assert int(c["maxauthtries"]) <= MAX_AUTH_TRIES
    for key in ("allowtcpforwarding", "allowagentforwarding", "allowstreamlocalforwarding",
                "x11forwarding", "permittunnel", "gatewayports"):
        assert c[key] == "no", key
    assert c["loglevel"] == "VERBOSE"


@req("S-ADMINIP")
def test_sshd_offers_only_modern_algorithms(node):
    """sshd: ciphers, key exchanges and MACs all from the modern list."""
    c = sshd_effective(node)
    assert set(c["ciphers"].split(",")) <= SAFE_CIPHERS
    assert set(c["kexalgorithms"].split(",")) <= SAFE_KEX
    assert set(c["macs"].split(",")) <= SAFE_MACS


@req("S-ADMINIP", "O-FW")
def test_sshd_accepts_accounts_only_from_operator_ranges(node, inv):
    """sshd's own allow-list names exactly the environment's operator ranges."""
    c = sshd_effective(node)
    allowed = set(c.get("allowusers", "").split())
    assert allowed == {f"*@{cidr}" for cidr in inv.data["ops_cidrs"]}


@req("O-FW")
def test_firewall_default_deny_loaded_and_enabled(node):
    """nftables: loaded, inbound and forward policy drop, loaded again at boot."""
    ruleset = node.run("nft list chain inet mimamori input")
    assert "policy drop;" in ruleset
    assert "policy drop;" in node.run("nft list chain inet mimamori forward")
    assert node.host.service("nftables").is_enabled


def _port_set(spec) -> set[int]:
    if spec is None:
        return set()
    if isinstance(spec, int):
        return {spec}
    a, b = str(spec).split("-")
    return set(range(int(a), int(b) + 1))


@req("O-FW")
def test_firewall_opens_exactly_the_declared_ports(node, inv):
    """Every port the ruleset accepts is declared for the host's roles, with its sources."""
    declared = {}
    for proto, port, sources, _ in inv.open_ports(node.node):
        addrs = []
        for s in sources:
            a = inv.addresses(s)
            addrs = None if a is None or addrs is None else addrs + a
        if addrs == []:
            continue
        for p in _port_set(port) or {proto}:
            declared[(proto, p)] = None if addrs is None else set(addrs)
    rules = node.run("nft list chain inet mimamori input")
    found = {}
    for m in re.finditer(r"(tcp|udp) dport (\d+)(?:-(\d+))?(?: ip saddr \{?([^}]*?)\}?)? accept", rules):
        ports = range(int(m[2]), int(m[3] or m[2]) + 1)
        src = None if m[4] is None else {s.strip() for s in m[4].split(",") if s.strip()}
        for p in ports:
            found[(m[1], p)] = src
    if "ip protocol vrrp" in rules:
        found[("vrrp", "vrrp")] = {s.strip() for s in re.search(
            r"ip protocol vrrp ip saddr \{?([^}\n]*?)\}? accept", rules)[1].split(",")}
    def expand(addrs):
        # nft prints neighbouring addresses as a range: 10.77.0.21-10.77.0.22.
        out = set()
        for a in addrs:
            a = a.removesuffix("/32")
            if "-" in a:
                lo, hi = (ipaddress.ip_address(x) for x in a.split("-"))
                out |= {str(ipaddress.ip_address(i)) for i in range(int(lo), int(hi) + 1)}
            else:
                out.add(a)
        return out
    norm = lambda d: {k: (None if v is None else expand(v)) for k, v in d.items()}
    assert norm(found) == norm(declared)


@req("O-FW")
def test_nothing_listens_outside_the_declared_ports(node, inv):
    """No needless listening service: every socket on a non-loopback address is a declared port."""
    declared = {("tcp", 22)}
    for proto, port, _, _ in inv.open_ports(node.node):
        declared |= {(proto, p) for p in _port_set(port)}
    out = node.run("ss -H -lntu")
    stray = []
    for line in out.splitlines():
        f = line.split()
        proto, local = f[0], f[4]
        addr, _, port = local.rpartition(":")
        if addr.startswith("127.") or addr in ("[::1]", "::1") or addr.startswith("[::ffff:127."):
            continue
        if (proto, int(port)) not in declared:
            stray.append(line)
    assert not stray, stray


NET_SYSCTLS = {
    "net.ipv4.ip_forward": "0", "net.ipv4.conf.all.accept_redirects": "0",
    "net.ipv4.conf.default.accept_redirects": "0", "net.ipv4.conf.all.send_redirects": "0",
    "net.ipv4.conf.all.accept_source_route": "0", "net.ipv4.conf.all.rp_filter": "1",
    "net.ipv4.conf.all.log_martians": "1", "net.ipv4.tcp_syncookies": "1",
    "net.ipv4.icmp_echo_ignore_broadcasts": "1", "net.ipv6.conf.all.accept_redirects": "0",
    "net.ipv6.conf.all.accept_ra": "0", "net.ipv4.conf.all.secure_redirects": "0",
}


@req("O-FW")
def test_network_sysctls_in_force(node):
    """Network sysctls of dev-sec linux-baseline / CIS Debian 12, read from the running kernel namespace."""
    wrong = {k: node.run(f"sysctl -n {k}").strip() for k in NET_SYSCTLS}
    wrong = {k: v for k, v in wrong.items() if v != NET_SYSCTLS[k]}
    assert not wrong


@req("S-AUTH")
def test_pam_locks_out_and_demands_quality(node):
    """PAM: faillock around pam_unix, pwquality rejects a weak password, last 5 kept."""
    auth = node.run("cat /etc/pam.d/common-auth")
    assert re.search(r"^auth\s+required\s+pam_faillock.so preauth", auth, re.M)
    assert re.search(r"^auth\s+\[default=die\]\s+pam_faillock.so authfail", auth, re.M)
    assert "deny = 5" in node.run("cat /etc/security/faillock.conf")
    assert "pam_pwquality.so" in node.run("cat /etc/pam.d/common-password")
    weak = node.host.run("echo 'password1' | pwscore")
    assert weak.rc != 0
    strong = node.host.run("echo 'Kx9#mQ2v$Lr7!tWz4pB' | pwscore")
    assert strong.rc == 0, strong.stderr


@req("S-AUTH")
def test_login_defs(node):
    """login.defs: password ageing, yescrypt, umask 027, each set once (no stale value left above)."""
    lines = [l.split(None, 1) for l in node.run("grep -E '^[A-Z_]+\\s' /etc/login.defs").splitlines()]
    keys = [k for k, _ in lines]
    assert not {k for k in keys if keys.count(k) > 1}, "keys set more than once"
    defs = dict(lines)
    assert int(defs["PASS_MAX_DAYS"]) <= 365
    assert int(defs["PASS_MIN_DAYS"]) >= 1
    assert defs["ENCRYPT_METHOD"].strip() == "YESCRYPT"
    assert defs["UMASK"].strip() == "027"


@req("O-TIME", "T-SP 18")
def test_clock_follows_the_configured_servers(node, inv):
    """chrony runs and is synchronised to a configured time server (or is the server)."""
    assert node.host.service("chrony").is_running
    servers = inv.data["time_servers"]
    if node.name in servers:
        # The environment's time server: serves the others from its own clock.
        assert "local stratum" in node.run("cat /etc/chrony/chrony.conf")
        return
    wanted = {inv.nodes[s].address if s in inv.nodes else s for s in servers}
    deadline = time.time() + 90
    while True:
        src = node.run("chronyc -n sources")
        current = re.findall(r"^\^\*\s+(\S+)", src, re.M)
        if current or time.time() > deadline:
            break
        time.sleep(3)
    assert current and current[0] in wanted, src
    track = node.run("chronyc -n tracking")
    assert re.search(r"Leap status\s*:\s*Normal", track), track


@req("O-LOGKEEP", "T-SP 17")
def test_journal_is_persistent(node):
    """journald keeps the journal on disk and hands it to rsyslog."""
    assert node.host.file("/var/log/journal").is_directory
    assert node.run("find /var/log/journal -name 'system*.journal' | head -1").strip()
    conf = node.run("systemd-analyze cat-config systemd/journald.conf")
    assert "Storage=persistent" in conf and "ForwardToSyslog=yes" in conf


@req("O-PATCH", "T-SP 21")
def test_security_updates_are_unattended(node):
    """unattended-upgrades: daily, security archive only, timers active; needrestart set."""
    dump = node.run("apt-config dump")
    assert 'APT::Periodic::Unattended-Upgrade "1";' in dump
    assert 'APT::Periodic::Update-Package-Lists "1";' in dump
    assert "bookworm-security" in node.run(
        "unattended-upgrade --dry-run -d 2>&1 | grep -m1 'Allowed origins'")
    for timer in ("apt-daily.timer", "apt-daily-upgrade.timer"):
        assert node.host.service(timer).is_enabled, timer
        assert node.host.service(timer).is_running, timer
    assert node.host.package("needrestart").is_installed
    assert "$nrconf{restart} = 'a';" in node.run("cat /etc/needrestart/conf.d/50-mimamori.conf")


@req("O-AV", "T-SP 21")
def test_antivirus_has_current_signatures_and_detects(node, inv):
    """ClamAV: freshclam fetched the configured signatures and a scan finds their test file."""
    assert node.host.service("clamav-freshclam").is_running
    conf = node.run("cat /etc/clamav/freshclam.conf")
    for url in inv.data["clamav_custom_urls"]:
        assert f"DatabaseCustomURL {url}" in conf
        name = url.rsplit("/", 1)[-1]
        # Current: the file on the host is the mirror's file.
        assert node.run(f"md5sum < /var/lib/clamav/{name}").split()[0] == \
            node.run(f"curl -sf {url} | md5sum").split()[0]
    node.run("printf 'MIMAMORI-LAB-ANTIVIRUS-TEST-FILE-NOT-A-VIRUS\\n' > /tmp/mimamori-av-probe")
    try:
        scan = node.host.run("clamscan --no-summary /tmp/mimamori-av-probe")
    finally:
        node.run("rm -f /tmp/mimamori-av-probe")
    assert scan.rc == 1 and "FOUND" in scan.stdout, scan.stdout + scan.stderr
    assert node.host.service("mimamori-avscan.timer").is_enabled
    assert node.host.service("mimamori-avscan.timer").is_running


@req("O-CHANGE")
def test_etc_is_versioned(node):
    """etckeeper keeps /etc in git, and the last deploy left nothing uncommitted."""
    assert node.host.file("/etc/.git").is_directory
    assert node.run("git -C /etc log -1 --format=%s").strip()


@req("O-FW")
def test_no_needless_packages(node):
    """None of the network services the appliance never uses is installed."""
    for pkg in ("telnet", "rsh-client", "nis", "xinetd", "avahi-daemon", "cups", "rpcbind",
                "exim4-daemon-light", "snmpd", "ftp"):
        assert not node.host.package(pkg).is_installed, pkg


@req("O-CHANGE")
def test_file_integrity_baseline_catches_a_change_outside_a_deploy(node):
    """AIDE: the baseline the last deploy renewed matches the host, a file added under /etc
    outside a deploy is reported, and the daily check is scheduled."""
    assert node.host.service("mimamori-aide-check.timer").is_enabled
    clean = node.host.run("/usr/local/sbin/mimamori-aide check")
    assert clean.rc == 0, node.run("ls -t /var/log/mimamori/aide/check-*.txt | head -1 | xargs cat")
    probe = f"/etc/mimamori-integrity-probe-{int(time.time() * 1000)}"
    node.run(f"echo probe > {probe}")
    try:
        found = node.host.run("/usr/local/sbin/mimamori-aide check")
        report = node.run("ls -t /var/log/mimamori/aide/check-*.txt | head -1 | xargs cat")
    finally:
        node.run(f"rm -f {probe}")
    assert found.rc == 1
    assert probe in report
