"""Monitoring (issue 9, O-MON): exporters on the hosts, and Prometheus,
Alertmanager and the blackbox exporter on the monitoring host, all from
Debian's packages, configured from the repository's monitoring/ folder.

- ``node_exporter()`` on every host of the appliance (port 9100, to mon only).
- ``postgres_exporter()`` on the database nodes (port 9187, to mon only).
- ``configure()`` on the monitoring host: scrape targets from the inventory,
  the alert rules, Alertmanager's routes and receivers. In the lab it also runs
  a mail and webhook sink (lab_sink.py) that Alertmanager delivers to, so the
  lab tests read real notifications.

HAProxy's own Prometheus endpoint is in roles/lb's haproxy.cfg (port 9101).
"""

import importlib.util
from io import StringIO
from pathlib import Path

from pyinfra import host, inventory
from pyinfra.api import deploy
from pyinfra.operations import apt, files, server, systemd

from lib import topology

HERE = Path(__file__).parent
REPO = HERE.parents[2]


def _render_module():
    spec = importlib.util.spec_from_file_location("mimamori_monitoring_render",
                                                  REPO / "monitoring" / "render.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


render = _render_module()


def _hosts(group: str) -> list[tuple[str, str]]:
    return list(zip(topology.names(group), topology.addresses(group)))


def _defaults_file(name: str, package: str, args: str):
    """Debian's units read ARGS from /etc/default/<package>; restart on change."""
    op = files.put(name=f"Configure {name}", src=StringIO(f'ARGS="{args}"\n'),
                   dest=f"/etc/default/{package}", mode="0644")
    _run(name, f"{package}.service", [op])
    return op


def _run(name: str, unit: str, changes: list):
    # pyinfra's restarted= is fixed when the operation is declared; whether a
    # file changed is known only at run time, hence a second operation with _if.
    systemd.service(name=f"Run {name}", service=unit, running=True, enabled=True)
    systemd.service(name=f"Restart {name} for its new settings", service=unit,
                    running=True, restarted=True,
                    _if=lambda: any(op.did_change() for op in changes))


@deploy("Run the node exporter")
def node_exporter():
    apt.packages(name="Install the node exporter", packages=["prometheus-node-exporter"],
                 no_recommends=True)
    files.directory(name="Create the textfile collector folder",
                    path="/var/lib/prometheus/node-exporter", mode="0755")
    # systemd: failed units (alert SystemdUnitFailed). textfile: metrics that
    # jobs write, e.g. the backup and restore drill results (issue 8).
    _defaults_file(
        "the node exporter", "prometheus-node-exporter",
        "--collector.systemd --collector.textfile.directory=/var/lib/prometheus/node-exporter",
    )


@deploy("Run the PostgreSQL exporter")
def postgres_exporter():
    apt.packages(name="Install the PostgreSQL exporter",
                 packages=["prometheus-postgres-exporter"], no_recommends=True)
    # Over the local socket as the postgres OS user (peer authentication in
    # pg_hba): no password to keep, and nothing reachable from the network.
    env = files.put(
        name="Point the PostgreSQL exporter at the local server",
        src=StringIO(
            'DATA_SOURCE_NAME="host=/var/run/postgresql user=postgres dbname=postgres sslmode=disable"\n'
            'ARGS="--web.listen-address=:9187"\n'
        ),
        dest="/etc/default/prometheus-postgres-exporter", mode="0640",
    )
    dropin = files.put(
        name="Run the PostgreSQL exporter as postgres",
        src=StringIO("[Service]\nUser=postgres\nGroup=postgres\n"),
        dest="/etc/systemd/system/prometheus-postgres-exporter.service.d/user.conf", mode="0644",
    )
    systemd.daemon_reload(name="Reload systemd units", _if=dropin.did_change)
    _run("the PostgreSQL exporter", "prometheus-postgres-exporter.service", [env, dropin])


@deploy("Run Prometheus, Alertmanager and the blackbox exporter")
def configure():
    d = host.data
    apt.packages(
        name="Install Prometheus, Alertmanager and the blackbox exporter",
        # tzdata: the maintenance windows are in Japan time (Asia/Tokyo).
        packages=["prometheus", "prometheus-alertmanager", "prometheus-blackbox-exporter", "tzdata"],
        no_recommends=True,
    )
    # Every host, the VM host included: in a container the kernel's clock state
    # (node_timex_*) cannot be read, so the lab proves the clock alerts' input there.
    appliance = list(inventory.get_group(d.env, []))
    # Patroni serves /metrics once the database runs under it; the etcd group
    # exists exactly in the inventories where it does (issue 5).
    patroni = _hosts("db") if inventory.get_group("etcd", []) else []
    prom = files.put(
        name="Configure Prometheus",
        src=StringIO(render.template(
            "prometheus.yml.j2", env=d.env, mon_name=host.name,
            scrape_interval=d.monitoring_scrape_interval,
            evaluation_interval=d.monitoring_evaluation_interval,
            node_hosts=[(h.name, h.data.ssh_hostname) for h in appliance],
            lb_hosts=_hosts("lb"), app_hosts=_hosts("app"), app_port=d.app_port,
            db_hosts=_hosts("db"), patroni_hosts=patroni,
            vip=d.vip, site_name=d.site_name,
        )),
        dest="/etc/prometheus/prometheus.yml", mode="0644",
    )
    rule_ops = [files.directory(name="Create the rules folder", path="/etc/prometheus/rules",
                                mode="0755")]
    for name in render.RULE_FILES:
        rule_ops.append(files.put(
            name=f"Install alert rules {name}",
            src=StringIO(render.rules(name, d.monitoring_rule_waits)),
            dest=f"/etc/prometheus/rules/{name.removesuffix('.j2')}", mode="0644",
        ))
    prom_defaults = files.put(
        name="Keep Prometheus on loopback, with its retention",
        src=StringIO(
            f'ARGS="--web.listen-address=127.0.0.1:9090'
            f' --storage.tsdb.retention.time={d.monitoring_retention}"\n'
        ),
        dest="/etc/default/prometheus", mode="0644",
    )
    server.shell(name="Check the Prometheus configuration and rules",
                 commands=["promtool check config --lint=none /etc/prometheus/prometheus.yml"],
                 _if=lambda: any(op.did_change() for op in [prom, *rule_ops]))
    _run("Prometheus", "prometheus.service", [prom_defaults])
    # A reload (SIGHUP) reads new targets and rules without losing data.
    systemd.service(name="Reload Prometheus", service="prometheus.service", running=True,
                    reloaded=True,
                    _if=lambda: not prom_defaults.did_change()
                    and any(op.did_change() for op in [prom, *rule_ops]))

    am = files.put(
        name="Configure Alertmanager",
        src=StringIO(render.template(
            "alertmanager.yml.j2", env=d.env,
            smarthost=d.alert_smarthost, mail_from=d.alert_mail_from,
            smtp_require_tls=d.alert_smtp_require_tls, email_to=d.alert_email_to,
            webhook_urls=d.alert_webhook_urls, deadman_url=d.alert_deadman_url,
            group_wait=d.alert_group_wait, group_interval=d.alert_group_interval,
            repeat_interval=d.alert_repeat_interval,
            watchdog_repeat_interval=d.alert_watchdog_repeat_interval,
            timezone="Asia/Tokyo",
            holidays=[tuple(int(x) for x in day.split("-")) for day in d.maintenance_holidays],
        )),
        dest="/etc/prometheus/alertmanager.yml", mode="0644",
    )
    server.shell(name="Check the Alertmanager configuration",
                 commands=["amtool check-config /etc/prometheus/alertmanager.yml"],
                 _if=am.did_change)
    # Loopback only, and no cluster port: one Alertmanager, nothing else listening.
    am_defaults = _defaults_file("Alertmanager", "prometheus-alertmanager",
                                 "--web.listen-address=127.0.0.1:9093 --cluster.listen-address=")
    # A restart, not a reload: a SIGHUP that lands before a just-started
    # Alertmanager installs its handler ends the process (seen on a first
    # deploy). Silences and notification state are saved on the way down.
    systemd.service(name="Restart Alertmanager for its new configuration",
                    service="prometheus-alertmanager.service", running=True, restarted=True,
                    _if=lambda: am.did_change() and not am_defaults.did_change())

    bb = files.put(
        name="Configure the blackbox exporter",
        src=StringIO(render.template(
            "blackbox.yml.j2", site_name=d.site_name,
            site_ca_file=d.monitoring_site_ca_file,
            site_tls_insecure=d.monitoring_site_tls_insecure,
        )),
        dest="/etc/prometheus/blackbox.yml", mode="0644",
    )
    bb_defaults = _defaults_file(
        "the blackbox exporter", "prometheus-blackbox-exporter",
        "--config.file=/etc/prometheus/blackbox.yml --web.listen-address=127.0.0.1:9115",
    )
    systemd.service(name="Reload the blackbox exporter",
                    service="prometheus-blackbox-exporter.service", running=True, reloaded=True,
                    _if=lambda: bb.did_change() and not bb_defaults.did_change())

    if d.monitoring_lab_sink:
        _lab_sink()


def _lab_sink():
    """The lab's stand-in for the ward's mail relay and the on-call webhook: a
    real SMTP server (aiosmtpd) and an HTTP listener on mon1's loopback that
    keep every message, read by tests/lab."""
    apt.packages(name="Install aiosmtpd", packages=["python3-aiosmtpd"], no_recommends=True)
    script = files.put(name="Install the lab sink", src=str(HERE / "lab_sink.py"),
                       dest="/usr/local/lib/mimamori-lab-sink.py", mode="0755")
    unit = files.put(name="Install the lab sink service",
                     src=str(HERE / "templates/mimamori-lab-sink.service"),
                     dest="/etc/systemd/system/mimamori-lab-sink.service", mode="0644")
    systemd.daemon_reload(name="Reload systemd units", _if=unit.did_change)
    _run("the lab sink", "mimamori-lab-sink.service", [script, unit])
