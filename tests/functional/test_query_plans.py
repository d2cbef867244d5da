"""Every key page's queries reach the history through an index (issue #19 items 2 and 3).

A ward keeps ten years of monthly reports, daily attendance, alerts and logs.
The pages must cost what the scope and the period shown cost, not what the
history costs: the database below has ten years of reports for 1,000
children and large logs, written in bulk and ANALYZEd so the planner chooses
as it would in production. Each page is requested through the WSGI app as its
user would, every SELECT the app sends is captured (``before_cursor_execute``)
and explained again with the same parameters:

- on PostgreSQL (``EXPLAIN (ANALYZE, FORMAT JSON)``): no ``Seq Scan`` on a history
  table, and no history table read beyond a tenth of its rows (the scope is an
  eighth of the ward, the pages show months of ten years);
- on SQLite (``EXPLAIN QUERY PLAN``): no ``SCAN`` of a history table (a full
  table or full index walk); every access to one is a ``SEARCH`` through an index.
"""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
import sqlalchemy as sa

from webapp.alerts.models import Alert
from webapp.attendance.models import AttendanceEntry, AttendanceEntryVersion
from webapp.audit.models import AccessLogEntry, AuditRecord, AuthEvent
from webapp.children.models import Child, Grade
from webapp.reports.models import MonthlyReport, MonthlyReportVersion, ReportEvent

pytestmark = pytest.mark.req("F-EXPORT", "F-DASH")

HISTORY_TABLES = frozenset({
    "monthly_reports", "monthly_report_versions", "report_events", "attendance_entries",
    "attendance_entry_versions", "alerts", "audit_records", "access_log", "auth_events",
})
CENTRES, FACILITIES_PER_CENTRE, CHILDREN_PER_FACILITY = 8, 5, 25
MONTHS = 120  # ten years of monthly reports, up to the test clock's month
NOVEMBER = dt.date(2026, 11, 1)
T0 = dt.datetime(2021, 1, 1, tzinfo=dt.UTC)


