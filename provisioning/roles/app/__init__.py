"""The web application on the app nodes: a release folder per wheelhouse with its
own virtualenv, switched by a symlink; waitress under systemd as an
unprivileged user; configuration from the environment's data and secrets.

Migrations run once per release, on the first app node only, after the new
release is installed everywhere and before any node restarts into it.
"""

import os
from io import StringIO
from pathlib import Path
from urllib.parse import quote

from pyinfra import host
from pyinfra.api import deploy
from pyinfra.facts.files import File
from pyinfra.operations import apt, files, server, systemd

from lib import envfile, secrets, topology, wheels
from roles import db
from roles.audit_checkpoints import AUDIT_KEY_DIR, CHECKPOINT_DIR, STATE

HERE = Path(__file__).parent
# ci/upgrade-app restarts the nodes itself afterwards, each drained in HAProxy
# first (patch.py --restart-app): the deploy then installs, migrates and
# switches the release without restarting anything.
RESTART_BY_ORCHESTRATOR = os.environ.get("MIMAMORI_APP_RESTART") == "drain"
BASE = "/opt/mimamori"
# STATE, AUDIT_KEY_DIR and CHECKPOINT_DIR (signed checkpoints, S-AUDIT) live in
# roles/audit_checkpoints.py, shared with roles/logging, which ships the checkpoints.


def database_url(env: str, user: str | None = None, password_name: str = "db-app-password") -> str:
    d = host.data
    password = quote(secrets.password(env, password_name), safe="")
    # Every database node, and libpq picks the one that accepts writes
    # (target_session_attrs=read-write): after a failover the pool's next
    # connection finds the new primary, with no restart and no virtual address.
    # SQLAlchemy hands repeated host= parameters to psycopg/libpq as one list.
    hosts = "&".join(f"host={name}:5432" for name in topology.names("db"))
    # verify-full: the app checks the database's certificate and name against
    # the internal CA, so a host on the network cannot pose as the database.
    # connect_timeout, tcp_user_timeout and keepalives: a node that died or was
    # cut off costs seconds (connect, pool pre-ping, a query in flight), not the
    # kernel's TCP timeouts of minutes.
    return (
        f"postgresql+psycopg://{user or db.APP_ROLE}:{password}@/{d.db_name}?{hosts}"
        f"&target_session_attrs=read-write&connect_timeout=3&tcp_user_timeout=5000"
        f"&keepalives_idle=5&keepalives_interval=2&keepalives_count=3"
        f"&sslmode=verify-full&sslrootcert=/etc/mimamori/internal-ca.crt"
    )


