"""Requirement ID -> where it is implemented: one line per ID of
/work/shared/REQUIREMENTS.md, in its order. The evidence and the status of the
compliance matrix are derived from the tests' ``req`` markers, never written here.

OPEN names what is known to be missing for an ID (the matrix then says 一部);
PROCEDURES names the runbooks that answer an ID a test cannot (the matrix says
手順 when no test cites it). Keep both short and remove a line when it is done.
"""

MECHANISMS: dict[str, str] = {
    # F — functions
    "F-ROLE": "`webapp/authz.py` (roles, `Permission`, `ROLE_PERMISSIONS`); scoping in `webapp/children/scope.py`, "
              "`webapp/reports/scope.py`; caseworker scope `mimamori.caseworker_scope`",
    "F-CHILD": "`webapp/children/` (register, form, edit; only facility, name, kana, grade, class, centre, "
               "monitoring dates)",
    "F-SIB": "`webapp/children/siblings.py`, `siblings_views.py` (links across facilities, seen together by "
             "the caseworker)",
    "F-MONTHLY": "`webapp/reports/` (form, draft → submitted → acknowledged / returned → resubmitted, versions)",
    "F-DAILY": "`webapp/attendance/` (one screen per facility, keyboard first); closed-day calendar "
               "`webapp/closed_days/` (holidays package, facility breaks)",
    "F-URGENT": "`webapp/urgent/` (report at any time; acknowledge, response, close; timestamps)",
    "F-ALERT": "`webapp/alerts/` (streaks in open days `streaks.py`, escalation `escalation.py`, "
               "sweep by `mimamori jobs run`)",
    "F-REMIND": "reminder steps in `webapp/alerts/sweep.py` and the jobs (`webapp/jobs/`), each step sent once",
    "F-NOTIFY": "`webapp/mail/` (outbox, retries, templates without personal data) and in-app notices",
    "F-MSG": "`webapp/messages/` (thread per child between centre and facility, read status)",
    "F-DASH": "`webapp/dashboard.py`, submission matrix `webapp/reports/matrix.py`, review queue "
              "`webapp/reports/queue.py`, per-child timeline `webapp/timeline/`",
    "F-EXPORT": "report CSV and print view (`webapp/reports/export.py`), log CSV (`webapp/audit/`); "
                "UTF-8 BOM, formula cells neutralised (`webapp/csv_export.py`)",
    "F-IMPORT": "`webapp/imports/` (dry run, per-line errors, all-or-nothing, Shift_JIS)",
    "F-ROLLOVER": "`webapp/rollover/` (grade +1, graduation, transfers, end of monitoring; "
                  "`mimamori rollover` and the admin screen)",
    "F-NOTICE": "`webapp/notices/` (ward notices; planned maintenance on the login page ≥ 10 days ahead, "
                "`maintenance.py`)",
    "F-ADMIN": "admin screens for centres, facilities, accounts (create, disable, reset, unlock, "
               "second-factor reset), CSV import",
    "F-UI": "Jinja2 templates, Japanese first with an English catalog (`webapp/locale/en`), no JavaScript "
            "needed, accessible markup (axe-core in the browser tests)",
    "F-HELP": "help pages per screen (`webapp/help/`); role manuals, screenshots, captioned videos and PDFs "
              "from the walkthroughs (`webapp/manuals`, `bash ci/manuals`)",
    # S — security
    "S-TLS": "HAProxy TLS 1.2/1.3 Mozilla intermediate, HSTS, HTTP → HTTPS (`provisioning/roles/lb`); "
             "`X-Forwarded-Proto` believed only from trusted proxies",
    "S-ACCESSLOG": "access log in the DB and as JSON lines on stdout (`webapp/audit/access.py`), shipped to the "
                   "log host (`provisioning/roles/logging`); auth events with reasons (`webapp/audit/events.py`); "
                   "log viewer and CSV",
    "S-ADMINIP": "`mimamori.admin_cidrs`, `mimamori.trusted_proxies` (`webapp/netaddr.py`); HAProxy allow-list "
                 "for `/admin`; SSH only from `ops_cidrs` (`provisioning/roles/base`)",
    "S-MINDATA": "the schema stores only facility, name, kana, grade, class of a child",
    "S-AUTH": "argon2id, lockout, per-address wait (`webapp/accounts/`), TOTP and recovery codes, session "
              "timeouts, forced change; PAM faillock and pwquality on the hosts (`provisioning/roles/base`)",
    "S-AUDIT": "hash-chained, append-only change and view records (`webapp/audit/`), `mimamori audit verify`, "
               "search and CSV; runbook `runbooks/security-logs.md`",
    "S-WEB": "CSRF (`webapp/csrf.py`), strict CSP, Secure/HttpOnly/SameSite cookies, `no-store` "
             "(`webapp/security.py`); scoping in one place per area",
    "S-SEP": "separate inventories, group data, credentials and CAs per environment "
             "(`provisioning/inventories/`, `provisioning/group_data/`)",
    # O — operations
    "O-REDUNDANT": "2 HAProxy + keepalived, 2+ app nodes behind `/healthz`, PostgreSQL 15 under Patroni with "
                   "etcd (`provisioning/roles/{lb,app,db,etcd}`); `runbooks/database-ha.md`",
    "O-247": "rolling patching (`ci/patch`), switchover without loss, maintenance windows and notices "
             "(`monitoring/alertmanager.yml.j2`, `webapp/notices/maintenance.py`)",
    "O-BACKUP10": "pgBackRest on backup1, latest 10 full generations, encrypted; restic for `/etc` and "
                  "`/var/lib/mimamori` (`provisioning/roles/backup`, `backup/`); `runbooks/backup.md`",
    "O-RESTORE": "weekly restore drill `backup/drill` (row counts, audit chain, duration as metrics); "
                 "procedures in `runbooks/backup.md`",
    "O-PATCH": "unattended-upgrades for Debian-Security, needrestart (`provisioning/roles/base`); rolling patch "
               "with staging first (`ci/patch`, `provisioning/patch.py`, `runbooks/patching.md`)",
    "O-AV": "ClamAV with freshclam from a configurable mirror, daily `mimamori-avscan.timer` "
            "(`provisioning/roles/base`)",
    "O-FW": "nftables default-deny from the roles' declared ports (`provisioning/lib/firewall.py`, "
            "`roles/*/firewall.py`); sysctls, module blacklist, tmpfs options (`provisioning/roles/base`)",
    "O-TIME": "UTC stored, JST shown (`webapp/db.py`, `webapp/clock.py`); chrony against `time_servers` "
              "(`provisioning/roles/base`)",
    "O-LOGKEEP": "`mimamori.log_retention_days` then archives (`webapp/audit/retention.py`); journald, rsyslog "
                 "over TLS to `log_host`, logrotate, auditd (`provisioning/roles/logging`, `roles/base`)",
    "O-CHANGE": "deploy and patch records (`provisioning/lib/record.py`), etckeeper, AIDE baseline renewed "
                "after each deploy (`provisioning/roles/base`); change records in the app",
    "O-MON": "Prometheus, Alertmanager, blackbox and exporters on mon1 (`monitoring/`, "
             "`provisioning/roles/monitoring`), the app's `GET /metrics` (`webapp/metrics`); "
             "`runbooks/monitoring.md`",
    "O-INCIDENT": "reporting procedures and template (`runbooks/security-logs.md`, `runbooks/monitoring.md`)",
    "O-ERASE": "`backup/erase` (one host or every host, verified, JSON report); procedure in `runbooks/backup.md`",
    "O-DC": "—",
    "O-SUPPORT": "helpdesk and training procedures (`runbooks/helpdesk.md`, `runbooks/training.md`)",
}

OPEN: dict[str, str] = {
    "F-ADMIN": "deadlines, thresholds, reason codes and holidays are settings, not screens",
    "F-UI": "Edge and Safari checked by hand only",
    "S-AUDIT": "DB role separation (INSERT/SELECT only) applied by provisioning: issue 5/6",
    "O-DC": "the hosting provider's checklist; not in any issue yet",
}

PROCEDURES: dict[str, str] = {
    "O-INCIDENT": "`runbooks/security-logs.md`, `runbooks/monitoring.md` (T-SP 35/36)",
    "O-SUPPORT": "`runbooks/helpdesk.md`, `runbooks/training.md`",
}
