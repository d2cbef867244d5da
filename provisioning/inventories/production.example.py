"""Production, as an example: copy to production.py (git-ignored is not needed:
it holds addresses, not secrets) and replace the documentation-range addresses
with the data centre's. Secrets come from secrets/production/, filled from the
vault (runbooks/deploy.md). No lab ACME CA here: certbot talks to the public CA
named in group_data/production.py."""


def _host(name, address):
    return (name, {"ssh_hostname": address, "ssh_user": "deploy", "_sudo": True})


lb = [_host("lb1", "203.0.113.11"), _host("lb2", "203.0.113.12")]
app = [_host("app1", "203.0.113.21"), _host("app2", "203.0.113.22")]
db = [_host("db1", "203.0.113.31"), _host("db2", "203.0.113.32")]
mon = [_host("mon1", "203.0.113.51")]
other = [_host("backup1", "203.0.113.41")]
# The pgBackRest repository and the restic file repositories (roles/backup).
backup = other
# The three etcd members Patroni keeps its leader key in (roles/etcd).
etcd = db + mon

production = lb + app + db + mon + other
