"""The web application on the app nodes: a release folder per wheelhouse with its
own virtualenv, switched by a symlink; waitress under systemd as an
unprivileged user; configuration from the environment's data and secrets.

Migrations run once per release, on the first app node only, after the new
release is installed everywhere and before any node restarts into it.
"""

from io import StringIO
from pathlib import Path
from urllib.parse import quote

from pyinfra import host
from pyinfra.api import deploy
from pyinfra.facts.files import File
from pyinfra.operations import apt, files, server, systemd

from lib import secrets, topology, wheels

HERE = Path(__file__).parent
BASE = "/opt/mimamori"
STATE = "/var/lib/mimamori"


def database_url(env: str) -> str:
    d = host.data
    password = quote(secrets.password(env, "db-app-password"), safe="")
    # verify-full: the app checks the database's certificate and name against
    # the internal CA, so a host on the network cannot pose as the database.
    return (
        f"postgresql+psycopg://{d.db_user}:{password}@{d.db_host}:5432/{d.db_name}"
        f"?sslmode=verify-full&sslrootcert=/etc/mimamori/internal-ca.crt"
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
                f"{release}/venv/bin/pip install --quiet --no-index --find-links {release}/wheels"
                f" --disable-pip-version-check mimamori",
            ],
        )

    ca = files.put(name="Install the internal CA for database TLS",
                   src=str(secrets.ca_paths(env)[1]), dest="/etc/mimamori/internal-ca.crt",
                   mode="0644")
    ini = files.template(
        name="Configure the application",
        src=str(HERE / "templates/mimamori.ini.j2"),
        dest="/etc/mimamori/mimamori.ini",
        group="mimamori", mode="0640",
        trusted_proxies=" ".join(topology.addresses("lb")),
        admin_cidrs=" ".join(host.data.admin_cidrs),
        listen_port=host.data.app_port,
        threads=host.data.app_threads,
    )
    # Secrets go to an EnvironmentFile only root reads; systemd hands them to the process.
    env_file = files.put(
        name="Install the application's secrets",
        src=StringIO(
            f"MIMAMORI_DATABASE_URL={database_url(env)}\n"
            f"MIMAMORI_SESSION_SECRET={secrets.password(env, 'session-secret')}\n"
        ),
        dest="/etc/mimamori/secrets.env",
        mode="0600",
    )
    unit = files.template(
        name="Install the application service",
        src=str(HERE / "templates/mimamori.service.j2"),
        dest="/etc/systemd/system/mimamori.service",
        mode="0644",
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
            commands=[f"{run_as_service} migrate", f"touch {STATE}/migrated/{key}"],
        )
    if first_app_node and host.data.app_demo_data and not host.get_fact(
        File, path=f"{STATE}/demo-data.loaded"
    ):
        server.shell(
            name="Load demo data (lab only)",
            commands=[f"{run_as_service} demo-data --scale small > {STATE}/demo-logins.txt",
                      f"touch {STATE}/demo-data.loaded"],
        )

    systemd.daemon_reload(name="Reload systemd units", _if=unit.did_change)
    systemd.service(name="Start and enable the application", service="mimamori.service",
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
        _if=lambda: any(op.did_change() for op in [current, ini, env_file, unit, ca]),
    )
    server.shell(
        name="Remove all but the three newest releases",
        commands=[f"ls -1dt {BASE}/releases/*/ | tail -n +4 | xargs -r rm -rf"],
        _if=current.did_change,
    )
