# The lab (ci/lab/lab): its own names, addresses, CA and secrets (S-SEP).
env = "lab"

site_name = "www.mimamori.lab"
vip = "10.77.0.10"
vrrp_interface = "host0"
vrrp_priorities = {"lb1": 150, "lb2": 100}

# 10.77.0.200 is the control machine's "ward office" address on the lab bridge;
# tests call admin paths from it (allowed) and from 10.77.0.1 (refused).
admin_cidrs = ["10.77.0.200/32"]

# Pebble on mon1 (roles/pebble), trusted through the lab's internal CA.
acme_directory = "https://mon1:14000/dir"
acme_email = "ops@mimamori.lab"

app_demo_data = True

# Hardening (issue 6): the control machine is the operators' machine; the ward
# address 10.77.0.200 is not, so SSH from it must be refused.
ops_cidrs = ["10.77.0.1/32"]
# The lab has no route out: mon1 serves time from its own clock and serves
# ClamAV signatures built in the lab (roles/base).
time_servers = ["mon1"]
clamav_mirror_host = "mon1"
clamav_custom_urls = ["http://mon1:8080/mimamori-lab.hdb"]
clamav_exclude_official = True

# Monitoring (issue 9): detect in seconds so the alerting drill
# (tests/lab/test_60_alerting.py) stays short; production keeps the rule files' waits.
monitoring_scrape_interval = "5s"
monitoring_evaluation_interval = "5s"
monitoring_retention = "1d"
monitoring_rule_waits = {"AppNodeDown": "10s", "SiteDown": "10s", "HostDown": "15s"}
# Pebble's root changes every time the lab is built: the probe reads the expiry
# without verifying the chain (the site's chain is checked by tests/lab).
monitoring_site_tls_insecure = True
monitoring_lab_sink = True
alert_smarthost = "127.0.0.1:2525"
alert_smtp_require_tls = False
alert_mail_from = "alertmanager@mimamori.lab"
alert_email_to = ["oncall@mimamori.lab"]
alert_webhook_urls = ["http://127.0.0.1:9099/oncall"]
alert_deadman_url = "http://127.0.0.1:9099/deadman"
alert_group_wait = "5s"
alert_group_interval = "10s"
alert_repeat_interval = "1h"
alert_watchdog_repeat_interval = "1m"
# Backups (issue 8): archive a WAL segment at least every 30 s while there are
# writes, so the restore drill's data-loss measurement stays short.
backup_archive_timeout = 30
