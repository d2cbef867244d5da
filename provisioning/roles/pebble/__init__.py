"""Lab only: Debian's Pebble as the ACME CA the load balancers get their public
certificate from, so issuance and renewal are exercised with the real certbot
and no outside network. Never part of staging or production inventories."""

import json
from io import StringIO
from pathlib import Path

from pyinfra import host
from pyinfra.api import deploy
from pyinfra.operations import apt, files, systemd

from lib import secrets

HERE = Path(__file__).parent


@deploy("Run the lab ACME CA (Pebble)")
def configure():
    env = host.data.env
    apt.packages(name="Install Pebble", packages=["pebble"])
    files.directory(name="Create the Pebble folder", path="/etc/pebble", mode="0755")
    # Pebble ships no certificate for its own listener (LAB.md): one from the
    # environment's internal CA, which every host trusts through the common role.
    key, crt = secrets.leaf(env, "pebble", [host.name], [host.data.ssh_hostname])
    listener = [
        files.put(name="Install Pebble's listener key", src=str(key),
                  dest="/etc/pebble/key.pem", mode="0600"),
        files.put(name="Install Pebble's listener certificate", src=str(crt),
                  dest="/etc/pebble/cert.pem", mode="0644"),
    ]
    config = {
        "pebble": {
            "listenAddress": "0.0.0.0:14000",
            "managementListenAddress": "0.0.0.0:15000",
            "certificate": "/etc/pebble/cert.pem",
            "privateKey": "/etc/pebble/key.pem",
            "httpPort": 80,
            "tlsPort": 443,
            "ocspResponderURL": "",
            "externalAccountBindingRequired": False,
        }
    }
    conf = files.put(
        name="Configure Pebble",
        src=StringIO(json.dumps(config, indent=2) + "\n"),
        dest="/etc/pebble/pebble-config.json",
        mode="0644",
    )
    unit = files.template(
        name="Install the Pebble service",
        src=str(HERE / "templates/pebble.service.j2"),
        dest="/etc/systemd/system/pebble.service",
        mode="0644",
    )
    systemd.daemon_reload(name="Reload systemd units", _if=unit.did_change)
    systemd.service(
        name="Start and enable Pebble",
        service="pebble.service",
        running=True,
        enabled=True,
    )
    # A restart gives Pebble a new root: only when its setup really changed.
    systemd.service(
        name="Restart Pebble",
        service="pebble.service",
        running=True,
        restarted=True,
        _if=lambda: any(op.did_change() for op in [conf, unit, *listener]),
    )
