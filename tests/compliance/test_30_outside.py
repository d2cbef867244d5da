"""Checks from the control machine: what a client outside the allowed ranges, a
browser, and a TLS scanner see. Source addresses are bound explicitly."""

import datetime as dt
import ipaddress
import json
import re
import socket
import ssl
import subprocess
import sys

import pytest

req = pytest.mark.req

# An address of the lab bridge outside every allowed range (ops_cidrs, admin_cidrs):
# the "someone else on the network" of the negative checks. Lab only.
OUTSIDE = "10.77.0.250"
BRIDGE = "mimamori0"


@pytest.fixture(scope="module")
def outside(inv):
    for cidr in inv.data["ops_cidrs"] + inv.data["admin_cidrs"]:
        assert ipaddress.ip_address(OUTSIDE) not in ipaddress.ip_network(cidr)
    added = subprocess.run(["ip", "addr", "add", f"{OUTSIDE}/32", "dev", BRIDGE],
                           capture_output=True, text=True)
    assert added.returncode == 0 or "File exists" in added.stderr, added.stderr
    yield OUTSIDE
    subprocess.run(["ip", "addr", "del", f"{OUTSIDE}/32", "dev", BRIDGE], capture_output=True)


def tcp_connects(source, host, port, timeout=3.0) -> bool:
    s = socket.socket()
    s.settimeout(timeout)
    s.bind((source, 0))
    try:
        s.connect((host, port))
        return True
    except OSError:
        return False
    finally:
        s.close()


def ssh_ok(source, node) -> bool:
    r = subprocess.run(["ssh", "-b", source, "-i", node.data["ssh_key"], "-o", "BatchMode=yes",
                        "-o", "ConnectTimeout=4", "-o", "StrictHostKeyChecking=no",
                        "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR",
                        f"{node.data.get('ssh_user', 'root')}@{node.address}", "true"],
                       capture_output=True, timeout=20)
    return r.returncode == 0


@req("S-ADMINIP", "O-FW")
def test_ssh_refused_from_outside_the_operator_ranges(inv, outside):
    """SSH with the right key works from the operators' address and fails from any other."""
    ops_source = inv.data["ops_cidrs"][0].split("/")[0]
    for node in inv.nodes.values():
        assert ssh_ok(ops_source, node), f"{node.name}: refused from {ops_source}"
        assert not ssh_ok(outside, node), f"{node.name}: SSH accepted from {outside}"
        assert not tcp_connects(outside, node.address, 22), f"{node.name}: port 22 open to {outside}"


@req("O-FW")
def test_internal_ports_closed_to_other_sources(inv, outside):
    """Ports declared for some hosts only (app, logs, database) are closed to anyone else."""
    probes = [(n, 6543) for n in inv.group("app")] + [(n, 6514) for n in inv.group("mon")] \
        + [(n, 8008) for n in inv.group("db")] + [(n, 2380) for n in inv.group("etcd")]
    assert probes
    open_ = [f"{n.name}:{p}" for n, p in probes if tcp_connects(outside, n.address, p)]
    assert not open_


# Spellings of /admin that the app reads as /admin: the load balancer must
# normalise them (http-request normalize-uri) before its address rule.
ADMIN_PATH_SPELLINGS = ["/admin", "//admin", "/%61dmin", "/%61%64min/", "/./admin", "/static/../admin",
                        "/%2e/admin", "/static/%2E%2E/admin", "///admin/accounts"]


@req("S-ADMINIP")
@pytest.mark.parametrize("path", ADMIN_PATH_SPELLINGS)
def test_admin_path_refused_from_outside_the_ward_ranges(inv, outside, path):
    """/admin, however spelt, answers 403 from an address outside admin_cidrs and not 403 from inside."""
    site, vip = inv.data["site_name"], inv.data["vip"]

    def status(source):
        # --path-as-is: curl would otherwise squash the dot segments itself.
        return subprocess.run(
            ["curl", "-sk", "--path-as-is", "--noproxy", "*", "--interface", source,
             "--resolve", f"{site}:443:{vip}", "-o", "/dev/null", "-w", "%{http_code}", f"https://{site}{path}"],
            capture_output=True, text=True, timeout=20).stdout
    assert status(outside) == "403"
    inside = inv.data["admin_cidrs"][0].split("/")[0]
    assert status(inside) not in ("403", "000")


