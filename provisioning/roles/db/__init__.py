"""PostgreSQL 15 on the database nodes, managed by Patroni with etcd as its store.

Patroni comes from PyPI (locks/patroni.txt, hash-pinned, as wheels built on the control
machine, in a virtualenv), not from Debian: Debian's 3.0.2 with its packaged
configuration kept two primaries after a network partition of the leader and
could not rewind the old one (shared/LAB.md). The configuration here is
Patroni's own file, written by this role, not Debian's pg_createconfig_patroni.

On a new cluster every node starts at once: the one that takes etcd's
initialize key bootstraps, the others join it as replicas. Roles and the database are created on the primary: an owner role
that owns every table (migrations run as ``mimamori_migrate``, which acts as
the owner), and ``mimamori_app`` for the application, which may only read and
append to the audit table (S-AUDIT, runbooks/security-logs.md).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from io import StringIO
from pathlib import Path

from pyinfra import host
from pyinfra.api import FactBase, deploy
from pyinfra.facts.files import File
from pyinfra.operations import apt, files, server, systemd

from lib import secrets, topology
from lib import wheels as wheelhouses
from roles import etcd, wal_archive

HERE = Path(__file__).parent
VERSION = "15"
# The pin lives in locks/patroni.in (and its lock, locks/patroni.txt); this names
# it for messages and tests/unit/test_locks.py checks the two agree.
PATRONI = "patroni[etcd3,psycopg3]==4.1.5"
VENV = "/opt/patroni/venv"
CONF = "/etc/patroni/mimamori.yml"
TLS_DIR = "/etc/patroni/tls"
DATA_DIR = f"/var/lib/postgresql/{VERSION}/mimamori"
SQL_DIR = "/etc/patroni/sql"

OWNER_ROLE = "mimamori_owner"
MIGRATE_ROLE = "mimamori_migrate"
APP_ROLE = "mimamori_app"

# Failure detection (runbooks/database-ha.md): a killed leader's key expires
# after TTL s; an isolated leader demotes after RETRY_TIMEOUT s of no etcd.
# Patroni 4 raises any ttl below 20 to 20.
TTL, LOOP_WAIT, RETRY_TIMEOUT = 20, 3, 5

PSQL = "sudo -u postgres psql -X -q -v ON_ERROR_STOP=1"
IS_PRIMARY = f"[ \"$({PSQL} -Atc 'select pg_is_in_recovery()')\" = f ]"


def _patroni_wheels() -> Path:
    """Wheels of locks/patroni.txt for the hosts (lib/wheels.py), built once and reused."""
    return wheelhouses.patroni_wheelhouse()


class AuditPrivilegesOk(FactBase):
    """True when this node answers and the app role can only read and append to
    the audit table (or False: missing table, wrong grants, no database yet)."""

    def command(self):
        query = (
            f"select not has_table_privilege('{APP_ROLE}','audit_records','UPDATE')"
            f" and not has_table_privilege('{APP_ROLE}','audit_records','DELETE')"
            f" and not has_table_privilege('{APP_ROLE}','audit_records','TRUNCATE')"
            f" and has_table_privilege('{APP_ROLE}','audit_records','INSERT')"
            f" and not has_table_privilege('{APP_ROLE}','alembic_version','UPDATE')"
        )
        return (f"{PSQL} -d mimamori -Atc \"{query}\" 2>/dev/null || echo f")

    def process(self, output):
        return "".join(output).strip() == "t"


@deploy("Run PostgreSQL under Patroni")
def configure():
    env = host.data.env
    d = host.data
    files.put(
        name="Keep the PostgreSQL package from creating a default cluster",
        src=StringIO("create_main_cluster = false\n"),
        dest="/etc/postgresql-common/createcluster.conf",
        mode="0644",
    )
    apt.packages(
        name="Install PostgreSQL 15 and Python's venv",
        packages=[f"postgresql-{VERSION}", f"postgresql-client-{VERSION}", "python3-venv"],
    )
    # Same mode as roles/base gives it where the package is already present.
    files.directory(name="Only postgres reads its home", path="/var/lib/postgresql", mode="0750")
    # Patroni starts PostgreSQL; Debian's own units must never start a second one.
    systemd.service(name="Keep Debian's PostgreSQL units off", service="postgresql.service",
                    running=False, enabled=False)

    wheelhouse = _patroni_wheels()
    wheels = files.sync(name="Upload Patroni's wheels", src=str(wheelhouse),
                        dest="/opt/patroni/wheels", exclude=[".complete"], delete=True,
                        mode="0644")
    install = server.shell(
        name="Install Patroni into its virtualenv",
        commands=[
            f"rm -rf {VENV}",
            f"python3 -m venv {VENV}",
            # Only the wheelhouse's own list, each file's hash checked: nothing
            # outside locks/patroni.txt can be installed.
            f"{VENV}/bin/pip install --quiet --no-index --find-links /opt/patroni/wheels"
            f" --disable-pip-version-check --require-hashes -r /opt/patroni/wheels/requirements.txt",
        ],
        _if=lambda: wheels.did_change() or not host.get_fact(File, path=f"{VENV}/bin/patroni"),
    )
    files.put(
        name="Install the patronictl wrapper",
        src=StringIO("#!/bin/sh\n# Patroni's configuration holds passwords: postgres reads it.\n"
                     f"exec sudo -u postgres {VENV}/bin/patronictl -c {CONF} \"$@\"\n"),
        dest="/usr/local/sbin/patronictl", mode="0755",
    )

    files.directory(name="Create Patroni's folders", path=TLS_DIR,
                    user="postgres", group="postgres", mode="0700")
    files.directory(name="Create the SQL folder", path=SQL_DIR,
                    user="postgres", group="postgres", mode="0700")
    key, crt = secrets.leaf(env, f"postgres-{host.name}", [host.name], [d.ssh_hostname])
    tls = [
        files.put(name="Install the server key", src=str(key), dest=f"{TLS_DIR}/server.key",
                  user="postgres", group="postgres", mode="0600"),
        files.put(name="Install the server certificate", src=str(crt),
                  dest=f"{TLS_DIR}/server.crt", user="postgres", group="postgres", mode="0644"),
        files.put(name="Install the internal CA for replication", src=str(secrets.ca_paths(env)[1]),
                  dest=f"{TLS_DIR}/ca.crt", user="postgres", group="postgres", mode="0644"),
    ]
    conf = files.template(
        name="Configure Patroni",
        src=str(HERE / "templates/patroni.yml.j2"),
        dest=CONF, user="postgres", group="postgres", mode="0600",
        env=env, name_=host.name, address=d.ssh_hostname, version=VERSION,
        data_dir=DATA_DIR, tls_dir=TLS_DIR,
        etcd_hosts=",".join(etcd.client_urls()),
        ttl=TTL, loop_wait=LOOP_WAIT, retry_timeout=RETRY_TIMEOUT,
        rest_password=secrets.password(env, "patroni-rest-password"),
        superuser_password=secrets.password(env, "db-superuser-password"),
        replication_password=secrets.password(env, "db-replication-password"),
        rewind_password=secrets.password(env, "db-rewind-password"),
        db_addresses=topology.addresses("db"),
        app_addresses=topology.addresses("app"),
        extra_clients=d.get("db_extra_clients", []),
        db_name=d.db_name, app_role=APP_ROLE, migrate_role=MIGRATE_ROLE,
        archive_command=wal_archive.ARCHIVE_COMMAND if topology.names("backup") else None,
        archive_timeout=d.get("backup_archive_timeout", wal_archive.ARCHIVE_TIMEOUT),
    )
    unit = files.template(
        name="Install the Patroni service",
        src=str(HERE / "templates/patroni.service.j2"),
        dest="/etc/systemd/system/patroni.service", mode="0644",
        version=VERSION, venv=VENV, conf=CONF,
    )
    systemd.daemon_reload(name="Reload systemd units", _if=unit.did_change)
    systemd.service(name="Enable Patroni at boot", service="patroni.service", enabled=True)

    # A new cluster: every node starts at once and Patroni decides. The node that
    # takes etcd's initialize key bootstraps and leads; the others wait for it and
    # join as replicas. (Ordering the nodes from here raced under load: a node
    # that gave up waiting could win the key while the "first" one was still in
    # initdb, and then waited forever to lead.) Which node leads does not matter:
    # the app's multi-host URL finds the primary.
    existed = host.get_fact(File, path=f"{DATA_DIR}/PG_VERSION") is not None
    me = f"http://{host.data.ssh_hostname}:8008"
    server.shell(
        name="Start Patroni and wait until this node leads or streams from the leader",
        # Bootstrapping (initdb, first checkpoint, base backup) takes seconds on
        # an idle host and minutes on a loaded CI machine: wait long, fail loudly.
        commands=["systemctl start patroni",
                  f"for i in $(seq 1200); do curl -sf -o /dev/null {me}/primary && exit 0;"
                  f" curl -sf -o /dev/null {me}/replica && exit 0; sleep 0.5; done;"
                  " echo 'neither leader nor streaming replica after 10 minutes' >&2;"
                  " journalctl -u patroni -n 40 --no-pager >&2; exit 1"],
        _if=lambda: not existed,
    )
    systemd.service(name="Keep Patroni running", service="patroni.service", running=True)
    # Configuration changes (pg_hba, certificates, passwords) take effect on a
    # reload; Patroni itself restarts PostgreSQL when a parameter needs it.
    systemd.service(name="Reload Patroni", service="patroni.service", running=True,
                    reloaded=True, _if=conf.did_change)
    # archive_mode only changes with a restart (the first deploy with a backup
    # host on a running cluster): Patroni restarts its PostgreSQL, one node at a
    # time, the primary keeping its role. A few seconds without writes, once.
    server.shell(
        name="Restart PostgreSQL through Patroni where archiving waits for it",
        commands=[f"for i in $(seq 60); do [ \"$({PSQL} -Atc 'show archive_mode')\" = on ] && exit 0;"
                  f" curl -s {me}/patroni | grep -q '\"pending_restart\": true' && break; sleep 0.5; done;"
                  f" patronictl restart mimamori-{env} {host.name} --force",
                  f"for i in $(seq 240); do curl -sf -o /dev/null {me}/health && exit 0; sleep 0.5; done;"
                  " echo 'PostgreSQL not back after the restart' >&2; exit 1"],
        _serial=True,
        _if=lambda: conf.did_change() and existed and bool(topology.names("backup")),
    )
    # New certificate files with an unchanged Patroni configuration: Patroni
    # sees nothing to do, so PostgreSQL itself re-reads them.
    server.shell(name="Reload PostgreSQL for new certificates",
                 commands=[f"{PSQL} -Atc 'select pg_reload_conf()' >/dev/null"],
                 _if=lambda: any(op.did_change() for op in tls) and not conf.did_change())
    systemd.service(name="Restart Patroni (new version)", service="patroni.service",
                    running=True, restarted=True, _serial=True,
                    # A new Patroni version on a running node; never on the first start.
                    _if=lambda: install.did_change() and existed)

    _roles_and_database(env)


def _roles_and_database(env: str) -> None:
    """Roles, passwords and the database, on the primary. The SQL file holds
    only SCRAM verifiers (never passwords) and is re-applied when it changes."""
    d = host.data
    verifier = lambda name: scram_verifier(secrets.password(env, name))  # noqa: E731
    sql = f"""
