"""Every host: etckeeper for /etc history (O-CHANGE), the environment's internal
CA in the trust store (so certbot trusts the lab ACME server and hosts trust
each other's internal TLS), and the folder that keeps deploy change records."""

from io import StringIO
from pathlib import Path

from pyinfra import host
from pyinfra.api import deploy
from pyinfra.operations import apt, files, server

from lib import secrets

HERE = Path(__file__).parent


@deploy("Configure the common base")
def configure():
    env = host.data.env
    # Before the first package: a bare Debian installs Recommends, which pulls in
    # an MTA (exim4, which roles/base removes again: every deploy would flip it),
    # documentation and daemons no role asked for. Only what the roles name, on
    # every host, as on the lab's prepared image (issue 22). And a new host's
    # apt-daily timers are live: an apt run of theirs waits for the lock instead
    # of failing the deploy.
    files.put(
        name="Install only the packages the roles name (no Recommends)",
        src=StringIO('APT::Install-Recommends "false";\nDPkg::Lock::Timeout "600";\n'),
        dest="/etc/apt/apt.conf.d/90mimamori-no-recommends",
        mode="0644",
    )
    apt.packages(
        name="Install base packages",
        # procps (sysctl, ps, pgrep): roles/base applies kernel parameters with
        # sysctl; an installer's "standard" task has it, minimal and cloud images may not.
        packages=["etckeeper", "git", "ca-certificates", "openssl", "curl", "sudo", "socat",
                  "procps"],
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
