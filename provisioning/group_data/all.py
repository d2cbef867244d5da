# Defaults for every environment; group_data/<environment>.py overrides them.
# Secrets never appear here: they are read from secrets/<environment>/.

apt_update = True

# Application
app_port = 6543
app_threads = 8
app_demo_data = False
db_name = "mimamori"
db_user = "mimamori"
db_host = "db1"

# Load balancers
vrrp_interface = "eth0"
vrrp_router_id = 77
vip_prefix = 24
acme_http_port = 8888

# Hardening (roles/base, roles/logging; issue 6) --------------------------------
# Operators' machines: the only sources of SSH (S-ADMINIP, O-FW). Per environment.
ops_cidrs = ["198.51.100.0/24"]
# Ports each role opens and to whom (lib/firewall.py explains the format). A role
# declares its ports here or in its own roles/<role>/firewall.py (FIREWALL_PORTS,
# e.g. the database tier); a port declared nowhere is closed by nftables.
firewall_ports = {
    "all": [
        ("tcp", 22, ["ops"], "operator SSH"),
    ],
    "lb": [
        ("tcp", 80, ["any"], "HTTP, redirected to HTTPS"),
        ("tcp", 443, ["any"], "the site"),
        ("tcp", 8888, ["lb"], "ACME HTTP-01 answers forwarded by the peer"),
        ("vrrp", None, ["lb"], "keepalived between the load balancers"),
    ],
    "app": [
        ("tcp", 6543, ["lb", "mon"], "the app behind HAProxy; monitoring"),
    ],
    "mon": [
        ("tcp", 6514, ["every_host"], "rsyslog over TLS"),
        ("udp", 123, ["every_host"], "NTP for the hosts"),
        ("tcp", 8080, ["every_host"], "ClamAV signature mirror"),
    ],
    "acme_lab": [
        ("tcp", 14000, ["lb"], "lab ACME CA (Pebble)"),
        ("tcp", 15000, ["ops"], "Pebble's root certificate for the tests"),
    ],
}
# Time (O-TIME): servers every host follows. A host named here serves the others.
time_servers = ["ntp.nict.jp"]
# Central logs (O-LOGKEEP): the host receiving every host's logs, and for how long.
log_host = "mon1"
log_keep_days = 400
# Security updates (O-PATCH): when the apt timers run (no random delay, so a
# deploy never meets them by surprise); services needrestart must not restart
# on its own because they are restarted one node at a time (runbooks/deploy.md).
patch_window = "*-*-* 03:30"
patch_no_autorestart = ["haproxy", "keepalived", "postgresql", "patroni", "etcd", "mimamori"]
# Antivirus (O-AV): where freshclam gets signatures. None: ClamAV's own mirrors.
clamav_private_mirror = None
clamav_custom_urls = []
clamav_exclude_official = False
clamav_mirror_host = None  # a host of the inventory that serves clamav_mirror_dir
clamav_scan_calendar = "*-*-* 02:00"
