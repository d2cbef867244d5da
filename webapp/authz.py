"""Roles, permissions and the one table that joins them.

Permissions say what kind of thing a role may do; *which* objects it may do it
to is decided by the scoping queries in :mod:`webapp.children.scope`. A view
declares exactly one permission; a test walks the route table and fails on any
view without one.
"""

from __future__ import annotations

import enum


class Role(enum.StrEnum):
    ADMIN = "admin"  # 区 児童相談支援課: masters, accounts, settings, logs
    CASEWORKER = "caseworker"  # 子ども家庭支援センター / 児童相談所
    FACILITY = "facility"  # 学校・保育園・幼稚園・認定こども園・学童
    AUDITOR = "auditor"  # 監査: read-only logs

    @property
    def label(self) -> str:
        return ROLE_LABELS[self]


ROLE_LABELS = {
    Role.ADMIN: "区管理者",
    Role.CASEWORKER: "センター職員",
    Role.FACILITY: "施設職員",
    Role.AUDITOR: "監査担当",
}


class Permission(enum.StrEnum):
    """``<area>:<action>``. Documented here because this is the whole vocabulary."""

    # Anyone logged in: their own home page, password change, logout.
    ACCOUNT_SELF = "account:self"
    # Facility: see its children and their reports, edit and submit reports.
    REPORTS_ENTER = "reports:enter"
    # Centre: see its children and submissions, acknowledge or return reports.
    REPORTS_REVIEW = "reports:review"
    # Centre and admin: download reports as CSV.
    REPORTS_EXPORT = "reports:export"
    # View a child's page and report history (facility, centre, admin).
    CHILDREN_VIEW = "children:view"
    # Create and change children (centre registers children it watches; admin).
    CHILDREN_MANAGE = "children:manage"
    # Admin: centres, facilities, accounts, CSV imports.
    ADMIN_MASTERS = "admin:masters"
    ADMIN_ACCOUNTS = "admin:accounts"
    ADMIN_IMPORT = "admin:import"
    # Admin and auditor: access log and change records.
    AUDIT_READ = "audit:read"
    # Facility: file urgent reports (緊急連絡, F-URGENT).
    URGENT_FILE = "urgent:file"
    # Facility and centre: see urgent reports in scope (the facility its own, without centre-only notes).
    URGENT_VIEW = "urgent:view"
    # Centre: acknowledge, record responses, close.
    URGENT_HANDLE = "urgent:handle"
    # Facility and centre: the per-child message threads (連絡帳, F-MSG).
    MESSAGES_USE = "messages:use"
    # Centre: see alerts (absence streaks, no-contact absences) of its children.
    ALERTS_VIEW = "alerts:view"
    # Centre: acknowledge and resolve alerts.
    ALERTS_HANDLE = "alerts:handle"
    # Facility and admin: enter a facility's daily attendance (日々の出欠, F-DAILY).
    ATTENDANCE_ENTER = "attendance:enter"
    # Facility, centre and admin: read daily attendance in scope.
    ATTENDANCE_VIEW = "attendance:view"
    # Facility (its own) and admin: a facility's closures and extra open days (休業期間・特別開所日).
    CLOSURES_MANAGE = "closures:manage"

    # Facility: read the ward's notices (お知らせ) addressed to it.
    NOTICES_READ = "notices:read"
    # Admin: write, change and withdraw notices, including planned stops (O-247).
    NOTICES_MANAGE = "notices:manage"
    # Admin: link children as siblings (F-SIB).
    SIBLINGS_MANAGE = "children:siblings"
    # Admin: the April roll-over (F-ROLLOVER).
    ROLLOVER = "children:rollover"

ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.ADMIN: frozenset(
        {
            Permission.ACCOUNT_SELF,
            Permission.CHILDREN_VIEW,
            Permission.CHILDREN_MANAGE,
            Permission.REPORTS_EXPORT,
            Permission.ADMIN_MASTERS,
            Permission.ADMIN_ACCOUNTS,
            Permission.ADMIN_IMPORT,
            Permission.ATTENDANCE_ENTER,
            Permission.ATTENDANCE_VIEW,
            Permission.CLOSURES_MANAGE,
            Permission.AUDIT_READ,
            Permission.NOTICES_MANAGE,
            Permission.SIBLINGS_MANAGE,
            Permission.ROLLOVER,
        }
    ),
    Role.CASEWORKER: frozenset(
        {
            Permission.ACCOUNT_SELF,
            Permission.CHILDREN_VIEW,
            Permission.CHILDREN_MANAGE,
            Permission.REPORTS_REVIEW,
            Permission.URGENT_VIEW,
            Permission.URGENT_HANDLE,
            Permission.MESSAGES_USE,
            Permission.ATTENDANCE_VIEW,
            Permission.ALERTS_VIEW,
            Permission.ALERTS_HANDLE,
            Permission.REPORTS_EXPORT,
        }
    ),
    Role.FACILITY: frozenset(
        {
            Permission.ACCOUNT_SELF,
            Permission.CHILDREN_VIEW,
            Permission.REPORTS_ENTER,
            Permission.URGENT_FILE,
            Permission.URGENT_VIEW,
            Permission.MESSAGES_USE,
            Permission.ATTENDANCE_ENTER,
            Permission.ATTENDANCE_VIEW,
            Permission.CLOSURES_MANAGE,
            Permission.NOTICES_READ,
        }
    ),
    Role.AUDITOR: frozenset({Permission.ACCOUNT_SELF, Permission.AUDIT_READ}),
}


def role_has(role: Role | str | None, permission: Permission | str) -> bool:
    if role is None:
        return False
    return Permission(permission) in ROLE_PERMISSIONS.get(Role(role), frozenset())