-- Managed by provisioning/roles/db; applied on the primary when it changes.
SELECT 'CREATE ROLE {OWNER_ROLE} NOLOGIN'
  WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{OWNER_ROLE}') \\gexec
SELECT 'CREATE ROLE {MIGRATE_ROLE} LOGIN'
  WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{MIGRATE_ROLE}') \\gexec
SELECT 'CREATE ROLE {APP_ROLE} LOGIN'
  WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{APP_ROLE}') \\gexec
GRANT {OWNER_ROLE} TO {MIGRATE_ROLE};
-- Everything a migration creates belongs to the owner role, not to a login.
ALTER ROLE {MIGRATE_ROLE} SET role = '{OWNER_ROLE}';
ALTER ROLE {MIGRATE_ROLE} PASSWORD '{verifier("db-migrate-password")}';
ALTER ROLE {APP_ROLE} PASSWORD '{verifier("db-app-password")}';
ALTER ROLE postgres PASSWORD '{verifier("db-superuser-password")}';
ALTER ROLE replicator PASSWORD '{verifier("db-replication-password")}';
SELECT 'CREATE ROLE rewinder LOGIN'
  WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'rewinder') \\gexec
ALTER ROLE rewinder PASSWORD '{verifier("db-rewind-password")}';
SELECT 'CREATE DATABASE {d.db_name} OWNER {OWNER_ROLE} ENCODING ''UTF8'' TEMPLATE template0'
  WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = '{d.db_name}') \\gexec
