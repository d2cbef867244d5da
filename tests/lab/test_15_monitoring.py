"""Monitoring as deployed (issue 9, O-MON, O-FW): Prometheus on mon1 scrapes every
exporter and probe, and the exporters answer mon1 only."""

import json
import subprocess
import time
import urllib.parse

import pytest

import labkit
from labkit import on

req = pytest.mark.req

CONTAINERS = ["lb1", "lb2", "app1", "app2", "db1", "mon1", "db2", "backup1"]


def query(expr: str) -> list[dict]:
    url = "http://127.0.0.1:9090/api/v1/query?query=" + urllib.parse.quote(expr)
    answer = json.loads(on("mon1", f"curl -sf '{url}'"))
    assert answer["status"] == "success", answer
    return answer["data"]["result"]


def values(expr: str) -> dict[str, float]:
    return {(r["metric"].get("job", ""), r["metric"].get("instance", "")): float(r["value"][1])
            for r in query(expr)}


@pytest.fixture(scope="module")
def scraped():
    """Wait (bounded) until Prometheus has scraped every target once."""
    deadline = time.monotonic() + 90
    while True:
        up = values("up")
        if up and all(v == 1 for v in up.values()) or time.monotonic() > deadline:
            return up
        time.sleep(3)


@req("O-MON")
def test_every_host_exporter_and_probe_is_up(scraped):
    up = scraped
    jobs = {job for job, _ in up}
    assert {"node", "haproxy", "postgres", "patroni", "app", "app_health", "site", "prometheus",
            "alertmanager", "blackbox"} <= jobs
    nodes = {instance for job, instance in up if job == "node"}
    hosts = set(on("mon1", "awk '/^10\\.77\\.0\\./ {print $2}' /etc/hosts").split())
    assert {h for h in CONTAINERS + ["vm1"] if h in hosts} <= nodes
    down = {key: v for key, v in up.items() if v != 1}
    assert not down, f"targets down: {down}"


@req("O-MON")
def test_probes_see_the_site_and_its_certificate(scraped):
    assert values('probe_success{job="site"}') == {("site", "www.mimamori.lab"): 1.0}
    expiry = list(values('probe_ssl_earliest_cert_expiry{job="site"}').values())
    assert expiry and expiry[0] > time.time() + 20 * 86400
    health = values('probe_success{job="app_health"}')
    assert health == {("app_health", "app1"): 1.0, ("app_health", "app2"): 1.0}


@req("O-MON")
def test_database_and_load_balancer_metrics_arrive(scraped):
    assert values("pg_up") == {("postgres", "db1"): 1.0, ("postgres", "db2"): 1.0}
    # Patroni's own metrics: exactly one primary, the other a replica.
    primaries = values("patroni_primary")
    assert sorted(primaries.values()) == [0.0, 1.0]
    assert sum(values("patroni_replica").values()) == 1.0
    backends = values('haproxy_backend_active_servers{proxy="app"}')
    assert {instance for _, instance in backends} == {"lb1", "lb2"}
    assert set(backends.values()) == {2.0}


@req("O-MON", "O-TIME")
def test_clock_and_systemd_metrics_are_collected(scraped):
    # The kernel's clock discipline is readable on a host with its own kernel
    # (containers are denied adjtimex): vm1 stands for the production VMs.
    assert values('node_timex_sync_status{instance="vm1"}') == {("node", "vm1"): 1.0}
    assert values('node_timex_offset_seconds{instance="vm1"}')
    assert values('node_systemd_unit_state{instance="app1", name="mimamori.service", state="active"}') \
        == {("node", "app1"): 1.0}


@req("S-AUDIT", "O-MON")
def test_every_app_node_reports_its_audit_verification(scraped):
    # The deploy ends with a signed checkpoint and a verification on each app
    # node (roles/app); its metric is what AuditChainBroken watches.
    wanted = {("node", "app1"): 1.0, ("node", "app2"): 1.0}
    got = labkit.wait_for(lambda: values("mimamori_audit_verify_success") == wanted and wanted,
                          timeout=90, interval=3)
    assert got == wanted, values("mimamori_audit_verify_success")


@req("O-FW")
@pytest.mark.parametrize("host, port", [("app1", 9100), ("lb1", 9101), ("db1", 9187)])
def test_exporters_answer_mon1_only(host, port):
    address = on("mon1", f"getent hosts {host}").split()[0]
    assert "# TYPE" in on("mon1", f"curl -sf --max-time 5 http://{address}:{port}/metrics")
    # From the control machine (an operator's address, not mon1): dropped.
    refused = subprocess.run(["curl", "-sf", "--max-time", "3", "-o", "/dev/null",
                              f"http://{address}:{port}/metrics"])
    assert refused.returncode != 0
    # ...and from another host of the appliance.
    code = on("app2", f"curl -s --max-time 3 -o /dev/null -w '%{{http_code}}' "
                      f"http://{address}:{port}/metrics", check=False)
    assert code == "000"


@req("O-MON")
def test_prometheus_and_alertmanager_listen_on_loopback_only():
    listening = on("mon1", "ss -H -ltn")
    for port in (9090, 9093, 9115, 2525, 9099):
        sockets = [line.split()[3] for line in listening.splitlines() if line.split()[3].endswith(f":{port}")]
        assert sockets and all(s.startswith("127.0.0.1:") for s in sockets), (port, sockets)


@req("O-MON", "S-SEP")
def test_app_metrics_reach_mon1_only(acme_ca):
    text = on("mon1", "curl -sf --max-time 5 http://app1:6543/metrics")
    assert "mimamori_http_requests_total" in text and "mimamori_mail_outbox_messages" in text
    # Through the virtual IP: HAProxy refuses it.
    assert labkit.get(f"{labkit.BASE}/metrics", verify=acme_ca, timeout=10).status_code == 404
    # From a load balancer itself (a trusted proxy): the app refuses it.
    assert on("lb1", "curl -s --max-time 5 -o /dev/null -w '%{http_code}' http://app1:6543/metrics",
              check=False) == "404"
    # From another app node: the firewall drops it.
    assert on("app2", "curl -s --max-time 3 -o /dev/null -w '%{http_code}' http://app1:6543/metrics",
              check=False) == "000"
