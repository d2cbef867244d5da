"""The site through the virtual IP: TLS as Mozilla's intermediate profile asks
(S-TLS), the admin allow-list at the load balancer (S-ADMINIP), and the
internals the deploy sets up (internal TLS to the database, unprivileged app)."""

import socket
import ssl
import subprocess
import sys
import threading

import pytest

import dbdrill
import labkit
from labkit import BASE, SITE, VIP, on

sys.path.insert(0, str(labkit.REPO / "provisioning"))
from lib import envfile  # noqa: E402

req = pytest.mark.req


@req("S-TLS", "O-REDUNDANT")
def test_healthz_answers_over_tls_verified_against_the_lab_acme_ca(acme_ca):
    resp = labkit.get(f"{BASE}/healthz", verify=acme_ca, timeout=10)
    assert resp.status_code == 200
    assert resp.text.strip() == "ok"


@req("S-TLS")
def test_certificate_comes_from_acme_not_the_stand_in(acme_ca):
    # The stand-in is signed by the internal CA: trusting only the ACME root
    # fails on it, and the issuer names Pebble's intermediate.
    ctx = ssl.create_default_context(cafile=acme_ca)
    with socket.create_connection((VIP, 443), timeout=10) as raw:
        with ctx.wrap_socket(raw, server_hostname=SITE) as tls:
            cert = tls.getpeercert()
    issuer = dict(x[0] for x in cert["issuer"])
    assert "Pebble" in issuer.get("commonName", "")
    assert ("DNS", SITE) in cert["subjectAltName"]


@req("S-TLS")
def test_plain_http_is_redirected_to_https():
    resp = labkit.get(f"http://{SITE}/login?x=1", allow_redirects=False, timeout=10)
    assert resp.status_code in (301, 308)
    assert resp.headers["Location"] == f"https://{SITE}/login?x=1"


@req("S-TLS")
def test_hsts_is_sent_for_two_years(acme_ca):
    resp = labkit.get(f"{BASE}/login", verify=acme_ca, timeout=10)
    hsts = resp.headers["Strict-Transport-Security"]
    max_age = int(hsts.split("max-age=")[1].split(";")[0])
    assert max_age >= 63072000


def _handshake(version: ssl.TLSVersion, cafile: str | None, host: str, port: int) -> str:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    if cafile:
        ctx.load_verify_locations(cafile)
    else:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    # Security level 0 lets this client offer TLS 1.0/1.1 at all (OpenSSL 3 refuses by default).
    ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
    ctx.minimum_version = version
    ctx.maximum_version = version
    with socket.create_connection((host, port), timeout=10) as raw:
        with ctx.wrap_socket(raw, server_hostname=SITE) as tls:
            return tls.version()


@pytest.fixture(scope="module")
def tls11_server(tmp_path_factory):
    """A local server that does speak TLS 1.1: proves the client below can offer
    it, so a refusal by the site is the site's doing, not this client's."""
    d = tmp_path_factory.mktemp("tls11")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", f"/CN={SITE}", "-keyout", d / "k.pem", "-out", d / "c.pem"],
                   check=True, capture_output=True)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
    ctx.minimum_version = ssl.TLSVersion.TLSv1_1
    ctx.load_cert_chain(d / "c.pem", d / "k.pem")
    srv = socket.create_server(("127.0.0.1", 0))
    port = srv.getsockname()[1]

    def serve():
        while True:
            try:
                conn, _ = srv.accept()
            except OSError:
                return
            try:
                with ctx.wrap_socket(conn, server_side=True):
                    pass
            except (ssl.SSLError, OSError):
                pass

    threading.Thread(target=serve, daemon=True).start()
    yield port
    srv.close()


@req("S-TLS")
def test_tls_1_1_is_refused_and_1_2_and_1_3_are_accepted(acme_ca, tls11_server):
    assert _handshake(ssl.TLSVersion.TLSv1_1, None, "127.0.0.1", tls11_server) == "TLSv1.1"
    with pytest.raises(ssl.SSLError):
        _handshake(ssl.TLSVersion.TLSv1_1, None, VIP, 443)
    assert _handshake(ssl.TLSVersion.TLSv1_2, acme_ca, VIP, 443) == "TLSv1.2"
    assert _handshake(ssl.TLSVersion.TLSv1_3, acme_ca, VIP, 443) == "TLSv1.3"


def _curl_status(path: str, source: str, acme_ca: str) -> int:
    out = subprocess.run(
        ["curl", "-s", "--noproxy", "*", "-o", "/dev/null", "-w", "%{http_code}", "--interface", source,
         "--cacert", acme_ca, f"{BASE}{path}"],
        capture_output=True, text=True, timeout=20, check=True,
    ).stdout
    return int(out)


@req("S-ADMINIP")
def test_admin_paths_are_refused_at_the_load_balancer_outside_the_ward_ranges(acme_ca):
    # 10.77.0.1 is outside the lab's admin_cidrs; 10.77.0.200 is the "ward office".
    assert _curl_status("/admin", "10.77.0.1", acme_ca) == 403
    assert _curl_status("/admin/accounts", "10.77.0.1", acme_ca) == 403
    assert _curl_status("/admin", labkit.WARD_ADDRESS, acme_ca) != 403
    # Other paths are open from anywhere.
    assert _curl_status("/login", "10.77.0.1", acme_ca) == 200


