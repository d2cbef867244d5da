"""One PostgreSQL 15 for the application, with TLS from the internal CA.

Deliberately small and separate: the database high-availability issue replaces
this role with Patroni on db1+db2 without touching the app or lb roles. The
cluster is created by this role (not by the package) for the same reason.
"""

import base64
import hashlib
import hmac
from io import StringIO
from pathlib import Path

from pyinfra import host
from pyinfra.api import deploy
from pyinfra.facts.files import File
from pyinfra.operations import apt, files, postgres, server, systemd

from lib import secrets, topology

HERE = Path(__file__).parent
VERSION = "15"
CLUSTER = "main"
CONF_DIR = f"/etc/postgresql/{VERSION}/{CLUSTER}"


@deploy("Run PostgreSQL for the application")
def configure():
    env = host.data.env
    files.put(
        name="Keep the PostgreSQL package from creating a default cluster",
        src=StringIO("create_main_cluster = false\n"),
        dest="/etc/postgresql-common/createcluster.conf",
        mode="0644",
    )
    apt.packages(
        name="Install PostgreSQL 15",
        packages=[f"postgresql-{VERSION}", f"postgresql-client-{VERSION}"],
    )
    if not host.get_fact(File, path=f"{CONF_DIR}/postgresql.conf"):
        server.shell(
            name="Create the PostgreSQL cluster",
            commands=[f"pg_createcluster --locale C.UTF-8 {VERSION} {CLUSTER}"],
        )

    key, crt = secrets.leaf(env, f"postgres-{host.name}", [host.name], [host.data.ssh_hostname])
    files.directory(name="Create the TLS folder", path=f"{CONF_DIR}/tls",
                    user="postgres", group="postgres", mode="0700")
    tls = [
        files.put(name="Install the server key", src=str(key), dest=f"{CONF_DIR}/tls/server.key",
                  user="postgres", group="postgres", mode="0600"),
        files.put(name="Install the server certificate", src=str(crt),
                  dest=f"{CONF_DIR}/tls/server.crt", user="postgres", group="postgres",
                  mode="0644"),
    ]
    include = files.line(
        name="Read the conf.d folder",
        path=f"{CONF_DIR}/postgresql.conf",
        line="include_dir = 'conf.d'",
    )
    conf = files.template(
        name="Configure PostgreSQL",
        src=str(HERE / "templates/mimamori.conf.j2"),
        dest=f"{CONF_DIR}/conf.d/mimamori.conf",
        user="postgres", group="postgres", mode="0644",
        conf_dir=CONF_DIR,
    )
    hba = files.template(
        name="Allow the app nodes over TLS only",
        src=str(HERE / "templates/pg_hba.conf.j2"),
        dest=f"{CONF_DIR}/pg_hba.conf",
        user="postgres", group="postgres", mode="0640",
        app_addresses=topology.addresses("app"),
        db_name=host.data.db_name, db_user=host.data.db_user,
    )
    systemd.service(name="Enable PostgreSQL at boot", service="postgresql.service",
                    running=True, enabled=True)
    systemd.service(name="Start the cluster", service=f"postgresql@{VERSION}-{CLUSTER}.service",
                    running=True)
    # listen_addresses only takes effect on restart; certificates and pg_hba on reload.
    systemd.service(name="Restart PostgreSQL", service=f"postgresql@{VERSION}-{CLUSTER}.service",
                    running=True, restarted=True, _if=lambda: conf.did_change() or include.did_change())
    systemd.service(name="Reload PostgreSQL", service=f"postgresql@{VERSION}-{CLUSTER}.service",
                    running=True, reloaded=True,
                    _if=lambda: any(op.did_change() for op in [hba, *tls]))

    postgres.role(
        name="Create the application's database role",
        role=host.data.db_user,
        login=True,
        _sudo=True, _sudo_user="postgres",
    )
    # pyinfra's role operation re-sets a given password on every run. Instead the
    # SCRAM verifier (never the password itself) is kept on the host, and the
    # role's password is set only when that verifier changes (first run, rotation).
    verifier = scram_verifier(secrets.password(env, "db-app-password"))
    stored = files.put(
        name="Record the application role's password verifier",
        src=StringIO(verifier + "\n"),
        dest=f"/var/lib/postgresql/{VERSION}/{CLUSTER}-{host.data.db_user}.scram",
        user="postgres", group="postgres", mode="0600",
    )
    postgres.sql(
        name="Set the application role's password",
        sql=f"ALTER ROLE \"{host.data.db_user}\" PASSWORD '{verifier}'",
        _sudo=True, _sudo_user="postgres",
        _if=stored.did_change,
    )
    postgres.database(
        name="Create the application's database",
        database=host.data.db_name,
        owner=host.data.db_user,
        encoding="UTF8",
        _sudo=True, _sudo_user="postgres",
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
