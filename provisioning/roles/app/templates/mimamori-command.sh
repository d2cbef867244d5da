#!/bin/sh
# Managed by provisioning/roles/app.
# `mimamori …` for operators and runbooks (e.g. `mimamori audit verify`): the
# current release's command with the configuration, secrets and user that
# mimamori.service has. The secrets file is read the way a shell reads it; it
# is written so that systemd's EnvironmentFile= reads the same values
# (provisioning/lib/envfile.py).
set -eu
if [ "$(id -u)" -ne 0 ]; then
    echo "mimamori: run it as root (sudo mimamori ...): /etc/mimamori/secrets.env is readable by root only" >&2
    exit 1
fi
set -a
. /etc/mimamori/secrets.env
set +a
# The service user may not read root's working directory.
cd /
exec runuser -u mimamori -- /opt/mimamori/current/venv/bin/mimamori -c /etc/mimamori/mimamori.ini "$@"
