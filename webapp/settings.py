"""Settings: defaults, the ini file's ``[app:main]`` values, then environment overrides.

Secrets and the database URL usually come from the environment (systemd's
``EnvironmentFile=``), so that the ini file can be world-readable.
"""

from __future__ import annotations

import os

DEFAULTS: dict[str, str] = {
    "sqlalchemy.url": "sqlite:///var/mimamori.sqlite",
    "mimamori.session_secret": "",
    "mimamori.secure_cookies": "true",
    # Day of the following month by which a month's reports are due.
    "mimamori.report_deadline_day": "10",
    # "centre": caseworkers see their own centre's children; "all": every centre's.
    "mimamori.caseworker_scope": "centre",
    "mimamori.default_locale": "ja",
    "mimamori.session_idle_minutes": "30",
    "mimamori.session_absolute_hours": "12",
    "mimamori.trusted_proxies": "",
    # Where ward admins may work from (the ward office's global ranges). The
    # default allows only this machine: production must name its ranges.
    "mimamori.admin_cidrs": "127.0.0.0/8 ::1",
    # Who may read GET /metrics (webapp.metrics): the monitoring host only. The
    # default allows only this machine: each environment names its monitoring host.
    "mimamori.metrics_cidrs": "127.0.0.1/32 ::1/128",
    # "system", "fixed:ISO" or "from:ISO" (webapp.clock); tests and demos only ever set it.
    "mimamori.clock": "system",
    # Lockout after this many consecutive wrong passwords, for this long (S-AUTH).
    "mimamori.lockout_threshold": "5",
    "mimamori.lockout_minutes": "15",
    # An address from which this many different login IDs failed within the
    # window must wait before each further attempt: base seconds, doubling with
    # every further ID, at most max seconds (webapp.accounts.throttle). Never a
    # lock: colleagues behind one address are not shut out by one person's typos.
    "mimamori.address_throttle_logins": "10",
    "mimamori.address_throttle_window_minutes": "60",
    "mimamori.address_throttle_base_seconds": "2",
    "mimamori.address_throttle_max_seconds": "300",
    # Roles that must use a second factor (TOTP); they are sent to enrol right
    # after their first login. Facility staff may enrol but need not (S-AUTH).
    "mimamori.second_factor_roles": "admin caseworker",
    # argon2id cost; lowered only in the test suite to keep it fast.
    "mimamori.argon2_time_cost": "3",
    "mimamori.argon2_memory_cost": "65536",
    # Email (F-NOTIFY): "smtp" sends, "null" only logs (development, tests).
    # The default is smtp to localhost: if nothing listens there, mail waits in
    # the outbox (visible with `mimamori mail status`) instead of being dropped.
    "mimamori.mail": "smtp",
    "mimamori.smtp_host": "localhost",
    "mimamori.smtp_port": "25",
    "mimamori.smtp_starttls": "false",
    # CA certificates (PEM) to check the relay's STARTTLS certificate against,
    # e.g. the ward's internal CA; empty: the system's trusted CAs.
    "mimamori.smtp_ca_file": "",
    "mimamori.smtp_username": "",
    "mimamori.smtp_password": "",
    "mimamori.smtp_timeout_seconds": "10",
    "mimamori.mail_from": "noreply@localhost",
    "mimamori.mail_from_name": "見守り",
    # The address users reach the application at; links in emails start with it,
    # and forms are accepted only from its origin (webapp.csrf).
    "mimamori.public_url": "https://localhost",
    # Further origins whose forms are accepted (space-separated URLs), e.g. a
    # second name of the same site; the Host header is never trusted for this.
    "mimamori.trusted_origins": "",
    # Retries: after 1, 2, 4 … minutes, at most 6 hours apart; failed after 12 attempts (about a day).
    "mimamori.mail_max_attempts": "12",
    "mimamori.mail_retry_base_seconds": "60",
    "mimamori.mail_retry_max_seconds": "21600",
    # Messages one `jobs run` sends at most (the timer comes back soon).
    "mimamori.mail_batch_size": "500",
    "tm.manager_hook": "pyramid_tm.explicit_manager",
    # pyramid_tm would otherwise ask for the user before the exception view
    # runs: with the database gone (a failover) that lookup fails outside it
    # and the client gets a bare 500 instead of the 503 page.
    "tm.annotate_user": "false",
    # Closed-day calendar (webapp.closed_days): "japan" asks the holidays package;
    # "none" or "fixed:2026-05-06 ..." is the fake. Weekly closed days per
    # facility type override the documented defaults, e.g. "nursery=sun".
    "mimamori.holidays": "japan",
    "mimamori.closed_weekdays": "",
    # Absence streaks in open days that raise a warning and an alert (F-ALERT).
    "mimamori.absence_warning_days": "3",
    "mimamori.absence_alert_days": "7",
    # The review queue marks a monthly report as a concern when it has more days
    # absent than this (also when the condition is written or it was returned before).
    "mimamori.review_concern_absent_days": "3",
    # Monthly report reminders (F-REMIND): the early one this many days before the deadline (0: none).
    "mimamori.reminder_days_before": "3",
    # Signed checkpoints of the change-record chain (webapp.audit.anchor, S-AUDIT).
    # Empty key or directory: none are written (development). The key file is
    # read by the app process only (owner: the app user, mode 0400).
    "mimamori.audit_signing_key": "",
    "mimamori.audit_checkpoint_dir": "",
    # Public keys by key id (<id>.pub), old ones kept after a rotation.
    "mimamori.audit_public_key_dir": "",
    # The job signs the head this often; verify reports a checkpoint missing after twice this.
    "mimamori.audit_checkpoint_interval_minutes": "60",
    # Host name in the checkpoint file names, so that the nodes' copies on the
    # log host and in the backups never overwrite each other (empty: no name).
    "mimamori.audit_checkpoint_node": "",
    # A missing or unusable key fails the checkpoint job instead of being
    # skipped: provisioning sets it on every app node (false: development).
    "mimamori.audit_checkpoints_required": "false",
    # Access log and auth events kept this many days in the database, then
    # moved to gzip files in the archive folder by `mimamori audit archive`
    # (webapp.audit.retention, O-LOGKEEP).
    "mimamori.log_retention_days": "400",
    "mimamori.log_archive_dir": "var/log-archive",
    # Seconds the access-log writer waits at most before committing its queue
    # (the crash window, runbooks/security-logs.md).
    "mimamori.access_log_max_delay": "0.2",
    # Embedded SQLite only: how long a writer waits for the write lock.
    "mimamori.sqlite_busy_timeout_ms": "15000",
}