@deploy("Install and run the application")
def configure():
    env = host.data.env
    key, wheelhouse = wheels.wheelhouse()
    release = f"{BASE}/releases/{key}"
    first_app_node = topology.names("app")[:1] == [host.name]

    apt.packages(name="Install Python's venv", packages=["python3-venv"])
    server.user(
        name="Create the service user",
        user="mimamori", system=True, shell="/usr/sbin/nologin",
        home=STATE, ensure_home=True,
    )
    files.directory(name="Create the releases folder", path=f"{BASE}/releases", mode="0755")
    files.directory(name="Create the configuration folder", path="/etc/mimamori",
                    group="mimamori", mode="0750")
    files.directory(name="Create the migration markers folder", path=f"{STATE}/migrated",
                    mode="0755")

    wheels_op = files.sync(
        name="Upload the wheelhouse",
        src=str(wheelhouse), dest=f"{release}/wheels",
        exclude=[".complete"], delete=True, mode="0644",
    )
    if not host.get_fact(File, path=f"{release}/venv/bin/mimamori"):
        # A fresh virtualenv per release: installing into the running one would
        # change code under the live process, and a failed install would leave it half-done.
        server.shell(
            name="Install the release into its own virtualenv",
            commands=[
                f"rm -rf {release}/venv",
                f"python3 -m venv {release}/venv",
                # The wheelhouse's list (lib/wheels.py): locks/app.txt and the
                # app, each file's hash checked, nothing else installable.
                f"{release}/venv/bin/pip install --quiet --no-index --find-links {release}/wheels"
                f" --disable-pip-version-check --require-hashes -r {release}/wheels/requirements.txt",
            ],
        )

    ca = files.put(name="Install the internal CA for database TLS",
                   src=str(secrets.ca_paths(env)[1]), dest="/etc/mimamori/internal-ca.crt",
                   mode="0644")
    audit_key_id, audit_keys = audit_signing_keys(env)
    ini = files.template(
        name="Configure the application",
        src=str(HERE / "templates/mimamori.ini.j2"),
        dest="/etc/mimamori/mimamori.ini",
        group="mimamori", mode="0640",
        trusted_proxies=" ".join(topology.addresses("lb")),
        admin_cidrs=" ".join(host.data.admin_cidrs),
        # GET /metrics answers the monitoring host only (roles/monitoring, issue 9).
        metrics_cidrs=" ".join(topology.addresses("mon")),
        listen_port=host.data.app_port,
        threads=host.data.app_threads,
        site_name=host.data.site_name,
        audit_key_dir=AUDIT_KEY_DIR, audit_key_id=audit_key_id,
        checkpoint_dir=CHECKPOINT_DIR, node=host.name,
    )
    # Secrets go to an EnvironmentFile only root reads; systemd hands them to the
    # process, and the `mimamori` command sources it in a shell: envfile writes
    # values both read alike (the URL holds `&`).
    env_file = files.put(
        name="Install the application's secrets",
        src=StringIO(envfile.render({
            "MIMAMORI_DATABASE_URL": database_url(env),
            "MIMAMORI_SESSION_SECRET": secrets.password(env, "session-secret"),
        })),
        dest="/etc/mimamori/secrets.env",
        mode="0600",
    )
    # Migrations run as the owner-side login (roles/db), never as the app's role.
    files.put(
        name="Install the migrations' database login",
        src=StringIO(envfile.render({
            "MIMAMORI_DATABASE_URL": database_url(env, "mimamori_migrate", "db-migrate-password"),
        })),
        dest="/etc/mimamori/migrate.env",
        mode="0600",
    )
    # What runbooks call: `mimamori audit verify` as root on any app node.
    files.put(
        name="Install the mimamori command for operators",
        src=str(HERE / "templates/mimamori-command.sh"),
        dest="/usr/local/bin/mimamori",
        mode="0755",
    )
    unit = files.template(
        name="Install the application service",
        src=str(HERE / "templates/mimamori.service.j2"),
        dest="/etc/systemd/system/mimamori.service",
        mode="0644", checkpoint_dir=CHECKPOINT_DIR,
    )
    current = files.link(name="Point the current release at this wheelhouse",
                         path=f"{BASE}/current", target=release, symbolic=True)

    # Runs the app's own command with the service's user and secrets, as a
    # transient unit, so migrations see exactly what the service will see.
    run_as_service = (
        "systemd-run --quiet --wait --pipe --collect -p User=mimamori "
        "-p EnvironmentFile=/etc/mimamori/secrets.env "
        f"{release}/venv/bin/mimamori -c /etc/mimamori/mimamori.ini"
    )
    if first_app_node and not host.get_fact(File, path=f"{STATE}/migrated/{key}"):
        server.shell(
            name="Apply database migrations",
            # The second EnvironmentFile's URL overrides the app's: the owner-side login.
            commands=[run_as_service.replace(
                          "-p EnvironmentFile=/etc/mimamori/secrets.env ",
                          "-p EnvironmentFile=/etc/mimamori/secrets.env "
                          "-p EnvironmentFile=/etc/mimamori/migrate.env ") + " migrate",
                      f"touch {STATE}/migrated/{key}"],
        )
    if first_app_node and host.data.app_demo_data and not host.get_fact(
        File, path=f"{STATE}/demo-data.loaded"
    ):
        server.shell(
            name="Load demo data (lab only)",
            # As the owner-side login too: the bulk load resets sequences (setval),
            # which the app's role may not do.
            commands=[run_as_service.replace(
                          "-p EnvironmentFile=/etc/mimamori/secrets.env ",
                          "-p EnvironmentFile=/etc/mimamori/secrets.env "
                          "-p EnvironmentFile=/etc/mimamori/migrate.env ")
                      + f" demo-data --scale small > {STATE}/demo-logins.txt",
                      f"touch {STATE}/demo-data.loaded"],
        )

    # Periodic work (alert sweep, reminders, mail outbox) on every node; the
    # PostgreSQL advisory lock in `mimamori jobs run` lets exactly one work.
    jobs_units = [
        files.template(name="Install the periodic jobs service",
                       src=str(HERE / "templates/mimamori-jobs.service.j2"),
                       dest="/etc/systemd/system/mimamori-jobs.service", mode="0644",
                       checkpoint_dir=CHECKPOINT_DIR),
        files.template(name="Install the periodic jobs timer",
                       src=str(HERE / "templates/mimamori-jobs.timer.j2"),
                       dest="/etc/systemd/system/mimamori-jobs.timer", mode="0644",
                       interval=host.data.get("app_jobs_interval", "2min")),
    ]
    jobs_units += audit_verify_units()
    systemd.daemon_reload(name="Reload systemd units",
                          _if=lambda: unit.did_change() or any(u.did_change() for u in jobs_units))
    systemd.service(name="Start and enable the application", service="mimamori.service",
                    running=True, enabled=True)
    systemd.service(name="Start and enable the periodic jobs timer", service="mimamori-jobs.timer",
                    running=True, enabled=True)
    systemd.service(name="Start and enable the daily audit verification", service="mimamori-audit-verify.timer",
                    running=True, enabled=True)
    # One node at a time, each back on /healthz (and given the load balancers'
    # two 1 s checks to see it) before the next goes down, so HAProxy always
    # has a node to send requests to.
    server.shell(
        name="Restart the application node by node",
        commands=[
            "systemctl restart mimamori.service",
            f"for i in $(seq 60); do curl -sf -o /dev/null http://127.0.0.1:{host.data.app_port}/healthz"
            " && sleep 3 && exit 0; sleep 0.5; done; echo 'no answer on /healthz' >&2; exit 1",
        ],
        _serial=True,
        _if=lambda: not RESTART_BY_ORCHESTRATOR
        and any(op.did_change() for op in [current, ini, env_file, unit, ca, *audit_keys]),
    )
    # After a deploy that changed the node: it signs the head, then verifies
    # everything it signed so far (the result reaches monitoring; a failure does
    # not stop the deploy). A deploy that changes nothing runs nothing here.
    server.shell(
        name="Sign a checkpoint and verify the change records after the deploy",
        commands=[run_as_service + " audit checkpoint",
                  "systemctl start --no-block mimamori-audit-verify.service"],
        _if=lambda: any(op.did_change() for op in [current, ini, env_file, unit, ca, *audit_keys]),
    )
    server.shell(
        name="Remove all but the three newest releases",
        commands=[f"ls -1dt {BASE}/releases/*/ | tail -n +4 | xargs -r rm -rf"],
        _if=current.did_change,
    )


