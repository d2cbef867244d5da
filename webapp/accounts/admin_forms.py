"""Validation of account input by admins, shared by the admin form and the CSV import.

Passwords are never part of this input: new accounts and resets get a
temporary password generated here on the server (S-AUTH).
"""

from __future__ import annotations

import re
import unicodedata

from webapp.authz import ROLE_LABELS, Role
from webapp.forms import Validator, clean_text
from webapp.i18n import _
from webapp.organisations.forms import clean_active

LOGIN_PATTERN = re.compile(r"[A-Za-z0-9._-]{3,64}")

# Who belongs where: the organisation column an account of each role needs.
ROLE_ORGANISATION = {
    Role.CASEWORKER: "centre",
    Role.FACILITY: "facility",
    Role.ADMIN: None,
    Role.AUDITOR: None,
}


def clean_login(raw):
    text = unicodedata.normalize("NFKC", raw or "").strip() if isinstance(raw, str) else ""
    if not text:
        return None, _("入力してください。")
    if not LOGIN_PATTERN.fullmatch(text):
        return None, _("ログインIDは半角英数字と . _ - の3〜64文字で入力してください。")
    return text, None


def clean_role(raw):
    text = unicodedata.normalize("NFKC", raw or "").strip() if isinstance(raw, str) else ""
    if not text:
        return None, _("選択してください。")
    for role in Role:
        if text in (role.value, ROLE_LABELS[role]):
            return role, None
    return None, _("選択肢から選んでください（${choices}）。",
                   mapping={"choices": "・".join(ROLE_LABELS[r] for r in Role)})


EMAIL_MAX = 254


def clean_email(raw):
    """An optional notification address: plain ASCII ``name@domain`` (what the mail outbox accepts)."""
    from webapp.mail.services import RecipientError, check_address

    text = unicodedata.normalize("NFKC", raw).strip() if isinstance(raw, str) else ""
    if not text:
        return None, None
    if len(text) > EMAIL_MAX:
        return None, _("${max}文字以内で入力してください（現在${length}文字）。",
                       mapping={"max": EMAIL_MAX, "length": len(text)})
    try:
        return check_address(text), None
    except RecipientError:
        return None, _("メールアドレスは name@example.jp の形式で、半角英数字で入力してください。")


def validate_account(data, *, active_default: bool = True) -> Validator:
    """Login, display name, role and state. The organisation is resolved by the caller
    (an id from a form, a code from a CSV file) with :func:`organisation_error`."""
    v = Validator(data)
    v.field("login", clean_login)
    v.field("display_name", clean_text, max_length=100, required=True)
    v.field("role", clean_role)
    v.field("active", clean_active, default=active_default)
    v.field("email", clean_email)
    return v


def organisation_error(role: Role | None, centre, facility):
    """The message for a role whose organisation is missing, or None when it fits."""
    needed = ROLE_ORGANISATION.get(role) if role else None
    if needed == "centre" and centre is None:
        return "centre", _("センター職員には所属センターを指定してください。")
    if needed == "facility" and facility is None:
        return "facility", _("施設職員には所属施設を指定してください。")
    return None