# Keys the code reads that the test suite and the benchmarks set, never an
# operator: switching the access log or change records off, a synchronous log
# writer, an injected session factory. Not in DEFAULTS, so not in the README.
TEST_ONLY: frozenset[str] = frozenset({
    "mimamori.access_log",
    "mimamori.change_records",
    "mimamori.access_log_writer",
    "mimamori.db_session_factory",
})

# Environment variable -> setting. Anything secret should arrive this way.
ENVIRONMENT_OVERRIDES: dict[str, str] = {
    "MIMAMORI_DATABASE_URL": "sqlalchemy.url",
    "MIMAMORI_SESSION_SECRET": "mimamori.session_secret",
    "MIMAMORI_TRUSTED_PROXIES": "mimamori.trusted_proxies",
    "MIMAMORI_ADMIN_CIDRS": "mimamori.admin_cidrs",
    "MIMAMORI_SECURE_COOKIES": "mimamori.secure_cookies",
    "MIMAMORI_MAIL": "mimamori.mail",
    "MIMAMORI_SMTP_HOST": "mimamori.smtp_host",
    "MIMAMORI_SMTP_PORT": "mimamori.smtp_port",
    "MIMAMORI_SMTP_STARTTLS": "mimamori.smtp_starttls",
    "MIMAMORI_SMTP_USERNAME": "mimamori.smtp_username",
    "MIMAMORI_SMTP_PASSWORD": "mimamori.smtp_password",
    "MIMAMORI_MAIL_FROM": "mimamori.mail_from",
    "MIMAMORI_PUBLIC_URL": "mimamori.public_url",
    "MIMAMORI_TRUSTED_ORIGINS": "mimamori.trusted_origins",
    # A test or demo server on another day (webapp.clock); never set in production.
    "MIMAMORI_CLOCK": "mimamori.clock",
}


class SettingsError(Exception):
    pass


def build_settings(ini_settings: dict | None = None, environ=None) -> dict:
    environ = os.environ if environ is None else environ
    settings = dict(DEFAULTS)
    settings.update(ini_settings or {})
    for variable, key in ENVIRONMENT_OVERRIDES.items():
        # Set but empty clears what the ini file says (e.g. no trusted proxies
        # on this node); only an unset variable leaves the ini value alone.
        if variable in environ:
            settings[key] = environ[variable]
    if len(settings["mimamori.session_secret"]) < 32:
        raise SettingsError(
            "mimamori.session_secret (or MIMAMORI_SESSION_SECRET) must be at least 32 characters"
        )
    return settings


def as_bool(value) -> bool:
    return str(value).strip().lower() in {"1", "true", "yes", "on"}


def as_list(value) -> list[str]:
    return [part for part in str(value or "").replace(",", " ").split() if part]