def _month(back: int) -> dt.date:
    index = NOVEMBER.year * 12 + NOVEMBER.month - 1 - back
    return dt.date(index // 12, index % 12 + 1, 1)


class History:
    """The ward's history, written in bulk: what a query plan must not have to read."""

    def __init__(self, make, db):
        self.db = db
        self.centres = [make.centre() for _ in range(CENTRES)]
        self.facilities = [make.facility(centre=centre) for centre in self.centres
                           for _ in range(FACILITIES_PER_CENTRE)]
        self.admin = make.account("admin")
        self.caseworker = make.account("caseworker", centre=self.centres[0])
        self.facility = self.facilities[0]
        self.facility_account = make.account("facility", facility=self.facility)
        self._children()
        self._reports()
        self._attendance_and_alerts()
        self._logs()
        db.execute(sa.text("ANALYZE"))
        db.commit()

    def _children(self):
        rows = [
            {"facility_id": f.id, "centre_id": f.centre_id, "family_name": "履歴", "given_name": f"{f.id}-{n}",
             "family_name_kana": "りれき", "given_name_kana": f"{n:03d}", "grade": Grade.ES3,
             "monitoring_start": _month(MONTHS - 1)}
            for f in self.facilities for n in range(CHILDREN_PER_FACILITY)
        ]
        self.db.execute(sa.insert(Child), rows)
        self.children = self.db.execute(sa.select(Child.id, Child.facility_id).where(Child.family_name == "履歴")
                                        .order_by(Child.id)).all()
        self.child_id = next(cid for cid, fid in self.children if fid == self.facility.id)

    def _reports(self):
        rows = []
        for child_id, facility_id in self.children:
            for back in range(MONTHS):
                period = _month(back)
                at = dt.datetime.combine(period, dt.time(9), tzinfo=dt.UTC) + dt.timedelta(days=35)
                status = "acknowledged" if back > 1 else ("submitted" if child_id % 3 else "draft")
                rows.append({"child_id": child_id, "facility_id": facility_id, "period": period,
                             "status": status, "submitted_at": None if status == "draft" else at,
                             "acknowledged_at": at if status == "acknowledged" else None})
        self.db.execute(sa.insert(MonthlyReport), rows)
        reports = MonthlyReport.__table__
        versions = MonthlyReportVersion.__table__
        counts = ["days_expected", "days_attended", "days_absent", "late_count", "early_leave_count",
                  "absent_illness", "absent_family", "absent_bereavement", "absent_suspension",
                  "absent_unknown", "absent_other"]
        for number, where in ((1, sa.true()), (2, reports.c.id % 10 == 0)):  # every tenth report resubmitted
            values = [reports.c.id, sa.literal(number)] + [sa.literal(2) for _ in counts] + [
                sa.literal(number == 1), sa.literal(self.admin.id), reports.c.created_at, reports.c.updated_at,
                reports.c.submitted_at]
            self.db.execute(versions.insert().from_select(
                ["report_id", "number", *counts, "nothing_special", "author_id", "created_at", "updated_at",
                 "submitted_at"],
                sa.select(*values).where(where)))
        events = ReportEvent.__table__
        self.db.execute(events.insert().from_select(
            ["report_id", "action", "version_number", "account_id", "created_at"],
            sa.select(reports.c.id, sa.literal("submitted"), sa.literal(1), sa.literal(self.admin.id),
                      reports.c.submitted_at).where(reports.c.submitted_at.is_not(None))))

    def _attendance_and_alerts(self):
        entries, alerts = [], []
        for child_id, facility_id in self.children:
            for k in range(100):  # a day every ~36 days over ten years
                day = dt.date(2016, 12, 1) + dt.timedelta(days=36 * k + child_id % 7)
                entries.append({"child_id": child_id, "facility_id": facility_id, "day": day,
                                "status": "absent" if k % 9 == 0 else "present",
                                "recorded_by_id": self.admin.id})
            for k in range(20):
                streak = dt.date(2022, 1, 3) + dt.timedelta(days=60 * k)
                alerts.append({"child_id": child_id, "facility_id": facility_id, "kind": "absence_warning",
                               "streak_id": streak, "signal_day": streak + dt.timedelta(days=2),
                               "streak_length": 3, "current_length": 3, "last_absent_day": streak,
                               # The sweep raises each child's alert at its own moment: one shared
                               # timestamp for a thousand alerts is a sort group no page would meet.
                               "raised_at": dt.datetime.combine(streak, dt.time(9), tzinfo=dt.UTC)
                               + dt.timedelta(seconds=child_id),
                               "status": "resolved" if k < 19 else "open"})
        self.db.execute(sa.insert(AttendanceEntry), entries)
        table, versions = AttendanceEntry.__table__, AttendanceEntryVersion.__table__
        columns = ["entry_id", "child_id", "facility_id", "day", "superseded_at", "status", "no_contact",
                   "version", "recorded_by_id", "recorded_at"]
        self.db.execute(versions.insert().from_select(columns, sa.select(  # every fifth day corrected once
            table.c.id, table.c.child_id, table.c.facility_id, table.c.day, table.c.recorded_at, sa.literal("absent"),
            table.c.no_contact, sa.literal(1), table.c.recorded_by_id, table.c.recorded_at,
        ).where(table.c.id % 5 == 0)))
        self.db.execute(sa.insert(Alert), alerts)
        # A cursor for the older alerts' second page: one resolved in 2024 in the caseworker's scope.
        self.older_alert_id = self.db.scalar(sa.select(Alert.id).where(
            Alert.facility_id == self.facility.id, Alert.status == "resolved",
            Alert.raised_at >= dt.datetime(2024, 6, 1, tzinfo=dt.UTC)).order_by(Alert.raised_at).limit(1))

    def _logs(self):
        audit_start = (self.db.scalar(sa.select(sa.func.max(AuditRecord.id))) or 0) + 1
        self.db.execute(sa.insert(AuditRecord), [
            {"id": audit_start + n, "occurred_at": T0 + dt.timedelta(minutes=90 * n), "account_id": self.admin.id,
             "actor": "history", "action": "update", "entity": "children", "entity_id": str(n % 1000),
             "child_id": self.children[n % len(self.children)][0], "prev_hash": "0" * 64, "hash": "0" * 64}
            for n in range(30_000)
        ])
        self.db.execute(sa.insert(AccessLogEntry), [
            {"occurred_at": T0 + dt.timedelta(minutes=45 * n), "request_id": f"{n:032x}",
             "account_id": self.admin.id, "method": "GET", "route": "home", "path": "/", "status": 200,
             "duration_ms": 3}
            for n in range(60_000)
        ])
        self.db.execute(sa.insert(AuthEvent), [
            {"occurred_at": T0 + dt.timedelta(minutes=180 * n), "event": "login_succeeded",
             "account_id": self.admin.id, "client_address": "192.0.2.10"}
            for n in range(15_000)
        ])


@pytest.fixture
def history(make, db):
    return History(make, db)


class Captured:
    """The SELECTs the application sends while a page is requested."""

    def __init__(self, connection):
        self.connection = connection
        self.statements: list[tuple[str, object]] = []

    def __enter__(self):
        sa.event.listen(self.connection, "before_cursor_execute", self._on_execute)
        return self

    def __exit__(self, *exc):
        sa.event.remove(self.connection, "before_cursor_execute", self._on_execute)

    def _on_execute(self, conn, cursor, statement, parameters, context, executemany):
        if not executemany and statement.lstrip().upper().startswith(("SELECT", "WITH")):
            if _tables_in(statement) & HISTORY_TABLES:
                self.statements.append((statement, parameters))


def _tables_in(statement: str) -> set[str]:
    return set(re.findall(r"\b(?:FROM|JOIN)\s+\"?(\w+)", statement, re.IGNORECASE))


def _postgres_seq_scans(connection, statement, parameters) -> list[str]:
    """Sequential scans of history tables, and history tables read beyond a tenth of their rows.

    The second part runs the statement (``EXPLAIN ANALYZE``): an index can be used and still
    walk every year (a child's whole history to find one status). Rows read are the rows a
    scan returned plus those its filter removed, times its loops.
    """
    plan = connection.exec_driver_sql("EXPLAIN (ANALYZE, FORMAT JSON) " + statement, parameters).scalar()
    plan = json.loads(plan) if isinstance(plan, str) else plan
    found, read = [], {}

    def walk(node):
        table = node.get("Relation Name")
        if table in HISTORY_TABLES:
            if node.get("Node Type") == "Seq Scan":
                found.append(f"Seq Scan on {table}")
            rows = (node.get("Actual Rows", 0) + node.get("Rows Removed by Filter", 0)
                    + node.get("Rows Removed by Index Recheck", 0)) * node.get("Actual Loops", 1)
            read[table] = read.get(table, 0) + rows
        for child in node.get("Plans", []):
            walk(child)

    walk(plan[0]["Plan"])
    for table, rows in read.items():
        total = connection.exec_driver_sql(f"SELECT count(*) FROM {table}").scalar()
        if rows > total / 10:
            found.append(f"{rows:,} of {total:,} rows of {table} read")
    return found


def _sqlite_scans(connection, statement, parameters) -> list[str]:
    rows = connection.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters).all()
    details = [row[-1] for row in rows]
    assert details, statement
    # A walk down an index (or the rowid) in the page's order, stopped by the LIMIT, reads one
    # page of rows: the log viewer's keyset pages. Without a LIMIT, or when the rows are sorted
    # afterwards (a temporary B-tree), a SCAN reads the whole history.
    paged = re.search(r"\bLIMIT\b", statement, re.IGNORECASE) and not any("TEMP B-TREE" in d for d in details)
    scans = []
    for detail in details:
        match = re.match(r"SCAN (\w+)", detail)
        if match and match.group(1) in HISTORY_TABLES:
            if not (paged and detail.startswith(f"SCAN {match.group(1)}") and _ordered_walk(detail)):
                scans.append(detail)
    return scans


