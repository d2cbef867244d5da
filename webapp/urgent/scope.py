"""Which urgent reports a user may see, built on the children scope (F-ROLE).

* Caseworkers: reports their centre is responsible for, and reports about any
  child in their scope (so the 児童相談所 sees those of the children it
  watches); with ``caseworker_scope = all`` every report.
* Facilities: their own facility's reports, and of those about a child only
  while the child is in their scope (a child who moved away takes the matter
  with them to the centre, not to the old facility).
* Everyone else: none (they have no urgent permission either).

Out-of-scope ids are answered with 404, as for children.
"""

from __future__ import annotations

import sqlalchemy as sa
from pyramid.httpexceptions import HTTPNotFound

from webapp.authz import Role
from webapp.children.models import Child
from webapp.children.scope import Scope
from webapp.urgent.models import UrgentReport


def urgent_clause(scope: Scope) -> sa.ColumnElement[bool]:
    account = scope.account
    visible_children = sa.select(Child.id).where(scope.children_clause())
    if account.role == Role.CASEWORKER:
        if scope.caseworker_scope == "all":
            return sa.true()
        return sa.or_(UrgentReport.centre_id == account.centre_id, UrgentReport.child_id.in_(visible_children))
    if account.role == Role.FACILITY:
        return sa.and_(
            UrgentReport.facility_id == account.facility_id,
            sa.or_(UrgentReport.child_id.is_(None), UrgentReport.child_id.in_(visible_children)),
        )
    return sa.false()


def visible_urgent_reports(scope: Scope) -> sa.Select:
    return sa.select(UrgentReport).where(urgent_clause(scope))


def get_urgent_report(db, scope: Scope, report_id: int, *, for_update: bool = False) -> UrgentReport:
    """The report, or 404. ``for_update`` locks the row (PostgreSQL) so two caseworkers
    acting at once take turns, and the second sees the first one's change."""
    query = visible_urgent_reports(scope).where(UrgentReport.id == report_id)
    if for_update:
        query = query.with_for_update(of=UrgentReport).execution_options(populate_existing=True)
    report = db.scalar(query)
    if report is None:
        raise HTTPNotFound()
    return report
