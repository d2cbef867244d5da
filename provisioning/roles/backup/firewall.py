"""Ports of the backup tier (roles/backup), merged into the base role's firewall
(lib/firewall.py): only between the database nodes and the backup host, and
from every host to the file repository."""

FIREWALL_PORTS = {
    "backup": [
        # archive-push and archive-get from the database nodes (pgBackRest TLS server).
        ("tcp", 8432, ["db"], "pgBackRest repository (WAL from the database nodes)"),
        # restic over HTTPS with client certificates (rclone serve restic, append-only).
        ("tcp", 8443, ["every_host"], "restic repository for the hosts' file backups"),
    ],
    "db": [
        # The repository host takes backups through each node's pgBackRest TLS server.
        ("tcp", 8432, ["backup"], "pgBackRest on the database node (backups)"),
    ],
}