@req("S-TLS")
@pytest.mark.parametrize("version", ["-tls1", "-tls1_1"])
def test_old_tls_versions_refused(inv, version):
    """TLS 1.0 and 1.1 handshakes fail (the client offers them even at security level 0)."""
    r = subprocess.run(["openssl", "s_client", "-connect", f"{inv.data['vip']}:443",
                        "-servername", inv.data["site_name"], version, "-cipher", "DEFAULT@SECLEVEL=0"],
                       input="", capture_output=True, text=True, timeout=20)
    assert r.returncode != 0
    assert "Cipher is (NONE)" in r.stdout or "no protocols available" in r.stderr \
        or "alert" in r.stderr.lower(), r.stdout[-500:] + r.stderr[-500:]


@req("S-TLS")
@pytest.mark.parametrize("version", ["-tls1_2", "-tls1_3"])
def test_current_tls_versions_accepted(inv, version):
    """TLS 1.2 and 1.3 handshakes succeed (positive control for the refusal above)."""
    r = subprocess.run(["openssl", "s_client", "-connect", f"{inv.data['vip']}:443",
                        "-servername", inv.data["site_name"], version],
                       input="", capture_output=True, text=True, timeout=20)
    assert r.returncode == 0 and "Cipher is (NONE)" not in r.stdout


@req("S-TLS")
def test_http_redirects_to_https_and_hsts(inv):
    """Plain HTTP is redirected to HTTPS; HTTPS answers carry HSTS of at least a year."""
    site, vip = inv.data["site_name"], inv.data["vip"]
    r = subprocess.run(["curl", "-s", "--noproxy", "*", "--resolve", f"{site}:80:{vip}", "-o", "/dev/null",
                        "-w", "%{http_code} %{redirect_url}", f"http://{site}/login"],
                       capture_output=True, text=True, timeout=20).stdout
    code, url = r.split(" ", 1)
    assert code in ("301", "302", "308") and url == f"https://{site}/login"
    h = subprocess.run(["curl", "-sk", "--noproxy", "*", "--resolve", f"{site}:443:{vip}", "-D", "-",
                        "-o", "/dev/null", f"https://{site}/login"],
                       capture_output=True, text=True, timeout=20).stdout.lower()
    hsts = [l for l in h.splitlines() if l.startswith("strict-transport-security:")]
    assert hsts
    assert int(hsts[0].split("max-age=")[1].split(";")[0].strip()) >= 31536000


@req("S-TLS")
def test_certificate_valid_for_30_days_and_names_the_site(inv):
    """The served certificate names the site and is valid for at least 30 more days."""
    site, vip = inv.data["site_name"], inv.data["vip"]
    pem = subprocess.run(["openssl", "s_client", "-connect", f"{vip}:443", "-servername", site],
                         input="", capture_output=True, text=True, timeout=20).stdout
    cert = pem[pem.index("-----BEGIN CERTIFICATE-----"):pem.index("-----END CERTIFICATE-----") + 25]
    check = subprocess.run(["openssl", "x509", "-noout", "-checkend", str(30 * 86400), "-ext",
                            "subjectAltName"], input=cert, capture_output=True, text=True)
    assert check.returncode == 0, check.stdout
    assert f"DNS:{site}" in check.stdout


@req("S-TLS")
def test_sslyze_mozilla_intermediate(inv, tmp_path):
    """sslyze finds the site compliant with Mozilla's intermediate configuration."""
    site, vip = inv.data["site_name"], inv.data["vip"]
    out = tmp_path / "sslyze.json"
    r = subprocess.run([sys.executable, "-m", "sslyze", f"{site}:443{{{vip}}}",
                        "--mozilla_config=intermediate", f"--json_out={out}"],
                       capture_output=True, text=True, timeout=300)
    verdict = r.stdout[r.stdout.index("COMPLIANCE AGAINST TLS CONFIGURATION"):]
    problems = re.findall(r"^\s+\* (\w+): (.*)$", verdict, re.M)
    # The lab's ACME CA (Pebble) issues 5-year certificates from a root no public
    # trust store has; the public CA of staging and production does neither. Only
    # in the lab are these two findings expected, and nothing else is.
    allowed = {"certificate_path_validation", "maximum_certificate_lifespan"} if inv.env == "lab" else set()
    unexpected = [p for p in problems if p[0] not in allowed]
    assert not unexpected, verdict
    assert r.returncode == 0 or problems, verdict
