"""Staging: the same topology on the operator's staging hosts (example addresses
from the documentation range; replace with the real ones). Its own inventory,
group_data/staging.py and secrets/staging/: nothing is shared with production
(S-SEP). Connects as an operator account with sudo, never as root."""


def _host(name, address):
    return (name, {"ssh_hostname": address, "ssh_user": "deploy", "_sudo": True})


lb = [_host("stg-lb1", "192.0.2.11"), _host("stg-lb2", "192.0.2.12")]
app = [_host("stg-app1", "192.0.2.21"), _host("stg-app2", "192.0.2.22")]
db = [_host("stg-db1", "192.0.2.31"), _host("stg-db2", "192.0.2.32")]
mon = [_host("stg-mon1", "192.0.2.51")]
other = [_host("stg-backup1", "192.0.2.41")]
# The pgBackRest repository and the restic file repositories (roles/backup).
backup = other
# The three etcd members Patroni keeps its leader key in (roles/etcd).
etcd = db + mon

staging = lb + app + db + mon + other