def audit_signing_keys(env: str):
    """The signing key for the app user alone (0400) and every public key beside it;
    a private key rotated away (lib/secrets.py rotate-audit-key) is removed from the node."""
    key_id = secrets.audit_signing_key(env)
    key_dir = secrets.audit_key_dir(env)
    files.directory(name="Create the audit key folder", path=AUDIT_KEY_DIR,
                    user="root", group="mimamori", mode="0750")
    files.directory(name="Create this node's checkpoint folder", path=CHECKPOINT_DIR,
                    user="mimamori", group="mimamori", mode="0750")
    ops = [files.put(name="Install the audit signing key (the app user alone reads it)",
                     src=str(key_dir / f"{key_id}.key"), dest=f"{AUDIT_KEY_DIR}/{key_id}.key",
                     user="mimamori", group="mimamori", mode="0400")]
    for public in secrets.audit_public_keys(env):
        ops.append(files.put(name=f"Install the audit public key {public.stem}", src=str(public),
                             dest=f"{AUDIT_KEY_DIR}/{public.name}", user="root", group="mimamori",
                             mode="0644"))
    for public in secrets.audit_public_keys(env):
        if public.stem != key_id:
            ops.append(files.file(name=f"Remove the audit signing key {public.stem} rotated away",
                                  path=f"{AUDIT_KEY_DIR}/{public.stem}.key", present=False))
    return key_id, ops


def audit_verify_units():
    return [
        files.template(name="Install the audit verification script",
                       src=str(HERE / "templates/mimamori-audit-verify.j2"),
                       dest="/usr/local/sbin/mimamori-audit-verify", mode="0750",
                       checkpoint_dir=CHECKPOINT_DIR, audit_key_dir=AUDIT_KEY_DIR),
        files.template(name="Install the audit verification service",
                       src=str(HERE / "templates/mimamori-audit-verify.service.j2"),
                       dest="/etc/systemd/system/mimamori-audit-verify.service", mode="0644"),
        files.template(name="Install the audit verification timer",
                       src=str(HERE / "templates/mimamori-audit-verify.timer.j2"),
                       dest="/etc/systemd/system/mimamori-audit-verify.timer", mode="0644"),
    ]
