"""Who looks at the timeline, reduced to what the sources need to filter by."""

from __future__ import annotations

import dataclasses

from webapp.authz import Permission, Role, role_has
from webapp.children.scope import Scope


@dataclasses.dataclass(frozen=True)
class Viewer:
    """``facility_id`` is set for facility staff: they see only what their own facility recorded.

    Together with the child scope (facility staff reach only children
    currently at their facility) this is the transfer rule: a new facility
    never sees what the old one recorded, and the old one loses the child.
    """

    scope: Scope
    facility_id: int | None

    @classmethod
    def of(cls, scope: Scope) -> Viewer:
        account = scope.account
        return cls(scope, account.facility_id if account.role == Role.FACILITY else None)

    @property
    def is_facility(self) -> bool:
        return self.facility_id is not None

    def can(self, permission: Permission) -> bool:
        """Sources of areas a role may not use (alerts for facilities, all but reports for admins) stay empty."""
        return role_has(self.scope.account.role, permission)
