"""Ports the database tier listens on, and who may reach them: the one place the
base role's firewall (issue 6) takes them from, so a port changes here only.

Same format as ``firewall_ports`` in group_data/all.py (lib/firewall.py):
inventory group -> [(protocol, port, sources, why)], sources being inventory
group names or ``ops`` (the operators' machines, which run patronictl, etcdctl
and the lab drills). Merge with ``firewall_ports.update(FIREWALL_PORTS)``.
"""

FIREWALL_PORTS = {
    "db": [
        # TLS only (pg_hba): the app nodes, the other database node (streaming
        # replication, pg_rewind), pgBackRest on the backup host, monitoring.
        ("tcp", 5432, ["app", "db", "backup", "mon", "ops"], "PostgreSQL"),
        # The other Patroni (leader race checks), monitoring, operators' patronictl.
        ("tcp", 8008, ["db", "mon", "ops"], "Patroni REST API"),
    ],
    # The three members: db1, db2 and mon1 (group "etcd" of the inventory).
    "etcd": [
        # Clients: Patroni on the database nodes, the members themselves, operators.
        ("tcp", 2379, ["db", "etcd", "ops"], "etcd clients"),
        ("tcp", 2380, ["etcd"], "etcd peers"),
    ],
}
