"""The one place that decides which children a user may see (F-ROLE, S-WEB).

Every query that returns children — or anything about a child, such as a
report — is built on :meth:`Scope.children_clause`. A child outside the
scope is answered with 404, never 403, so ids do not reveal what exists.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import sqlalchemy as sa
from pyramid.httpexceptions import HTTPNotFound

from webapp.accounts.models import Account
from webapp.authz import Role
from webapp.children.models import Child
from webapp.lru import BoundedCache

# Statements built from a scope, kept per process (the menu's badges, built on
# every page): four per account in use, ~12 KiB each with SQLAlchemy's memoized
# cache key, so the bound (~200 busiest accounts) keeps it under ~12 MB.
SCOPED_STATEMENTS = BoundedCache(max_entries=800)


def first_of_previous_month(today: dt.date) -> dt.date:
    first = today.replace(day=1)
    return (first - dt.timedelta(days=1)).replace(day=1)


@dataclasses.dataclass(frozen=True)
class Scope:
    account: Account
    # "centre" or "all": whether caseworkers see every centre's children.
    caseworker_scope: str
    today: dt.date

    def children_clause(self) -> sa.ColumnElement[bool]:
        account = self.account
        if account.role == Role.ADMIN:
            return sa.true()
        if account.role == Role.CASEWORKER:
            if self.caseworker_scope == "all":
                return sa.true()
            return Child.centre_id == account.centre_id
        if account.role == Role.FACILITY:
            # Children currently assigned to the facility. A child whose
            # monitoring ended stays visible until the end of the following
            # month, so the facility can finish that last monthly report.
            return sa.and_(
                Child.facility_id == account.facility_id,
                sa.or_(
                    Child.monitoring_end.is_(None),
                    Child.monitoring_end >= first_of_previous_month(self.today),
                ),
            )
        return sa.false()  # auditors see logs, not children

    def cache_key(self) -> tuple:
        """Every value a scoped clause is built from (this class's and the areas' ``*_clause``
        functions read only these of the account): equal keys, identical statements."""
        account = self.account
        return (account.id, str(account.role), account.centre_id, account.facility_id,
                self.caseworker_scope, self.today)

    def statement(self, name: str, build):
        """``build()``'s statement, built once per process for this scope's key: for statements
        every page runs (the menu's badges). ``build`` must read nothing but this scope."""
        return SCOPED_STATEMENTS.get((name, *self.cache_key()), build)

    def children(self) -> sa.Select:
        return sa.select(Child).where(self.children_clause())

    def get_child(self, db, child_id: int) -> Child:
        child = db.scalar(self.children().where(Child.id == child_id))
        if child is None:
            raise HTTPNotFound()
        return child


def scope_for(request) -> Scope:
    return Scope(
        account=request.account,
        caseworker_scope=request.registry.settings["mimamori.caseworker_scope"],
        today=request.clock.today(),
    )
