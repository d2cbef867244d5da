"""Central logging (O-LOGKEEP, S-ACCESSLOG, T-SP 17): rsyslog on every host ships
auth, audit, antivirus, the app's access log and the app nodes' signed audit
checkpoints to the environment's log host
(``log_host``) over mutually authenticated TLS (internal CA, per-host
certificates); the log host files them per host and keeps them
``log_keep_days`` days with logrotate."""

from pathlib import Path

from pyinfra import host
from pyinfra.api import deploy
from pyinfra.operations import apt, files, server, systemd

from lib import secrets
from roles.audit_checkpoints import CHECKPOINT_DIR

T = Path(__file__).parent / "templates"


@deploy("Ship logs to the log host")
def configure():
    d = host.data
    env = d.env
    apt.packages(name="Install rsyslog with TLS", packages=["rsyslog", "rsyslog-gnutls", "logrotate"])
    key, crt = secrets.leaf(env, f"rsyslog-{host.name}", [host.name], [d.ssh_hostname])
    _, ca = secrets.ca_paths(env)
    files.directory(name="TLS folder", path="/etc/rsyslog-tls", mode="0750")
    changed = [
        files.put(name="rsyslog CA", src=str(ca), dest="/etc/rsyslog-tls/ca.crt", mode="0644"),
        files.put(name="rsyslog certificate", src=str(crt), dest="/etc/rsyslog-tls/host.crt",
                  mode="0644"),
        files.put(name="rsyslog key", src=str(key), dest="/etc/rsyslog-tls/host.key", mode="0600"),
        files.put(name="rsyslog TLS settings", src=str(T / "tls.conf"),
                  dest="/etc/rsyslog.d/10-mimamori-tls.conf", mode="0644"),
        files.template(name="Forward to the log host", src=str(T / "forward.conf.j2"),
                       dest="/etc/rsyslog.d/60-mimamori-forward.conf", mode="0644",
                       log_host=d.log_host),
    ]
    # App nodes: their signed audit checkpoints leave the node line by line.
    checkpoints_conf = "/etc/rsyslog.d/30-mimamori-checkpoints.conf"
    changed.append(files.template(
        name="Ship the signed audit checkpoints", src=str(T / "checkpoints.conf.j2"),
        dest=checkpoints_conf, mode="0644", checkpoint_dir=CHECKPOINT_DIR,
    ) if "app" in host.groups else files.file(name="No audit checkpoints here", path=checkpoints_conf,
                                              present=False))
    serving = host.name == d.log_host
    server_conf = "/etc/rsyslog.d/20-mimamori-server.conf"
    changed.append(files.template(
        name="Receive every host's logs", src=str(T / "server.conf.j2"), dest=server_conf,
        mode="0644", keep_days=d.log_keep_days,
    ) if serving else files.file(name="Not the log host", path=server_conf, present=False))
    if serving:
        files.directory(name="Central log folder", path="/var/log/remote", mode="0750",
                        group="adm")
        files.directory(name="Collected audit checkpoints", path="/var/log/remote/audit-checkpoints",
                        mode="0750", group="adm")
        files.template(name="Keep central logs", src=str(T / "logrotate.j2"),
                       dest="/etc/logrotate.d/mimamori-remote", mode="0644",
                       keep_days=d.log_keep_days)
    server.shell(name="Check the rsyslog configuration", commands=["rsyslogd -N1 >/dev/null"],
                 _if=lambda: any(c.did_change() for c in changed))
    systemd.service(name="Restart rsyslog", service="rsyslog", running=True, restarted=True,
                    _if=lambda: any(c.did_change() for c in changed))
    systemd.service(name="Run rsyslog", service="rsyslog", running=True, enabled=True)
