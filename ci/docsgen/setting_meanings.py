"""What each setting of webapp.settings.DEFAULTS means, for the README's table.

The key, its environment variable and its default come from the code; only the
meaning is written here. A setting without a line here stops the generator
(``python -m ci.docsgen``), naming it: add one line and run it again.
"""

MEANINGS: dict[str, str] = {
    "sqlalchemy.url": "the database: `postgresql+psycopg://…` in production (a libpq multi-host URL with "
                      "`target_session_attrs=read-write` behind Patroni)",
    "mimamori.session_secret": "server secret, required, at least 32 characters; give it by environment",
    "mimamori.secure_cookies": "Secure cookies and HSTS; only the localhost demo turns it off",
    "mimamori.report_deadline_day": "a month's reports are due on this day of the next month",
    "mimamori.caseworker_scope": "`centre`: caseworkers see their centre's children; `all`: every centre's",
    "mimamori.default_locale": "`ja`; `en` is the second locale (switch in the page header)",
    "mimamori.session_idle_minutes": "a session ends after this long without a request",
    "mimamori.session_absolute_hours": "a session ends this long after login, whatever happens",
    "mimamori.trusted_proxies": "load balancers whose X-Forwarded-For and X-Forwarded-Proto are believed "
                                "(space-separated addresses or CIDRs)",
    "mimamori.admin_cidrs": "where admin accounts and `/admin` may be used from: the ward office's ranges "
                            "(the default allows only this machine)",
    "mimamori.metrics_cidrs": "who may read `GET /metrics`: the monitoring host (the default allows only this machine)",
    "mimamori.clock": "`system`, `fixed:ISO` or `from:ISO` (`webapp/clock.py`); tests and demos only",
    "mimamori.lockout_threshold": "an account is locked after this many wrong passwords in a row",
    "mimamori.lockout_minutes": "… for this long",
    "mimamori.address_throttle_logins": "an address from which this many different login IDs failed within the "
                                        "window must wait before each further attempt (a wait, never a lock)",
    "mimamori.address_throttle_window_minutes": "how far back those failures count",
    "mimamori.address_throttle_base_seconds": "the first wait, doubling with every further failing ID",
    "mimamori.address_throttle_max_seconds": "the longest wait",
    "mimamori.second_factor_roles": "roles that must use a second factor (TOTP), sent to enrol after their first "
                                    "login; others may enrol (the demo's `development.ini` empties it)",
    "mimamori.argon2_time_cost": "argon2id time cost of password hashes (lowered only in the tests)",
    "mimamori.argon2_memory_cost": "argon2id memory cost in KiB",
    "mimamori.mail": "`smtp` sends; `null` only logs mail (development); see runbooks/mail-and-jobs.md",
    "mimamori.smtp_host": "the ward's mail relay",
    "mimamori.smtp_port": "its port",
    "mimamori.smtp_starttls": "STARTTLS with certificate check before sending",
    "mimamori.smtp_ca_file": "PEM file of the CA that signed the relay's certificate; empty: the system's CAs",
    "mimamori.smtp_username": "relay login; empty: none",
    "mimamori.smtp_password": "relay password; give it by environment only",
    "mimamori.smtp_timeout_seconds": "per connection",
    "mimamori.mail_from": "sender address",
    "mimamori.mail_from_name": "sender name",
    "mimamori.public_url": "the site's address: links in emails start with it, and forms are accepted only "
                           "from its origin (the demo's `development.ini` sets `http://localhost:6543`)",
    "mimamori.trusted_origins": "further origins forms may come from (space-separated URLs)",
    "mimamori.mail_max_attempts": "attempts before a message is `failed`",
    "mimamori.mail_retry_base_seconds": "the first retry's wait, doubling",
    "mimamori.mail_retry_max_seconds": "the longest wait between retries",
    "mimamori.mail_batch_size": "messages one `jobs run` sends at most",
    "tm.manager_hook": "pyramid_tm's transaction manager (explicit); not for changing",
    "tm.annotate_user": "off so that a database failover gives the 503 page, not a bare 500; not for changing",
    "mimamori.holidays": "closed-day calendar: `japan` (national holidays), `none`, or `fixed:DATE …`",
    "mimamori.closed_weekdays": "weekly closed days per facility type over the documented ones, e.g. `nursery=sun`",
    "mimamori.absence_warning_days": "absence streak in open days that raises a warning (注意)",
    "mimamori.absence_alert_days": "absence streak in open days that raises an alert (要対応)",
    "mimamori.review_concern_absent_days": "the review queue marks a report with more days absent than this",
    "mimamori.reminder_days_before": "the early reminder this many days before the deadline (0: none)",
    "mimamori.log_retention_days": "access log and auth events kept this many days in the database "
                                   "(at least 90), then archived by `mimamori audit archive`",
    "mimamori.log_archive_dir": "where `mimamori audit archive` writes its gzip files and manifests",
    "mimamori.access_log_max_delay": "seconds the access-log writer waits at most before committing queued "
                                     "rows (the crash window, runbooks/security-logs.md)",
    "mimamori.sqlite_busy_timeout_ms": "embedded SQLite only: how long a writer waits for the write lock before "
                                       "a 503; reads never wait",
    "mimamori.audit_signing_key": "Ed25519 key file the app signs change-record checkpoints with (owner the app "
                                  "user, mode 0400; empty: no checkpoints)",
    "mimamori.audit_checkpoint_dir": "folder the signed checkpoints of the change-record chain are written to "
                                     "(empty: none)",
    "mimamori.audit_public_key_dir": "public keys by key id (<id>.pub) `mimamori audit verify` checks "
                                     "checkpoints with; old ones kept after a rotation",
    "mimamori.audit_checkpoint_interval_minutes": "the job signs the chain's head this often; verify reports a "
                                                  "checkpoint missing after twice this",
    "mimamori.audit_checkpoint_node": "host name in the checkpoint file names, so the nodes' copies never "
                                      "overwrite each other (empty: none)",
    "mimamori.audit_checkpoints_required": "true: a missing or unusable signing key fails the checkpoint job "
                                           "instead of skipping it (provisioning sets it on the app nodes)",
}
