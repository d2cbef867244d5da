"""Central logs: every host's auth events and the app's access log reach the log
host over mutually authenticated TLS and are kept for the configured period."""

import subprocess
import time
import uuid

import pytest

req = pytest.mark.req


@pytest.fixture(scope="module")
def log_host(inv):
    from conftest import Target
    return Target(inv.nodes[inv.data["log_host"]], inv)


def wait_for(log_host, path, needle, seconds=30):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if log_host.host.run(f"grep -rlF {needle} {path}").rc == 0:
            return True
        time.sleep(1)
    return False


@req("O-LOGKEEP", "T-SP 17")
def test_auth_events_reach_the_log_host(node, log_host):
    """An authpriv message logged on the host arrives in the log host's file for that host."""
    probe = f"compliance-probe-{uuid.uuid4().hex}"
    node.run(f"logger -p authpriv.notice {probe}")
    assert wait_for(log_host, f"/var/log/remote/{node.name}/auth.log", probe)


@req("O-LOGKEEP", "T-SP 17")
def test_log_connections_are_tls_with_client_certificates(node, inv, log_host):
    """The log host's port speaks TLS with the environment's CA, and a message from a
    client without a certificate of that CA is never filed (only authenticated hosts log)."""
    lh = inv.data["log_host"]
    base = f"timeout 10 openssl s_client -connect {lh}:6514 -verify_return_error -CAfile /etc/rsyslog-tls/ca.crt"
    with_cert = node.host.run(f"echo | {base} -cert /etc/rsyslog-tls/host.crt -key /etc/rsyslog-tls/host.key -tls1_2 2>&1")
    assert "Verify return code: 0 (ok)" in with_cert.stdout, with_cert.stdout[-800:]
    # rsyslog may finish the handshake and only then drop an unauthenticated peer,
    # so the proof is what gets filed: nothing from a client without a certificate.
    probe = f"compliance-unauth-{uuid.uuid4().hex}"
    node.host.run(f"printf '<38>1 - {node.name} probe - - - {probe}\\n' | {base} -quiet >/dev/null 2>&1")
    node.run(f"logger -p authpriv.notice {probe}-control")
    assert wait_for(log_host, "/var/log/remote", f"{probe}-control")
    lines = log_host.run(f"grep -rhF {probe} /var/log/remote || true").splitlines()
    assert lines and all(f"{probe}-control" in line for line in lines), lines
    assert "gtls" in node.run("cat /etc/rsyslog.d/60-mimamori-forward.conf")


@req("S-ACCESSLOG", "O-LOGKEEP", "T-SP 17")
def test_app_access_log_reaches_the_log_host(inv, log_host):
    """A request through the site appears, as the app's JSON access line, on the log host."""
    probe = f"compliance-probe-{uuid.uuid4().hex}"
    site = inv.data["site_name"]
    subprocess.run(["curl", "-sk", "--noproxy", "*", "-o", "/dev/null", f"https://{site}/{probe}"],
                   check=True, timeout=20)
    assert wait_for(log_host, "/var/log/remote/*/access.log", probe)
    line = log_host.run(f"grep -hF {probe} /var/log/remote/*/access.log | head -1")
    assert '"type": "access"' in line and '"client_address"' in line


@req("O-LOGKEEP", "T-SP 17")
def test_central_logs_are_kept_for_the_configured_period(inv, log_host):
    """logrotate keeps the central logs log_keep_days days, and its configuration is valid."""
    days = inv.data["log_keep_days"]
    conf = log_host.run("cat /etc/logrotate.d/mimamori-remote")
    assert f"rotate {days}" in conf and f"maxage {days}" in conf and "daily" in conf
    assert log_host.host.run("logrotate -d /etc/logrotate.d/mimamori-remote").rc == 0
