"""The metrics themselves: process counters (requests, login failures) and the
database gauges computed at scrape time."""

from __future__ import annotations

import datetime as dt
import logging

import sqlalchemy as sa
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily

log = logging.getLogger(__name__)

# One set per process: waitress serves one app per process. Kept in their own
# registry, not the library's global one (which would add the exporter's
# process and platform metrics, and clash when tests build several apps).
PROCESS = CollectorRegistry(auto_describe=True)
REQUESTS = Counter("mimamori_http_requests", "HTTP requests by route name, method and status.",
                   ["route", "method", "status"], registry=PROCESS)
DURATION = Histogram("mimamori_http_request_duration_seconds",
                     "Time to answer a request, by route name.", ["route"], registry=PROCESS,
                     buckets=(0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10))
LOGIN_FAILURES = Counter("mimamori_login_failures", "Failed logins by reason.", ["reason"],
                         registry=PROCESS)

# Methods a client could invent are folded into one label value.
METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}


def observe_request(route: str, method: str, status: int, seconds: float) -> None:
    method = method if method in METHODS else "other"
    REQUESTS.labels(route, method, str(status)).inc()
    DURATION.labels(route).observe(seconds)


_watching = False


def watch_login_failures() -> None:
    """Count failed logins as their auth events are written (webapp.audit), so
    no login view needs to know about metrics."""
    global _watching
    if _watching:
        return
    from webapp.audit.events import AuthEventType
    from webapp.audit.models import AuthEvent

    def after_insert(_mapper, _connection, target):
        if target.event == AuthEventType.LOGIN_FAILED:
            LOGIN_FAILURES.labels(target.reason or "unknown").inc()

    sa.event.listen(AuthEvent, "after_insert", after_insert)
    _watching = True


def _aware(value: dt.datetime | None) -> dt.datetime | None:
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)  # SQLite hands back naive UTC
    return value


def _previous_overdue_period(today: dt.date, deadline_day: int) -> dt.date:
    from webapp.reports.periods import add_months, is_overdue

    period = add_months(today.replace(day=1), -1)
    return period if is_overdue(period, today, deadline_day) else add_months(period, -1)


class _Everyone:
    """The whole ward, for counting (no account behind it)."""

    @staticmethod
    def children_clause():
        return sa.true()


def database_families(db, now: dt.datetime, settings) -> list:
    from webapp.alerts.models import Alert, AlertStatus
    from webapp.jobs.models import JobRun
    from webapp.mail.models import MailStatus, OutboxMessage
    from webapp.reports.matrix import SubmissionMatrixService
    from webapp.reports.periods import deadline_day_setting

    families = []

    alerts = GaugeMetricFamily("mimamori_alerts_open",
                               "Alerts not yet resolved, by status.", labels=["status"])
    counts = dict(db.execute(sa.select(Alert.status, sa.func.count())
                             .where(Alert.status != AlertStatus.RESOLVED).group_by(Alert.status)).all())
    for status in AlertStatus:
        if status != AlertStatus.RESOLVED:
            alerts.add_metric([status.value], counts.get(status, 0))
    families.append(alerts)

    deadline_day = deadline_day_setting(settings)
    today = now.astimezone(_jst()).date()
    period = _previous_overdue_period(today, deadline_day)
    cells = SubmissionMatrixService(db).counts(_Everyone(), [period])
    overdue = sum(1 for due, submitted in cells.values() if submitted < due)
    families.append(GaugeMetricFamily(
        "mimamori_reports_overdue_facilities",
        "Facilities with reports missing for the latest month past its deadline.", value=overdue))

    outbox = GaugeMetricFamily("mimamori_mail_outbox_messages", "Outbox messages by status.",
                               labels=["status"])
    counts = dict(db.execute(sa.select(OutboxMessage.status, sa.func.count())
                             .group_by(OutboxMessage.status)).all())
    for status in MailStatus:
        outbox.add_metric([status.value], counts.get(status, 0))
    families.append(outbox)
    oldest = _aware(db.scalar(sa.select(sa.func.min(OutboxMessage.created_at))
                              .where(OutboxMessage.status == MailStatus.PENDING)))
    families.append(GaugeMetricFamily(
        "mimamori_mail_outbox_oldest_pending_age_seconds",
        "Age of the oldest message still waiting to be sent (0: none waiting).",
        value=max((now - oldest).total_seconds(), 0) if oldest else 0))

    last = GaugeMetricFamily("mimamori_job_last_success_timestamp_seconds",
                             "When each periodic job last succeeded (Unix time).", labels=["task"])
    for name, success in db.execute(sa.select(JobRun.name, JobRun.last_success_at)).all():
        if success is not None:
            last.add_metric([name], _aware(success).timestamp())
    families.append(last)
    return families


def _jst():
    from webapp.clock import JST

    return JST


class _Snapshot:
    def __init__(self, families):
        self.families = families

    def collect(self):
        return self.families


def exposition(db, now: dt.datetime, settings) -> bytes:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Snapshot(list(PROCESS.collect())))
    up = 1
    try:
        families = database_families(db, now, settings)
    except sa.exc.SQLAlchemyError:
        # The process metrics still matter when the database is away; the
        # database alerts come from the database's own exporters.
        log.exception("metrics: database gauges unavailable")
        families, up = [], 0
    families.append(GaugeMetricFamily("mimamori_metrics_database_up",
                                      "1 if the database gauges could be read.", value=up))
    registry.register(_Snapshot(families))
    return generate_latest(registry)
