"""Validation of the alert forms: the list's filters, the edit token, the resolution note."""

from __future__ import annotations

from webapp.alerts.models import RESOLUTION_NOTE_MAX, AlertLevel, AlertStatus
from webapp.forms import FormErrors, Validator, clean_text
from webapp.i18n import _


def clean_filter(raw, enum_class):
    """A list filter from the query string: unknown values mean "all", never an error page."""
    if not isinstance(raw, str):
        return None
    try:
        return enum_class(raw)
    except ValueError:
        return None


def list_filters(params) -> tuple[AlertStatus | None, AlertLevel | None, bool]:
    """Status, level (注意 / 要対応) and 連絡なし only; an odd value means "all"."""
    return (clean_filter(params.get("status"), AlertStatus), clean_filter(params.get("level"), AlertLevel),
            params.get("no_contact") == "1")


# The list's default: every unresolved alert, and the resolved ones raised in these last days;
# resolved ones older than that are read a page at a time, newest first (``?older=1``).
RECENT_DAYS = 90


def clean_before(raw) -> int | None:
    """The older list's cursor: the id of the last alert of the page before; odd values mean the first page."""
    if not isinstance(raw, str) or not raw.isascii() or not raw.isdigit() or len(raw) > 9:
        return None
    return int(raw)


def clean_version(raw) -> int | None:
    """The version the form was shown with; anything odd is treated as stale (409)."""
    if not isinstance(raw, str) or not raw.isascii() or not raw.isdigit() or len(raw) > 9:
        return None
    return int(raw)


def validate_resolution(post) -> tuple[str | None, FormErrors]:
    v = Validator(post)
    note = v.field("note", clean_text, max_length=RESOLUTION_NOTE_MAX, required=True, multiline=True)
    raw = post.get("note")
    if "note" in v.errors and (not isinstance(raw, str) or not raw.strip()):
        v.errors["note"] = _("対応内容を入力してください。")
    return note, v.errors