\\connect {d.db_name}
ALTER SCHEMA public OWNER TO {OWNER_ROLE};
REVOKE ALL ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO {APP_ROLE};
ALTER DEFAULT PRIVILEGES FOR ROLE {OWNER_ROLE} IN SCHEMA public
    GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {APP_ROLE};
ALTER DEFAULT PRIVILEGES FOR ROLE {OWNER_ROLE} IN SCHEMA public
    GRANT USAGE, SELECT ON SEQUENCES TO {APP_ROLE};
"""
    setup = files.put(name="Write the roles and database SQL", src=StringIO(sql),
                      dest=f"{SQL_DIR}/setup.sql", user="postgres", group="postgres",
                      mode="0600")
    server.shell(
        name="Create the roles and the database on the primary",
        commands=[f"if {IS_PRIMARY}; then {PSQL} -f {SQL_DIR}/setup.sql; fi"],
        _if=setup.did_change,
    )


@deploy("Restrict the app's database privileges after migrations")
def grant_after_migrate():
    """The app may read and append to the audit table, never change it: the
    statements of runbooks/security-logs.md, re-applied after every deploy
    whose migrations could have left the table with the default privileges."""
    sql = f"""
-- Managed by provisioning/roles/db; applied on the primary after migrations.
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {APP_ROLE};
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {APP_ROLE};
REVOKE ALL ON audit_records FROM {APP_ROLE};
GRANT SELECT, INSERT ON audit_records TO {APP_ROLE};
REVOKE ALL ON alembic_version FROM {APP_ROLE};
GRANT SELECT ON alembic_version TO {APP_ROLE};
"""
    grants = files.put(name="Write the app privileges SQL", src=StringIO(sql),
                       dest=f"{SQL_DIR}/grants.sql", user="postgres", group="postgres",
                       mode="0600")
    ok = host.get_fact(AuditPrivilegesOk)
    server.shell(
        name="Apply the app's privileges on the primary",
        commands=[f"if {IS_PRIMARY}; then {PSQL} -d {host.data.db_name} -f {SQL_DIR}/grants.sql; fi"],
        _if=lambda: grants.did_change() or not ok,
    )


def scram_verifier(password: str, iterations: int = 4096) -> str:
    """PostgreSQL's SCRAM-SHA-256 verifier (RFC 5802/7677) for ``password``.

    The salt is derived from the password so the verifier is stable between
    runs (no change reported) and still differs whenever the password does.
    """
    salt = hashlib.sha256(b"mimamori-scram-salt" + password.encode()).digest()[:16]
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
    client_key = hmac.new(salted, b"Client Key", "sha256").digest()
    stored_key = hashlib.sha256(client_key).digest()
    server_key = hmac.new(salted, b"Server Key", "sha256").digest()
    b64 = lambda b: base64.b64encode(b).decode()  # noqa: E731
    return f"SCRAM-SHA-256${iterations}:{b64(salt)}${b64(stored_key)}:{b64(server_key)}"
