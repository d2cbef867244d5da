"""Account administration: list, create, change, disable, reset (F-ADMIN, S-AUTH).

New accounts and resets get a random temporary password that is returned to
the caller once, to be shown to the admin; only its hash is stored, and the
account must change it at the first login. Nothing is ever mailed.
"""

from __future__ import annotations

import secrets

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from webapp.accounts.admin_forms import ROLE_ORGANISATION
from webapp.accounts.models import Account
from webapp.accounts.services import PasswordService, SessionService
from webapp.i18n import _
from webapp.organisations.services import (
    Page,
    delete_or_disable,
    DeleteResult,
    flush_unique,
    paginate,
    search_terms,
)

# No 0/O, 1/l/i: the admin may read the password out over the phone.
TEMPORARY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"


def temporary_password() -> str:
    """16 random characters (about 79 bits) in groups of four: ``abcd-efgh-jkmn-pqrs``."""
    chars = "".join(secrets.choice(TEMPORARY_ALPHABET) for _ in range(16))
    return "-".join(chars[i : i + 4] for i in range(0, 16, 4))


def bulk_password_service() -> PasswordService:
    """argon2id with the lowest costs, for temporary passwords issued by the thousand.

    Costly hashing protects passwords people choose, which are guessable. A
    temporary password is 79 random bits: no amount of guessing finds it, so
    the cost would only make a 2,000-account import take minutes. The hash is
    replaced with a full-cost one when the user sets their own password.
    """
    return PasswordService(time_cost=1, memory_cost=1024)


def place_organisation(account: Account, role, centre_id, facility_id) -> None:
    """Sets the organisation the role needs and clears the other (the database checks it too)."""
    needed = ROLE_ORGANISATION.get(role)
    account.centre_id = centre_id if needed == "centre" else None
    account.facility_id = facility_id if needed == "facility" else None


class AccountAdminService:
    def __init__(self, db, passwords: PasswordService, sessions: SessionService | None = None):
        self.db = db
        self.passwords = passwords
        self.sessions = sessions

    def search(self, q: str | None, number: int) -> Page:
        query = sa.select(Account).options(joinedload(Account.centre), joinedload(Account.facility))
        for term in search_terms(q):
            query = query.where(sa.or_(
                Account.login.icontains(term, autoescape=True),
                Account.display_name.icontains(term, autoescape=True),
            ))
        return paginate(self.db, query.order_by(Account.login, Account.id), number)

    def get(self, account_id: int) -> Account | None:
        return self.db.get(Account, account_id)

    def login_taken(self, login: str, except_id: int | None = None) -> bool:
        query = sa.select(Account.id).where(sa.func.lower(Account.login) == login.lower())
        if except_id is not None:
            query = query.where(Account.id != except_id)
        return self.db.scalar(query) is not None

    def create(self, values: dict) -> tuple[Account | None, str | None, dict]:
        """A new account with a temporary password: (account, password, errors)."""
        duplicate = _("このログインIDは既に使われています。")
        if self.login_taken(values["login"]):
            return None, None, {"login": duplicate}
        password = temporary_password()
        account = Account(login=values["login"], display_name=values["display_name"], role=values["role"],
                          active=values["active"], email=values.get("email"), must_change_password=True,
                          password_hash=self.passwords.hash(password))
        place_organisation(account, values["role"], values.get("centre_id"), values.get("facility_id"))
        errors = flush_unique(self.db, account, "login", duplicate)
        if errors:
            return None, None, errors
        return account, password, {}

    def update(self, account: Account, values: dict) -> dict:
        duplicate = _("このログインIDは既に使われています。")
        if self.login_taken(values["login"], account.id):
            return {"login": duplicate}
        was_active = account.active
        for name in ("login", "display_name", "role", "active"):
            setattr(account, name, values[name])
        account.email = values.get("email")
        place_organisation(account, values["role"], values.get("centre_id"), values.get("facility_id"))
        errors = flush_unique(self.db, account, "login", duplicate)
        if not errors and was_active and not account.active and self.sessions is not None:
            self.sessions.end_all_for(account)
        return errors

    def reset_password(self, account: Account) -> str:
        """A new temporary password; every session of the account ends."""
        password = temporary_password()
        account.password_hash = self.passwords.hash(password)
        account.must_change_password = True
        if self.sessions is not None:
            self.sessions.end_all_for(account)
        return password

    def delete(self, account: Account) -> DeleteResult:
        result = delete_or_disable(self.db, account)
        if not result.deleted and self.sessions is not None:
            self.sessions.end_all_for(account)
        return result
