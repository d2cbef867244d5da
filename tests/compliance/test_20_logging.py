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
def test_log_connections_are_tls_with_client_certificates(node, inv):
    """The log host's port speaks TLS only, refuses clients without a certificate of the
    environment's CA, and accepts the host's own certificate."""
    lh = inv.data["log_host"]
    base = f"timeout 10 openssl s_client -connect {lh}:6514 -verify_return_error -CAfile /etc/rsyslog-tls/ca.crt"
    with_cert = node.host.run(f"echo | {base} -cert /etc/rsyslog-tls/host.crt -key /etc/rsyslog-tls/host.key -tls1_2 2>&1")
    assert "Verify return code: 0 (ok)" in with_cert.stdout, with_cert.stdout[-800:]
    # Without a client certificate the server ends the handshake (TLS 1.2 reports it at once).
    without = node.host.run(f"echo | {base} -tls1_2 2>&1")
    assert without.rc != 0 or "alert" in without.stdout.lower(), without.stdout[-800:]
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
