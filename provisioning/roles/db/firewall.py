"""Ports the database tier listens on, and who may reach them: the one place the
base role's firewall (issue 6) reads them from, so a port changes here only.

Each entry: the port, the inventory groups whose hosts listen on it, and the
inventory groups whose addresses may connect (the listening hosts always reach
each other's ports within the entry; "control" means the deploy/operator
machine, which runs patronictl and the drills).

    from roles.db.firewall import FIREWALL
    for rule in FIREWALL:
        if set(rule["on"]) & set(host.groups): allow rule["port"] from
            topology.addresses(g) for g in rule["from"] (+ rule["on"]) ...
"""

FIREWALL = [
    # PostgreSQL (TLS only, pg_hba): the app nodes, the other database node
    # (streaming replication, pg_rewind) and the backup host (pgBackRest, issue 7).
    {"port": 5432, "proto": "tcp", "service": "postgresql", "on": ["db"],
     "from": ["db", "app", "backup", "control"]},
    # Patroni's REST API: the other Patroni (leader checks during failover),
    # and the operator's patronictl / monitoring on mon1.
    {"port": 8008, "proto": "tcp", "service": "patroni-rest", "on": ["db"],
     "from": ["db", "etcd", "control"]},
    # etcd clients: Patroni on the database nodes; operators (etcdctl) from control.
    {"port": 2379, "proto": "tcp", "service": "etcd-client", "on": ["etcd"],
     "from": ["db", "etcd", "control"]},
    # etcd peers: the three members (db1, db2, mon1) among themselves only.
    {"port": 2380, "proto": "tcp", "service": "etcd-peer", "on": ["etcd"],
     "from": ["etcd"]},
]
