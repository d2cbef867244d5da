"""Small, explicit server-side validation shared by every form.

A form is validated into ``(values, errors)``: ``values`` are the cleaned
Python values, ``errors`` maps a field name to a Japanese message (a
TranslationString). Views re-render the form with the user's raw input and
the errors beside each field; nothing the user typed is lost.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata

from webapp.i18n import _

# Control characters other than tab/newline never belong in a form field.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class FormErrors(dict):
    """field name -> message; ``_form`` for errors not tied to one field."""


def clean_text(raw, *, max_length: int, required: bool = False, multiline: bool = False):
    """NFC-normalised, stripped text. Returns (value, error)."""
    if raw is None:
        raw = ""
    if not isinstance(raw, str):
        return None, _("文字で入力してください。")
    text = unicodedata.normalize("NFC", raw).strip()
    if not multiline:
        text = text.replace("\r", " ").replace("\n", " ")
    else:
        text = text.replace("\r\n", "\n")
    if _CONTROL.search(text):
        return None, _("使用できない制御文字が含まれています。")
    if required and not text:
        return None, _("入力してください。")
    if len(text) > max_length:
        return None, _("${max}文字以内で入力してください（現在${length}文字）。",
                       mapping={"max": max_length, "length": len(text)})
    return (text or None), None


def clean_int(raw, *, minimum: int, maximum: int, required: bool = True):
    """An integer in [minimum, maximum]; full-width digits accepted."""
    text = unicodedata.normalize("NFKC", raw or "").strip() if isinstance(raw, str) else ""
    if not text:
        if required:
            return None, _("入力してください。")
        return None, None
    if not re.fullmatch(r"-?\d{1,6}", text):
        return None, _("半角の整数で入力してください。")
    value = int(text)
    if value < minimum or value > maximum:
        return None, _("${min}から${max}までの数を入力してください。", mapping={"min": minimum, "max": maximum})
    return value, None


# Every date the application accepts from a user, in a form, a query or a URL.
# Far inside what ``datetime.date`` can hold, so a day either side (the
# previous/next links) or a month's end never overflows, and far outside any
# real child's record.
FIRST_DAY = dt.date(2000, 1, 1)
LAST_DAY = dt.date(2199, 12, 31)


def clean_date(raw, *, required: bool = True):
    """A date between FIRST_DAY and LAST_DAY; 2026/4/1 and full-width digits accepted."""
    text = unicodedata.normalize("NFKC", raw or "").strip() if isinstance(raw, str) else ""
    if not text:
        return None, (_("日付を入力してください。") if required else None)
    text = text.replace("/", "-")
    try:
        value = dt.date.fromisoformat(text)
    except ValueError:
        return None, _("日付は 2026-04-01 の形式で入力してください。")
    if not FIRST_DAY <= value <= LAST_DAY:
        return None, _("${first}から${last}までの日付を入力してください。",
                       mapping={"first": FIRST_DAY.isoformat(), "last": LAST_DAY.isoformat()})
    return value, None


_ISO_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def path_day(text) -> dt.date | None:
    """A date in a URL (``2026-11-26`` exactly, in range), or None: the page does not exist."""
    if not isinstance(text, str) or not _ISO_DAY.fullmatch(text):
        return None
    value, error = clean_date(text)
    return value if error is None else None


def shift_day(day: dt.date, days: int) -> dt.date | None:
    """``day`` moved by ``days``, or None past the accepted range (no link there, no OverflowError)."""
    if not FIRST_DAY.toordinal() <= day.toordinal() + days <= LAST_DAY.toordinal():
        return None
    return day + dt.timedelta(days=days)


def clean_choice(raw, choices, *, required: bool = True):
    """One of ``choices`` (an iterable of allowed string values)."""
    text = raw.strip() if isinstance(raw, str) else ""
    if not text:
        return None, (_("選択してください。") if required else None)
    if text not in {str(c) for c in choices}:
        return None, _("選択肢から選んでください。")
    return text, None


class Validator:
    """Collects cleaned values and errors field by field."""

    def __init__(self, data):
        self.data = data
        self.values: dict = {}
        self.errors = FormErrors()

    def field(self, name, cleaner, **kwargs):
        value, error = cleaner(self.data.get(name), **kwargs)
        if error is not None:
            self.errors[name] = error
        self.values[name] = value
        return value

    def error(self, name, message):
        self.errors.setdefault(name, message)

    @property
    def ok(self) -> bool:
        return not self.errors


def query_text(params, key: str) -> str:
    """One filter parameter as text: missing, or not text (an uploaded file in a
    POST), reads as "". List filters ignore what they cannot read."""
    value = params.get(key, "")
    return value if isinstance(value, str) else ""


def search_text(params, key: str = "q", max_length: int = 100) -> str:
    """A free-text search box's value: what the user can see of it. Control characters are
    dropped (PostgreSQL refuses NUL in a query parameter: a typed or pasted one must not be a
    500), runs of blanks become one space, and it is cut at ``max_length``."""
    text = "".join(ch for ch in query_text(params, key) if ch.isprintable() or ch.isspace())
    return " ".join(text.split())[:max_length]


def enum_member(enum_cls, value: str):
    """The member of ``enum_cls`` whose value is ``value``, or None."""
    return enum_cls(value) if value in enum_cls._value2member_map_ else None
