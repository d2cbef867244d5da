"""Every host: etckeeper for /etc history (O-CHANGE), the environment's internal
CA in the trust store (so certbot trusts the lab ACME server and hosts trust
each other's internal TLS), and the folder that keeps deploy change records."""

from pathlib import Path

from pyinfra import host
from pyinfra.api import deploy
from pyinfra.operations import apt, files, server

from lib import secrets

HERE = Path(__file__).parent


@deploy("Configure the common base")
def configure():
    env = host.data.env
    apt.packages(
        name="Install base packages",
        packages=["etckeeper", "git", "ca-certificates", "openssl", "curl", "sudo", "socat"],
        update=host.data.apt_update,
        cache_time=3600,
    )
    _, ca_crt = secrets.ca_paths(env)
    ca = files.put(
        name="Trust the environment's internal CA",
        src=str(ca_crt),
        dest="/usr/local/share/ca-certificates/mimamori-internal-ca.crt",
        mode="0644",
    )
    server.shell(
        name="Rebuild the CA trust store",
        commands=["update-ca-certificates --fresh >/dev/null"],
        _if=ca.did_change,
    )
    files.directory(
        name="Create the change-record folder",
        path="/var/log/mimamori",
        mode="0755",
    )