def _ordered_walk(detail: str) -> bool:
    """``SCAN t`` (rowid order) or ``SCAN t USING [COVERING] INDEX i``."""
    return re.fullmatch(r"SCAN \w+( USING (COVERING )?INDEX \w+)?", detail) is not None


def scans_of_history(connection, captured: Captured) -> list[str]:
    explain = _postgres_seq_scans if connection.dialect.name == "postgresql" else _sqlite_scans
    problems = []
    for statement, parameters in captured.statements:
        for scan in explain(connection, statement, parameters):
            problems.append(f"{scan}\n    in: {' '.join(statement.split())[:400]}")
    return problems


def _pages(history: History) -> list[tuple[object, str]]:
    facility_id, child_id = history.facility.id, history.child_id
    return [
        (history.caseworker, "/export/reports.csv?from=2026-08&to=2026-10"),
        (history.caseworker, "/export/reports.csv?from=2026-08&to=2026-10&format=print"),
        (history.caseworker, "/centre/review"),
        (history.caseworker, "/centre/review?concern=yes&sort=newest"),
        (history.caseworker, "/centre/submissions"),
        (history.caseworker, f"/centre/facilities/{facility_id}/2026-10"),
        # The alert list by default: every unresolved alert and the recently raised ones, never
        # every alert the scope ever had; older ones a 年度 at a time.
        (history.caseworker, "/alerts"),
        (history.caseworker, "/alerts?status=open"),
        (history.caseworker, "/alerts?older=1"),
        (history.caseworker, "/alerts?older=1&before=" + str(history.older_alert_id)),
        (history.caseworker, f"/children/{child_id}/timeline?month=2026-10"),
        (history.caseworker, f"/centre/facilities/{facility_id}/attendance/2026-10-05"),
        (history.facility_account, "/reports/period/2026-10"),
        (history.facility_account, f"/attendance/facilities/{facility_id}/2026-10-05"),
        (history.facility_account, f"/children/{child_id}/timeline?month=2026-10"),
        (history.admin, "/logs/access"),
        (history.admin, "/logs/changes"),
        (history.admin, "/logs/auth"),
        (history.admin, "/logs/access?start=2022-03-01&end=2022-03-31"),
        (history.admin, f"/logs/changes?child_id={child_id}"),
    ]


def test_key_pages_read_history_only_through_indexes(app, history, login_as, connection):
    problems, explained = {}, 0
    current = None
    for account, path in _pages(history):
        if account is not current:
            login_as(account)
            current = account
        with Captured(connection) as captured:
            app.get(path, status=200)
        assert captured.statements, f"{path}: no query on the history was seen"
        explained += len(captured.statements)
        found = scans_of_history(connection, captured)
        if found:
            problems[path] = found
    assert not problems, "\n".join(f"{path}:\n  " + "\n  ".join(found) for path, found in problems.items())
    assert explained >= 20


def test_the_check_sees_a_full_scan(history, connection, db):
    """The assertion above is not vacuous: a query without the scope's or the period's
    restriction is reported."""
    with Captured(connection) as captured:
        db.execute(sa.select(sa.func.count()).select_from(MonthlyReportVersion)
                   .where(MonthlyReportVersion.days_absent > 1)).scalar()
    assert len(captured.statements) == 1
    assert any("monthly_report_versions" in problem for problem in scans_of_history(connection, captured))
