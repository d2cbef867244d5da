"""Exporter ports, open to the monitoring host only (O-FW, O-MON).

Prometheus, Alertmanager and the blackbox exporter listen on mon1's loopback
only (operators reach them through an SSH tunnel), so they need no entry here.
The app's port (6543, /metrics beside the site) and Patroni's 8008 already
admit ``mon`` in their own roles' entries.
"""

FIREWALL_PORTS = {
    "all": [
        ("tcp", 9100, ["mon"], "node exporter"),
    ],
    "lb": [
        ("tcp", 9101, ["mon"], "HAProxy's Prometheus endpoint"),
    ],
    "db": [
        ("tcp", 9187, ["mon"], "PostgreSQL exporter"),
    ],
}