@req("O-REDUNDANT")
def test_both_app_nodes_are_up_behind_each_load_balancer():
    for lb in ("lb1", "lb2"):
        assert labkit.haproxy_servers(lb) == {"app1": "UP", "app2": "UP"}


@req("O-REDUNDANT")
def test_operators_can_drain_an_app_node_through_the_runtime_api(acme_ca):
    lb = labkit.vip_holder()
    sock = "socat stdio /run/haproxy/admin.sock"
    on(lb, f"echo 'set server app/app1 state drain' | {sock}")
    try:
        out = on(lb, f"echo 'show servers state app' | {sock}")
        app1 = next(line.split() for line in out.splitlines() if " app1 " in line)
        assert app1[6] == "8"  # srv_admin_state: 0x8 = drained
        for _ in range(6):
            assert labkit.get(f"{BASE}/healthz", verify=acme_ca, timeout=10).status_code == 200
    finally:
        on(lb, f"echo 'set server app/app1 state ready' | {sock}")


def test_database_refuses_connections_without_tls():
    # With the app's own driver from its virtualenv: an app node has no psql (a
    # bare Debian host gets none; only the prepared lab image had one). pg_hba
    # has only hostssl lines.
    out = on("app1", "/opt/mimamori/current/venv/bin/python -c 'import psycopg\n"
                     "try: psycopg.connect(\"host=db1 dbname=mimamori user=mimamori_app "
                     "sslmode=disable connect_timeout=5\")\n"
                     "except psycopg.OperationalError as e: print(e)' 2>&1", check=False)
    assert "no encryption" in out


def test_app_talks_to_the_database_with_verified_tls():
    secrets_env = on("app1", "cat /etc/mimamori/secrets.env")
    assert "sslmode=verify-full" in secrets_env
    # The app connects to the primary only: whichever node Patroni made leader.
    stat = on(dbdrill.healthy_cluster(), "sudo -u postgres psql -Atc \"select count(*) from pg_stat_ssl s "
                     "join pg_stat_activity a using (pid) where a.usename = 'mimamori_app' and s.ssl\"")
    assert int(stat.strip()) >= 1


def test_app_runs_as_an_unprivileged_user():
    assert on("app1", "systemctl show -p User --value mimamori").strip() == "mimamori"
    assert on("app1", "ps -o user= -C mimamori | sort -u").split() == ["mimamori"]


@req("S-ACCESSLOG", "S-ADMINIP")
def test_app_sees_the_client_address_and_https_through_the_load_balancer(acme_ca):
    # The client's own address (not the load balancer's) must reach the app's
    # access log, and the app must build https:// URLs behind the TLS terminator.
    out = subprocess.run(
        ["curl", "-s", "--noproxy", "*", "--interface", labkit.WARD_ADDRESS, "--cacert", acme_ca,
         f"{BASE}/login"], capture_output=True, text=True, timeout=20, check=True).stdout
    assert f'action="https://{SITE}/login"' in out
    logged = sum(int(on(app, "journalctl -u mimamori --since -60s -o cat | "
                            f"grep -c '\"client_address\": \"{labkit.WARD_ADDRESS}\"' || true").strip()
                     or 0) for app in ("app1", "app2"))
    assert logged >= 1


def test_systemd_and_a_shell_read_the_secrets_file_alike():
    """secrets.env is both mimamori.service's EnvironmentFile= and what the
    `mimamori` command sources: the service's own environment (as systemd
    read the file) equals the shell's, the URL's `&` included."""
    pid = on("app1", "systemctl show -p MainPID --value mimamori.service").strip()
    by_systemd = on("app1", f"tr '\\0' '\\n' < /proc/{pid}/environ | grep ^MIMAMORI_ | sort")
    by_shell = on("app1", "env -i sh -c 'set -a; . /etc/mimamori/secrets.env; env' | grep ^MIMAMORI_ | sort")
    assert "&target_session_attrs=read-write" in by_shell
    assert by_systemd == by_shell


def test_awkward_values_read_alike_by_systemd_and_a_shell():
    """Values with & $ ' " ` \\ and spaces, written by provisioning/lib/envfile.py,
    come back unchanged from systemd's EnvironmentFile= and from `.` in sh."""
    value = "a&b $HOME ${X} 'single' \"double\" back\\slash `id` $(id) ; # end "
    text = envfile.render({"AWKWARD": value})
    path = "/tmp/envfile-check.env"
    subprocess.run(["bash", str(labkit.LAB), "ssh", "app1", f"cat > {path}"], input=text, text=True,
                   check=True, timeout=60)
    try:
        by_systemd = on("app1", f"systemd-run --quiet --wait --pipe --collect -p EnvironmentFile={path}"
                                " /usr/bin/printenv AWKWARD")
        by_shell = on("app1", f"env -i sh -c 'set -a; . {path}; printenv AWKWARD'")
    finally:
        on("app1", f"rm -f {path}", check=False)
    assert by_systemd == by_shell == value + "\n"


def test_the_mimamori_command_runs_the_release_with_its_configuration_and_secrets():
    """What runbooks call (runbooks/backup.md): `mimamori audit verify` as root
    on an app node, against the live database; anyone else is told to use root."""
    assert "audit chain OK:" in on("app1", "mimamori audit verify")
    assert on("app2", "mimamori jobs status >/dev/null; echo rc=$?").strip() == "rc=0"
    refused = on("app1", "runuser -u nobody -- /usr/local/bin/mimamori audit verify 2>&1; echo rc=$?")
    assert "run it as root" in refused and refused.strip().endswith("rc=1"), refused
