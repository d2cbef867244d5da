"""Who gets an email: the addresses of an organisation's active accounts (F-NOTIFY).

In the accounts area because it reads accounts (mail sits below accounts, DESIGN.md §13).
Accounts without an address, inactive accounts and addresses that would not
pass :func:`check_address` (stored before validation existed) are left out:
those people see the news in the application only, and a bad address never
makes the action that caused the email fail.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from webapp.accounts.models import Account
from webapp.authz import Role
from webapp.mail.services import RecipientError, check_address


def _usable(addresses) -> list[str]:
    usable = []
    for address in addresses:
        try:
            usable.append(check_address(address))
        except RecipientError:
            continue
    return usable


def _addresses(session: Session, *criteria) -> list[str]:
    return _usable(session.scalars(
        sa.select(Account.email)
        .where(Account.active.is_(True), Account.email.is_not(None), Account.email != "", *criteria)
        .order_by(Account.id)
    ))


def caseworker_addresses(session: Session, centre_id: int) -> list[str]:
    """The centre's caseworkers: told of a new urgent report."""
    return _addresses(session, Account.role == Role.CASEWORKER, Account.centre_id == centre_id)


def facility_addresses(session: Session, facility_id: int) -> list[str]:
    """The facility's own accounts: told when the centre returns a report or answers an urgent report."""
    return _addresses(session, Account.role == Role.FACILITY, Account.facility_id == facility_id)
