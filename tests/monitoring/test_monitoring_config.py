"""The monitoring configuration (monitoring/), rendered as roles/monitoring renders
it for each environment, checked by Prometheus's and Alertmanager's own tools:
promtool (config, rules, rule unit tests), amtool (config, routes) and the
blackbox exporter's --config.check. Debian's packages are the ones the hosts
run; when they are not installed here, their binaries are unpacked from the
packages into var/ (apt-get download: nothing is started)."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
from pathlib import Path

import pytest

# Every check here proves the monitoring (runbooks/compliance-matrix.md reads the marks).
pytestmark = pytest.mark.req("O-MON")

REPO = Path(__file__).resolve().parents[2]
GROUP_DATA = REPO / "provisioning" / "group_data"
TOOLS = REPO / "var" / "promtools"
PACKAGES = {"promtool": "prometheus", "amtool": "prometheus-alertmanager",
            "prometheus-blackbox-exporter": "prometheus-blackbox-exporter"}
HOSTS = {"lb": [("lb1", "192.0.2.11"), ("lb2", "192.0.2.12")],
         "app": [("app1", "192.0.2.21"), ("app2", "192.0.2.22")],
         "db": [("db1", "192.0.2.31"), ("db2", "192.0.2.32")]}

spec = importlib.util.spec_from_file_location("monitoring_render", REPO / "monitoring" / "render.py")
render = importlib.util.module_from_spec(spec)
spec.loader.exec_module(render)


def tool(name: str) -> str:
    found = shutil.which(name) or (TOOLS / "usr" / "bin" / name)
    if Path(found).exists():
        return str(found)
    download = TOOLS / "debs"
    download.mkdir(parents=True, exist_ok=True)
    fetch = ["apt-get", "download", PACKAGES[name]]
    if subprocess.run(fetch, cwd=download, capture_output=True).returncode != 0:
        # A fresh machine may have no package lists yet.
        subprocess.run(["apt-get", "update", "-qq"], check=True, capture_output=True)
        subprocess.run(fetch, cwd=download, check=True, capture_output=True)
    for deb in download.glob(f"{PACKAGES[name]}_*.deb"):
        subprocess.run(["dpkg", "-x", str(deb), str(TOOLS)], check=True)
    return str(TOOLS / "usr" / "bin" / name)


def group_data(env: str) -> dict:
    data: dict = {}
    for name in ("all", env):
        exec((GROUP_DATA / f"{name}.py").read_text(), data)
    return data


def run(*command: str) -> str:
    result = subprocess.run(command, capture_output=True, text=True)
    assert result.returncode == 0, f"{command}: {result.stdout}{result.stderr}"
    return result.stdout + result.stderr


def render_all(env: str, folder: Path) -> Path:
    d = group_data(env)
    (folder / "rules").mkdir(parents=True)
    for name in render.RULE_FILES:
        (folder / "rules" / name.removesuffix(".j2")).write_text(
            render.rules(name, d["monitoring_rule_waits"]))
    prometheus = render.template(
        "prometheus.yml.j2", env=env, mon_name="mon1",
        scrape_interval=d["monitoring_scrape_interval"],
        evaluation_interval=d["monitoring_evaluation_interval"],
        node_hosts=[h for hosts in HOSTS.values() for h in hosts],
        lb_hosts=HOSTS["lb"], app_hosts=HOSTS["app"], app_port=d["app_port"],
        db_hosts=HOSTS["db"], patroni_hosts=HOSTS["db"], vip="192.0.2.10",
        site_name=d["site_name"])
    # The deployed file reads the rules from /etc/prometheus/rules.
    (folder / "prometheus.yml").write_text(
        prometheus.replace("/etc/prometheus/rules/", f"{folder}/rules/"))
    (folder / "alertmanager.yml").write_text(render.template(
        "alertmanager.yml.j2", env=env, smarthost=d["alert_smarthost"],
        mail_from=d["alert_mail_from"], smtp_require_tls=d["alert_smtp_require_tls"],
        email_to=d["alert_email_to"], webhook_urls=d["alert_webhook_urls"],
        deadman_url=d["alert_deadman_url"], group_wait=d["alert_group_wait"],
        group_interval=d["alert_group_interval"], repeat_interval=d["alert_repeat_interval"],
        watchdog_repeat_interval=d["alert_watchdog_repeat_interval"], timezone="Asia/Tokyo",
        holidays=[tuple(int(x) for x in day.split("-")) for day in d["maintenance_holidays"]]))
    (folder / "blackbox.yml").write_text(render.template(
        "blackbox.yml.j2", site_name=d["site_name"], site_ca_file=d["monitoring_site_ca_file"],
        site_tls_insecure=d["monitoring_site_tls_insecure"]))
    return folder


@pytest.fixture(scope="module", params=["production", "staging", "lab"])
def rendered(request, tmp_path_factory):
    return request.param, render_all(request.param, tmp_path_factory.mktemp(request.param))


def test_prometheus_config_and_rules_pass_promtool(rendered):
    env, folder = rendered
    out = run(tool("promtool"), "check", "config", str(folder / "prometheus.yml"))
    # Every rule file was found through rule_files and parsed.
    for name in render.RULE_FILES:
        assert f"rules/{name.removesuffix('.j2')}" in out
    assert "SUCCESS: 0 rules found" not in out


def test_required_alerts_exist(rendered):
    _, folder = rendered
    text = "".join(p.read_text() for p in (folder / "rules").glob("*.yml"))
    for alert in ["HostDown", "DiskFilling", "MemoryLow", "ClockNotSynchronised", "ClockSkewed",
                  "SystemdUnitFailed", "AppNodeDown", "HighErrorRate", "HighLatency",
                  "DatabaseDown", "PatroniNoLeader", "ReplicationLag", "BackupTooOld",
                  "RestoreDrillFailed", "CertificateExpiring", "CertificateExpiryImminent",
                  "OutboxStuck", "JobNotRun", "Watchdog", "AuditChainBroken", "AuditVerifyNotRun"]:
        assert f"alert: {alert}\n" in text, alert


def test_lab_waits_less_than_production(tmp_path):
    production = render.rules("app.yml.j2", group_data("production")["monitoring_rule_waits"])
    lab = render.rules("app.yml.j2", group_data("lab")["monitoring_rule_waits"])
    block = lambda text: text.split("alert: AppNodeDown")[1].split("alert:")[0]  # noqa: E731
    assert "for: 1m" in block(production)
    assert "for: 10s" in block(lab)


def test_rule_unit_tests_pass(tmp_path):
    folder = render_all("production", tmp_path / "production")
    for rule in (folder / "rules").glob("*.yml"):
        shutil.copy(rule, tmp_path / rule.name)
    shutil.copy(REPO / "monitoring" / "tests" / "rules_test.yml", tmp_path / "rules_test.yml")
    out = run(tool("promtool"), "test", "rules", str(tmp_path / "rules_test.yml"))
    assert "SUCCESS" in out


def test_alertmanager_config_passes_amtool(rendered):
    env, folder = rendered
    out = run(tool("amtool"), "check-config", str(folder / "alertmanager.yml"))
    assert "SUCCESS" in out
    # The maintenance window: Sundays, 20:00-06:00 and one entry per listed holiday.
    config = (folder / "alertmanager.yml").read_text()
    holidays = group_data(env)["maintenance_holidays"]
    assert config.count("days_of_month:") == len(holidays)
    assert 'weekdays: ["sunday"]' in config and 'start_time: "20:00"' in config


@pytest.mark.parametrize("labels, receiver", [
    (["alertname=Watchdog", "severity=none"], "deadman"),
    (["alertname=AppNodeDown", "severity=critical"], "oncall"),
    (["alertname=MemoryLow", "severity=warning"], "oncall"),
])
def test_alertmanager_routes(rendered, labels, receiver):
    _, folder = rendered
    out = run(tool("amtool"), "config", "routes", "test",
              f"--config.file={folder / 'alertmanager.yml'}", *labels)
    assert out.splitlines()[0].strip() == receiver


@pytest.mark.req("O-247")
def test_only_non_critical_routes_are_muted(rendered):
    _, folder = rendered
    routes = run(tool("amtool"), "config", "routes", f"--config.file={folder / 'alertmanager.yml'}")
    config = (folder / "alertmanager.yml").read_text()
    # Exactly one route names the window, and it is the severity!="critical" one.
    muted = config.split("mute_time_intervals")[0].rsplit("- matchers:", 1)[1]
    assert config.count("mute_time_intervals") == 1
    assert 'severity!="critical"' in muted
    assert "oncall" in routes


def test_blackbox_config_is_valid(rendered):
    _, folder = rendered
    out = run(tool("prometheus-blackbox-exporter"),
              f"--config.file={folder / 'blackbox.yml'}", "--config.check")
    assert "Config file is ok" in out
