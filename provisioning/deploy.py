"""The whole appliance: `pyinfra inventories/<env>.py deploy.py` from this folder
(ci/deploy does that and writes the change record).

Roles apply by inventory group, in phases separated by barriers (lib/barrier.py):
the ACME CA and the database first, then the app nodes, then the load balancers
that health-check them and get their certificate from the ACME CA.
"""

from pyinfra import host

from lib import secrets
from lib.barrier import barrier
from roles import app, backup, base, certificates, common, db, etcd, lb, logging, pebble
from roles import monitoring

secrets.ensure(host.data.env)

common.configure()
# Hardening and central logging on every host first (issue 6): the firewall
# opens only the ports firewall_ports declares for the host's groups.
base.configure()
logging.configure()
# Monitoring (issue 9): the node exporter on every host, the VM host included.
monitoring.node_exporter()
if "acme_lab" in host.groups:
    pebble.configure()
if "etcd" in host.groups:
    etcd.configure()
if "db" in host.groups:
    db.configure()
    backup.database_node()
if "backup" in host.groups:
    backup.repository()
barrier("database and ACME CA")
if "app" in host.groups:
    app.configure()
if "backup" in host.groups:
    # Both database nodes serve pgBackRest now (previous phase).
    backup.stanza()
barrier("app nodes")
if "lb" in host.groups:
    lb.configure()
    certificates.configure()
if "db" in host.groups:
    # After the app's migrations (previous phase): the audit table exists now.
    db.grant_after_migrate()
    monitoring.postgres_exporter()
if any(g in host.groups for g in backup.FILE_BACKUP_GROUPS):
    # After the previous barriers: the backup host's restic server runs.
    backup.files_client()
# Last: the monitoring host scrapes everything deployed above.
if "mon" in host.groups:
    monitoring.configure()
