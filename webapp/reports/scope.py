"""Which reports a user may see: those of children in their scope.

Facilities additionally see only reports their own facility wrote, so a child
who moved keeps their history away from the new facility (F-ROLLOVER).
"""

from __future__ import annotations

import sqlalchemy as sa
from pyramid.httpexceptions import HTTPNotFound

from webapp.authz import Role
from webapp.children.models import Child
from webapp.children.scope import Scope
from webapp.reports.models import MonthlyReport


def reports_clause(scope: Scope) -> sa.ColumnElement[bool]:
    visible_child_ids = sa.select(Child.id).where(scope.children_clause())
    clause = MonthlyReport.child_id.in_(visible_child_ids)
    if scope.account.role == Role.FACILITY:
        clause = sa.and_(clause, MonthlyReport.facility_id == scope.account.facility_id)
    return clause


def visible_reports(scope: Scope) -> sa.Select:
    return sa.select(MonthlyReport).where(reports_clause(scope))


def get_report(db, scope: Scope, report_id: int) -> MonthlyReport:
    report = db.scalar(visible_reports(scope).where(MonthlyReport.id == report_id))
    if report is None:
        raise HTTPNotFound()
    return report
