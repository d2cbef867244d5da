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
# Monitoring (roles/monitoring, monitoring/; issue 9, O-MON, O-247) ------------------
monitoring_scrape_interval = "30s"
monitoring_evaluation_interval = "30s"
monitoring_retention = "90d"
# Alert name -> its "for:" duration where it differs from the rule file's.
monitoring_rule_waits = {}
# The blackbox probe of the site checks its certificate against the system's CAs.
monitoring_site_ca_file = None
monitoring_site_tls_insecure = False
monitoring_lab_sink = False
# Where alerts go: the on-call mailbox through the ward's relay, and webhooks
# (chat, a paging service). Each environment names its own (placeholders here).
alert_smarthost = "localhost:25"
alert_smtp_require_tls = True
alert_mail_from = "alertmanager@mimamori.invalid"
alert_email_to = ["oncall@mimamori.invalid"]
alert_webhook_urls = []
# The dead man's switch: an outside service expecting the Watchdog alert.
alert_deadman_url = None
alert_group_wait = "30s"
alert_group_interval = "5m"
alert_repeat_interval = "4h"
alert_watchdog_repeat_interval = "5m"
# Japanese public holidays: with Sundays, the days warnings wait for working
# hours (O-247 maintenance windows, alertmanager.yml.j2). Extend every December
# (runbooks/monitoring.md).
maintenance_holidays = [
    "2026-01-01", "2026-01-12", "2026-02-11", "2026-02-23", "2026-03-20", "2026-04-29",
    "2026-05-03", "2026-05-04", "2026-05-05", "2026-05-06", "2026-07-20", "2026-08-11",
    "2026-09-21", "2026-09-22", "2026-09-23", "2026-10-12", "2026-11-03", "2026-11-23",
    "2027-01-01", "2027-01-11", "2027-02-11", "2027-02-23", "2027-03-21", "2027-03-22",
    "2027-04-29", "2027-05-03", "2027-05-04", "2027-05-05", "2027-07-19", "2027-08-11",
    "2027-09-20", "2027-09-23", "2027-10-11", "2027-11-03", "2027-11-23",
]
